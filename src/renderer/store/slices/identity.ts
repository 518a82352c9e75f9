/**
 * Who we are: the keys, the active identity, and the passphrase prompt. A
 * call refused because the key is locked opens the prompt with what to do
 * once it is unlocked; the passphrase goes to the engine and nowhere else.
 */
import type { IdentityChoice, IdentityStatus, KeyInfo, NetsyncApi } from '../../../shared/api.js';
import { coalesced } from '../coalesce.js';
import type { ErrorText, SliceCreator } from '../types.js';

/** What was refused for a locked key, done again once it is unlocked. */
export type RetryAction = { kind: 'diff' | 'sync'; peerId: string } | { kind: 'serve' };

export interface UnlockPrompt {
  key: string;
  retry: RetryAction | null;
  busy: boolean;
  error: ErrorText;
}

export interface IdentityState {
  keys: KeyInfo[];
  status: IdentityStatus | null;
  busy: boolean;
  error: ErrorText;
  generated: KeyInfo | null;
  imported: KeyInfo | null;
  importError: ErrorText;
  unlock: UnlockPrompt | null;
}

export interface IdentitySlice {
  identity: IdentityState;
  loadKeys(): Promise<void>;
  generateKey(name: string, passphrase?: string): Promise<boolean>;
  importKey(text: string): Promise<boolean>;
  chooseIdentity(choice: IdentityChoice): Promise<void>;
  /** Opens the passphrase prompt for `key`; `retry` runs after a successful unlock. */
  requestUnlock(key: string, retry?: RetryAction): void;
  submitPassphrase(passphrase: string): Promise<boolean>;
  cancelUnlock(): void;
  applyIdentity(status: IdentityStatus): void;
}

export const createIdentitySlice =
  (api: NetsyncApi): SliceCreator<IdentitySlice> =>
  (set, get) => {
    const patch = (p: Partial<IdentityState>) => set((s) => ({ identity: { ...s.identity, ...p } }));
    const patchUnlock = (p: Partial<UnlockPrompt>) =>
      set((s) => (s.identity.unlock ? { identity: { ...s.identity, unlock: { ...s.identity.unlock, ...p } } } : s));

    const retry = async (action: RetryAction | null) => {
      if (!action) return;
      if (action.kind === 'serve') await get().startServer();
      else if (action.kind === 'diff') await get().diffPeer(action.peerId);
      else await get().syncPeer(action.peerId);
    };

    return {
      identity: { keys: [], status: null, busy: false, error: null, generated: null, imported: null, importError: null, unlock: null },

      // Asked for by every change of the database: one read at a time, and one more after it if asked meanwhile.
      loadKeys: coalesced<void>(
        async () => {
          const [keys, status] = await Promise.all([api.listKeys(), api.getIdentity()]);
          patch({
            ...(keys.ok ? { keys: keys.value } : { error: keys.error.message }),
            ...(status.ok ? { status: status.value } : {}),
          });
        },
        () => undefined,
      ),

      async generateKey(name, passphrase) {
        patch({ busy: true, error: null, generated: null });
        const r = await api.generateKey(name, passphrase || undefined);
        if (!r.ok) {
          patch({ busy: false, error: r.error.message });
          return false;
        }
        patch({ busy: false, generated: r.value });
        await get().loadKeys();
        return true;
      },

      async importKey(text) {
        patch({ importError: null, imported: null });
        const r = await api.importKey(text.trim());
        if (!r.ok) {
          patch({ importError: r.error.message });
          return false;
        }
        patch({ imported: r.value });
        await get().loadKeys();
        return true;
      },

      async chooseIdentity(choice) {
        const before = get().identity.status;
        // Shown at once (a radio button that waits for the engine looks broken); put back if refused.
        patch({ error: null, status: { unlocked: [], ...before, active: choice, chosen: true } });
        const r = await api.setIdentity(choice);
        patch(r.ok ? { status: r.value } : { status: before, error: r.error.message });
      },

      requestUnlock(key, action) {
        patch({ unlock: { key, retry: action ?? null, busy: false, error: null } });
      },

      async submitPassphrase(passphrase) {
        const prompt = get().identity.unlock;
        if (!prompt) return false;
        patchUnlock({ busy: true, error: null });
        const r = await api.unlockKey(prompt.key, passphrase);
        if (!r.ok) {
          patchUnlock({ busy: false, error: r.error.message });
          return false;
        }
        patch({ status: r.value, unlock: null });
        await retry(prompt.retry);
        return true;
      },

      cancelUnlock() {
        patch({ unlock: null });
      },

      applyIdentity(status) {
        patch({ status });
      },
    };
  };
