/**
 * First contact with a server, asked of the user: the engine's
 * `onNewServer(fingerprint, address)` becomes a 'confirm-server' event, and
 * the session waits for `answerServerPrompt` (from any window; the first
 * answer wins), a timeout (which refuses), or the session's cancellation.
 */
import { randomUUID } from 'node:crypto';
import type { NetsyncEvent, Peer, PromptOutcome, ServerPrompt } from '../../shared/api.js';

/** Long enough to compare 64 hex digits with what the server's owner reads out. */
export const PROMPT_TIMEOUT_MS = 120_000;

interface Open {
  prompt: ServerPrompt;
  settle: (outcome: PromptOutcome) => void;
}

export class ServerPrompts {
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly emit: (event: NetsyncEvent) => void,
    private readonly timeoutMs = PROMPT_TIMEOUT_MS,
  ) {}

  list(): ServerPrompt[] {
    return [...this.open.values()].map((o) => ({ ...o.prompt }));
  }

  ask(peer: Pick<Peer, 'id' | 'name'>, address: string, fingerprint: string, signal?: AbortSignal): Promise<PromptOutcome> {
    if (signal?.aborted) return Promise.resolve('cancelled');
    const prompt: ServerPrompt = {
      id: randomUUID(),
      peerId: peer.id,
      peerName: peer.name,
      address,
      fingerprint,
      expiresAt: new Date(Date.now() + this.timeoutMs).toISOString(),
    };
    return new Promise<PromptOutcome>((resolve) => {
      const onAbort = () => settle('cancelled');
      const timer = setTimeout(() => settle('timeout'), this.timeoutMs);
      const settle = (outcome: PromptOutcome) => {
        if (!this.open.delete(prompt.id)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.emit({ type: 'confirm-server-closed', promptId: prompt.id, outcome });
        resolve(outcome);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.open.set(prompt.id, { prompt, settle });
      this.emit({ type: 'confirm-server', prompt: { ...prompt } });
    });
  }

  /** False when the question was already answered, timed out or cancelled. */
  answer(promptId: string, accept: boolean): boolean {
    const o = this.open.get(promptId);
    if (!o) return false;
    o.settle(accept ? 'accepted' : 'refused');
    return true;
  }

  /** Refuses every open question (the app is shutting down). */
  closeAll(): void {
    for (const o of [...this.open.values()]) o.settle('cancelled');
  }
}
