/** Signing keys as the UI lists them: private halves from the key folder, public ones from the database. */
import type { KeyInfo } from '../../shared/api.js';
import { toHex } from '../hash.js';
import { encodeKey, itemId } from '../items/format.js';
import { KeyStore } from '../keys/keystore.js';
import { ReadStore, WriteStore } from '../store/store.js';

export function listKeys(keys: KeyStore, db: string | null): KeyInfo[] {
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
    const id = toHex(itemId(encodeKey(k.name, k.publicKey)));
    rows.set(id, { name: k.name, id, publicKey: k.publicKey.toString('base64'), hasPrivate: true, encrypted: k.encrypted, inDatabase: inDb.has(id) });
  }
  for (const [id, k] of inDb) {
    if (!rows.has(id)) rows.set(id, { name: k.name, id, publicKey: k.publicKey.toString('base64'), hasPrivate: false, encrypted: false, inDatabase: true });
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** Makes a key pair; its public item goes into the open database, as `netsync key generate` does. */
export function generateKey(keys: KeyStore, db: string | null, name: string, passphrase?: string): KeyInfo {
  const pair = keys.generate(name, passphrase);
  const keyItem = encodeKey(name, pair.publicKey);
  if (db) {
    const store = WriteStore.open(db);
    try {
      store.put(keyItem);
    } finally {
      store.close();
    }
  }
  const id = toHex(itemId(keyItem));
  return { name, id, publicKey: pair.publicKey.toString('base64'), hasPrivate: true, encrypted: !!passphrase, inDatabase: db !== null };
}
