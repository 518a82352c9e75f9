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
import { type CertItem, type Item, KIND_NAMES, Kind, certSignedBytes, decodeItem, treeNodeCount } from '../items/format.js';
import { type NamedItem, namesOf } from '../items/names.js';
import type { ReadStore } from './store.js';

/** Decodes and verifies an item whose id (the hash of `bytes`) the caller has computed. */
export function verifyItem(store: ReadStore, bytes: Buffer, id: Buffer): Item {
  const item = decodeItem(bytes);
  verifyReferences(store, id, item);
  return item;
}

function requireStored(store: ReadStore, owner: Buffer, name: NamedItem): void {
  const what = name.or === undefined ? KIND_NAMES[name.kind] : `${KIND_NAMES[name.kind]} or ${KIND_NAMES[name.or]}`;
  const meta = store.meta(name.id);
  if (!meta) fail('missing-reference', `${toHex(owner)} names ${what} ${toHex(name.id)}, which is not stored`);
  if (meta.kind !== name.kind && meta.kind !== name.or)
    fail('bad-item', `${toHex(owner)} names ${toHex(name.id)} as a ${what}, but it is a ${store.kindName(meta.kind)}`);
  if (name.size !== undefined && meta.size !== name.size) {
    fail('bad-item', `${toHex(owner)} gives ${what} ${toHex(name.id)} length ${name.size}, it has ${meta.size}`);
  }
  if (name.node) requireNode(store, owner, name.id, name.node);
}

/** A tree index node's child is a node one level down covering exactly the entries the index says. */
function requireNode(store: ReadStore, owner: Buffer, child: Buffer, want: { level: number; count: number }): void {
  const bytes = store.get(child)!.data;
  if (bytes[1] !== want.level) fail('bad-item', `tree ${toHex(owner)} names ${toHex(child)} as a node of level ${want.level}, it is of level ${bytes[1]}`);
  const count = treeNodeCount(bytes);
  if (count !== want.count) fail('bad-item', `tree ${toHex(owner)} gives node ${toHex(child)} ${want.count} entries, it has ${count}`);
}

export function verifyReferences(store: ReadStore, id: Buffer, item: Item): void {
  for (const name of namesOf(item)) requireStored(store, id, name);
  if (item.kind === Kind.Cert) verifyCertSignature(store, id, item);
}

function verifyCertSignature(store: ReadStore, id: Buffer, cert: CertItem): void {
  const decoded = decodeItem(store.get(cert.key)!.data);
  if (decoded.kind !== Kind.Key) fail('bad-item', 'cert key is not a key');
  const signed = certSignedBytes(cert.manifest, cert.key, cert.name, cert.value);
  if (!verifySignature(decoded.publicKey, signed, cert.signature)) {
    fail('bad-signature', `cert ${toHex(id)} (${cert.name}) has a signature that does not verify against key "${decoded.name}"`);
  }
}
