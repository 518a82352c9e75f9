/**
 * Trust in servers: first-contact questions (the engine waits for an
 * answer before it pins a key), and accepting a server's new key after the
 * user checked it with its owner.
 */
import type { NetsyncApi, PromptOutcome, ServerKeyChange, ServerPrompt } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

export interface TrustState {
  /** Open first-contact questions, oldest first; the dialog shows the first. */
  prompts: ServerPrompt[];
  /** How the last question closed without an answer from here (timed out, answered elsewhere). */
  closedNote: ErrorText;
  error: ErrorText;
}

export interface TrustSlice {
  trust: TrustState;
  answerPrompt(promptId: string, accept: boolean): Promise<void>;
  /** Re-pins a server whose key changed, then connects again (a diff). */
  trustNewKey(peerId: string, change: ServerKeyChange): Promise<boolean>;
  dismissTrustNote(): void;
  applyPromptOpened(prompt: ServerPrompt): void;
  applyPromptClosed(promptId: string, outcome: PromptOutcome): void;
}

export const createTrustSlice =
  (api: NetsyncApi): SliceCreator<TrustSlice> =>
  (set, get) => {
    const patch = (p: Partial<TrustState>) => set((s) => ({ trust: { ...s.trust, ...p } }));
    const drop = (promptId: string) => set((s) => ({ trust: { ...s.trust, prompts: s.trust.prompts.filter((p) => p.id !== promptId) } }));

    return {
      trust: { prompts: [], closedNote: null, error: null },

      async answerPrompt(promptId, accept) {
        drop(promptId);
        patch({ closedNote: null });
        const r = await api.answerServerPrompt(promptId, accept);
        if (!r.ok) patch({ error: r.error.message });
        else if (!r.value)
          patch({ closedNote: 'That question had already closed (it timed out or was answered in another window); connect again to be asked again.' });
      },

      async trustNewKey(peerId, change) {
        const r = await api.trustServer(change.address, change.presented);
        if (!r.ok) {
          patch({ error: r.error.message });
          return false;
        }
        patch({ error: null });
        await get().diffPeer(peerId);
        return true;
      },

      dismissTrustNote() {
        patch({ closedNote: null, error: null });
      },

      applyPromptOpened(prompt) {
        set((s) => (s.trust.prompts.some((p) => p.id === prompt.id) ? s : { trust: { ...s.trust, prompts: [...s.trust.prompts, prompt], closedNote: null } }));
      },

      applyPromptClosed(promptId, outcome) {
        const wasOpen = get().trust.prompts.some((p) => p.id === promptId);
        drop(promptId);
        if (wasOpen && outcome === 'timeout') patch({ closedNote: 'Nobody answered in time, so the connection was refused and nothing was pinned.' });
      },
    };
  };
