/**
 * Runs diffs and syncs against peers: one session per peer at a time, each
 * cancellable, its engine progress forwarded as events and its live state
 * summarised per peer.
 */
import { randomUUID } from 'node:crypto';
import { formatAddress, parseAddress } from '../../shared/address.js';
import type { ApiError, NetsyncEvent, Peer, PeerState, SessionInfo } from '../../shared/api.js';
import type { Phase, SessionSummary } from '../../shared/sync.js';
import { fail } from '../errors.js';
import type { ClientOptions } from '../protocol/api.js';
import { refuse, toApiError } from './errors.js';

export type RunClientSession = (opts: ClientOptions) => Promise<SessionSummary>;

/** How many diff rows per side a summary carries to the UI (counts and groups are always complete). */
export const DIFF_LIST_LIMIT = 5000;

const PEER_STATE: Record<Phase, PeerState> = {
  connecting: 'connecting',
  handshake: 'connecting',
  refining: 'refining',
  transferring: 'transferring',
  done: 'done',
  error: 'error',
  cancelled: 'cancelled',
};

/** What the engine's ClientOptions.patterns wants: includes, then excludes prefixed with '!'. */
export function clientPatterns(peer: Pick<Peer, 'include' | 'exclude'>): string[] {
  return [...peer.include, ...peer.exclude.map((p) => `!${p}`)];
}

interface Running {
  info: SessionInfo;
  controller: AbortController;
}

export type SessionOutcome = { ok: true; info: SessionInfo; summary: SessionSummary } | { ok: false; info: SessionInfo; error: ApiError };

export class SessionRunner {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly runClientSession: RunClientSession,
    private readonly emit: (event: NetsyncEvent) => void,
    /** Keys, pinned servers: the service's config folder, not whatever the environment says. */
    private readonly configDir: string,
  ) {}

  list(): SessionInfo[] {
    return [...this.running.values()].map((r) => ({ ...r.info }));
  }

  cancel(sessionId: string): boolean {
    const r = this.running.get(sessionId);
    if (!r) return false;
    r.controller.abort();
    return true;
  }

  cancelAll(): void {
    for (const r of this.running.values()) r.controller.abort();
  }

  async run(peer: Peer, db: string, dryRun: boolean): Promise<SessionOutcome> {
    const target = parseAddress(peer.address);
    if (!target) fail('usage', `"${peer.address}" is not an address (HOST or HOST:PORT)`);
    if ([...this.running.values()].some((r) => r.info.peerId === peer.id)) refuse('busy', `a session with ${peer.name} is already running`);
    if (peer.include.length === 0) fail('usage', `no branch pattern is set for ${peer.name}; add at least one to include`);

    const info: SessionInfo = { sessionId: randomUUID(), peerId: peer.id, direction: peer.direction, dryRun, startedAt: new Date().toISOString() };
    const controller = new AbortController();
    this.running.set(info.sessionId, { info, controller });
    this.emit({ type: 'session-started', session: { ...info } });
    let state: PeerState = 'connecting';
    this.emit({ type: 'peer-status', peerId: peer.id, state });
    try {
      const summary = await this.runClientSession({
        db,
        host: target.host,
        port: target.port,
        patterns: clientPatterns(peer),
        direction: peer.direction,
        dryRun,
        signal: controller.signal,
        listLimit: DIFF_LIST_LIMIT,
        configDir: this.configDir,
        onProgress: (progress) => {
          this.emit({ type: 'session-progress', sessionId: info.sessionId, peerId: peer.id, progress });
          const next = PEER_STATE[progress.phase];
          // 'done' and 'error' are announced once the session has really ended, below.
          if (next !== state && next !== 'done' && next !== 'error' && next !== 'cancelled') {
            state = next;
            this.emit({ type: 'peer-status', peerId: peer.id, state });
          }
        },
      });
      this.emit({ type: 'session-finished', sessionId: info.sessionId, peerId: peer.id, summary });
      this.emit({ type: 'peer-status', peerId: peer.id, state: 'done' });
      return { ok: true, info, summary };
    } catch (e) {
      const error: ApiError = controller.signal.aborted ? { code: 'cancelled', message: `The session with ${peer.name} was cancelled.` } : toApiError(e, formatAddress(target));
      this.emit({ type: 'session-finished', sessionId: info.sessionId, peerId: peer.id, error });
      this.emit({ type: 'peer-status', peerId: peer.id, state: error.code === 'cancelled' ? 'cancelled' : 'error', error });
      return { ok: false, info, error };
    } finally {
      this.running.delete(info.sessionId);
    }
  }
}
