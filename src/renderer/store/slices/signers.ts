/**
 * Trust in content: whose signatures the user believes (a local decision,
 * docs/SECURITY.md §5). Trusting or untrusting a key re-marks every cert it
 * signed that a view holds (the log, the open manifest) and its row in the
 * key list, without fetching them again.
 */
import type { CertView, KeyInfo, NetsyncApi } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

export interface SignersState {
  /** The key whose trust is being changed now. */
  busyKey: string | null;
  error: ErrorText;
}

export interface SignersSlice {
  signers: SignersState;
  /** Trusts (or stops trusting) the signatures of a key, by its item id; false when refused. */
  setKeyTrust(keyId: string, trusted: boolean): Promise<boolean>;
  /** The trust list changed (here or in another window). */
  applyKeyTrust(keyId: string, trusted: boolean): void;
}

/** The same certs with those signed by `keyId` marked `trusted`; the same array when none changes. */
export function markSigner<C extends CertView>(certs: C[], keyId: string, trusted: boolean): C[] {
  if (!certs.some((c) => c.signerKey === keyId && c.trusted !== trusted)) return certs;
  return certs.map((c) => (c.signerKey === keyId ? { ...c, trusted } : c));
}

function markKey(keys: KeyInfo[], keyId: string, trusted: boolean): KeyInfo[] {
  if (!keys.some((k) => k.id === keyId && k.trusted !== trusted)) return keys;
  return keys.map((k) => (k.id === keyId ? { ...k, trusted } : k));
}

export const createSignersSlice =
  (api: NetsyncApi): SliceCreator<SignersSlice> =>
  (set, get) => {
    const patch = (p: Partial<SignersState>) => set((s) => ({ signers: { ...s.signers, ...p } }));

    return {
      signers: { busyKey: null, error: null },

      async setKeyTrust(keyId, trusted) {
        patch({ busyKey: keyId, error: null });
        const r = trusted ? await api.trustKey(keyId) : await api.untrustKey(keyId);
        if (!r.ok) {
          patch({ busyKey: null, error: r.error.message });
          return false;
        }
        patch({ busyKey: null });
        // The engine says what holds now: an own key stays trusted whatever was asked.
        get().applyKeyTrust(r.value.keyId, r.value.trusted);
        return true;
      },

      applyKeyTrust(keyId, trusted) {
        set((s) => {
          const { log, manifest } = s.collection;
          return {
            collection: {
              ...s.collection,
              log: log.map((e) => {
                const certs = markSigner(e.certs, keyId, trusted);
                return certs === e.certs ? e : { ...e, certs };
              }),
              manifest: manifest ? { ...manifest, certs: markSigner(manifest.certs, keyId, trusted) } : null,
            },
            identity: { ...s.identity, keys: markKey(s.identity.keys, keyId, trusted) },
          };
        });
      },
    };
  };
