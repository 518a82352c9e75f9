/**
 * Trust in content, for the app (docs/SECURITY.md §5): whose signatures the
 * UI shows as trusted, and changing that. The list is the command line's
 * (`<config>/trusted_keys`, read and written by TrustList), so trusting a key
 * in the app is the same local decision as `netsync key trust`, and the
 * user's own keys are trusted without being listed.
 */
import type { KeyTrustChange } from '../../shared/api.js';
import { toHex } from '../hash.js';
import { encodeKey, itemId } from '../items/format.js';
import type { KeyStore } from '../keys/keystore.js';
import { TrustList } from '../security/trust.js';
import { withReadStore } from './collection.js';
import { refuse } from './errors.js';

/** Whether certs signed by a key (its item id, hex) show as trusted. */
export type SignerTrust = (keyHex: string) => boolean;

/** Reads the trust list and the key folder once; use it for one answer, then drop it. */
export function signerTrust(configDir: string): SignerTrust {
  const isTrusted = new TrustList(configDir).checker();
  return (keyHex) => isTrusted(Buffer.from(keyHex, 'hex'));
}

export function trustKey(configDir: string, keys: KeyStore, db: string | null, keyHex: string): KeyTrustChange {
  const id = parseKeyId(keyHex);
  const own = ownKeyName(keys, id);
  // Listing an own key would change nothing now and leave it trusted after the private half is gone.
  if (own !== null) return { keyId: toHex(id), name: own, trusted: true, changed: false };
  const name = db ? databaseKeyName(db, id) : null;
  if (name === null) refuse('not-found', `no key with id ${shortKey(id)} is in this database or among your keys; import it in Identity first`);
  const changed = new TrustList(configDir).trust(id, name);
  return { keyId: toHex(id), name, trusted: true, changed };
}

export function untrustKey(configDir: string, keys: KeyStore, db: string | null, keyHex: string): KeyTrustChange {
  const id = parseKeyId(keyHex);
  const list = new TrustList(configDir);
  const own = ownKeyName(keys, id);
  // A listed key may be gone from the database (or never synced): the list's own name still says who it was.
  const name = list.explicit().get(toHex(id)) || own || (db ? databaseKeyName(db, id) : null);
  if (!name) refuse('not-found', `no key with id ${shortKey(id)} is in the trust list, this database or among your keys`);
  const changed = list.untrust(id);
  return { keyId: toHex(id), name, trusted: own !== null, changed };
}

function parseKeyId(keyHex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(keyHex)) refuse('usage', `"${keyHex.slice(0, 80)}" is not a key id (the key item's id: 64 hex digits)`);
  return Buffer.from(keyHex, 'hex');
}

function ownKeyName(keys: KeyStore, id: Buffer): string | null {
  return keys.list().find((k) => itemId(encodeKey(k.name, k.publicKey)).equals(id))?.name ?? null;
}

function databaseKeyName(db: string, id: Buffer): string | null {
  return withReadStore(db, (store) => store.key(id)?.name ?? null);
}

function shortKey(id: Buffer): string {
  return `${toHex(id).slice(0, 16)}…`;
}
