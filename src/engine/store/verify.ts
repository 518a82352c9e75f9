/**
 * What makes an item acceptable: its bytes decode canonically, they hash to
 * the id the sender claimed, every item it names is already stored with the
 * right kind (and size, for chunks), and a cert's signature verifies against
 * its key. The same function guards local commits, received items and
 * `db check`, so there is one definition of "verified".
 */
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { verifySignature } from '../keys/ed25519.js';
import { EntryType, type Item, Kind, certSignedBytes, decodeItem } from '../items/format.js';
import type { ReadStore } from './store.js';

/** Decodes and verifies an item whose id (the hash of `bytes`) the caller has computed. */
export function verifyItem(store: ReadStore, bytes: Buffer, id: Buffer): Item {
  const item = decodeItem(bytes);
  verifyReferences(store, id, item);
  return item;
}

function requireKind(store: ReadStore, owner: Buffer, ref: Buffer, kind: Kind, what: string): { size: number } {
  const meta = store.meta(ref);
  if (!meta) fail('missing-reference', `${toHex(owner)} names ${what} ${toHex(ref)}, which is not stored`);
  if (meta.kind !== kind) fail('bad-item', `${toHex(owner)} names ${toHex(ref)} as a ${what}, but it is a ${store.kindName(meta.kind)}`);
  return meta;
}

export function verifyReferences(store: ReadStore, id: Buffer, item: Item): void {
  switch (item.kind) {
    case Kind.File:
      if (item.layout === 'chunked') {
        for (const c of item.chunks) {
          const meta = requireKind(store, id, c.id, Kind.Chunk, 'chunk');
          if (meta.size !== c.length) fail('bad-item', `${toHex(id)} gives chunk ${toHex(c.id)} length ${c.length}, it has ${meta.size}`);
        }
      }
      return;
    case Kind.Manifest:
      for (const e of item.entries) {
        if (e.type !== EntryType.Dir) requireKind(store, id, e.file!, Kind.File, 'file');
      }
      return;
    case Kind.Cert: {
      requireKind(store, id, item.manifest, Kind.Manifest, 'manifest');
      requireKind(store, id, item.key, Kind.Key, 'key');
      const key = store.get(item.key)!;
      const decoded = decodeItem(key.data);
      if (decoded.kind !== Kind.Key) fail('bad-item', 'cert key is not a key');
      const signed = certSignedBytes(item.manifest, item.key, item.name, item.value);
      if (!verifySignature(decoded.publicKey, signed, item.signature)) {
        fail('bad-signature', `cert ${toHex(id)} (${item.name}) has a signature that does not verify against key "${decoded.name}"`);
      }
      return;
    }
    case Kind.Chunk:
    case Kind.Key:
      return;
  }
}
