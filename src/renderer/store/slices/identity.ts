/** Signing keys: the list, and generating a new one. */
import type { KeyInfo, NetsyncApi } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

export interface IdentityState {
  keys: KeyInfo[];
  busy: boolean;
  error: ErrorText;
  generated: KeyInfo | null;
}

export interface IdentitySlice {
  identity: IdentityState;
  loadKeys(): Promise<void>;
  generateKey(name: string, passphrase?: string): Promise<boolean>;
}

export const createIdentitySlice =
  (api: NetsyncApi): SliceCreator<IdentitySlice> =>
  (set, get) => {
    const patch = (p: Partial<IdentityState>) => set((s) => ({ identity: { ...s.identity, ...p } }));
    return {
      identity: { keys: [], busy: false, error: null, generated: null },

      async loadKeys() {
        const r = await api.listKeys();
        patch(r.ok ? { keys: r.value } : { error: r.error.message });
      },

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
    };
  };
