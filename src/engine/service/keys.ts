/** Signing keys as the UI lists them: private halves from the key folder, public ones from the database. */
import type { KeyInfo } from '../../shared/api.js';
import { toHex } from '../hash.js';
import { encodeKey, itemId } from '../items/format.js';
import type { KeyPair } from '../keys/ed25519.js';
import type { KeyStore } from '../keys/keystore.js';
import { formatPublicKey, parsePublicKey } from '../keys/public-key-text.js';
import { fingerprint } from '../security/fingerprint.js';
import { ReadStore, WriteStore } from '../store/store.js';
import type { SignerTrust } from './content-trust.js';

type KeyFacts = Pick<KeyInfo, 'hasPrivate' | 'encrypted' | 'inDatabase' | 'trusted'>;

function keyInfo(name: string, publicKey: Buffer, facts: KeyFacts): KeyInfo {
  const id = toHex(itemId(encodeKey(name, publicKey)));
  return { name, id, publicKey: publicKey.toString('base64'), ...facts, fingerprint: fingerprint(publicKey), exportText: formatPublicKey(name, publicKey) };
}

export function listKeys(keys: KeyStore, db: string | null, trusted: SignerTrust): KeyInfo[] {
  const inDb = new Map<string, { name: string; publicKey: Buffer }>();
  if (db) {
    const store = ReadStore.open(db);
    try {
      for (const k of store.keys()) inDb.set(toHex(k.id), k);
    } finally {
      store.close();
    }
  }
  const rows = new Map<string, KeyInfo>();
  for (const k of keys.list()) {
    // The user's own keys: trusted whatever the trust list says.
    const info = keyInfo(k.name, k.publicKey, { hasPrivate: true, encrypted: k.encrypted, inDatabase: false, trusted: true });
    rows.set(info.id, { ...info, inDatabase: inDb.has(info.id) });
  }
  for (const [id, k] of inDb) {
    if (!rows.has(id)) rows.set(id, keyInfo(k.name, k.publicKey, { hasPrivate: false, encrypted: false, inDatabase: true, trusted: trusted(id) }));
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

function putKeyItem(db: string, name: string, publicKey: Buffer): void {
  const store = WriteStore.open(db);
  try {
    store.put(encodeKey(name, publicKey));
  } finally {
    store.close();
  }
}

/** Makes a key pair; its public item goes into the open database, as `netsync key generate` does. */
export function generateKey(keys: KeyStore, db: string | null, name: string, passphrase?: string): { info: KeyInfo; pair: KeyPair } {
  const pair = keys.generate(name, passphrase);
  if (db) putKeyItem(db, name, pair.publicKey);
  return { info: keyInfo(name, pair.publicKey, { hasPrivate: true, encrypted: !!passphrase, inDatabase: db !== null, trusted: true }), pair };
}

/** Stores someone's exported public key in the database, as `netsync key import` does. */
export function importKey(keys: KeyStore, db: string, text: string, trusted: SignerTrust): KeyInfo {
  const { name, publicKey } = parsePublicKey(text, 'the pasted text');
  putKeyItem(db, name, publicKey);
  return listKeys(keys, db, trusted).find((k) => k.publicKey === publicKey.toString('base64') && k.name === name)!;
}
