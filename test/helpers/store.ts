/**
 * Stores and signed items for tests, built through the engine's public
 * encoders and `WriteStore.put` (so everything stored was verified).
 */
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { sha256 } from '../../src/engine/hash.js';
import { type KeyPair, publicKeyFromSeed, signBytes } from '../../src/engine/keys/ed25519.js';
import {
  type ChunkRef,
  EntryType,
  type ManifestEntry,
  certSignedBytes,
  encodeCert,
  encodeChunk,
  encodeChunkedFile,
  encodeInlineFile,
  encodeKey,
  encodeManifest,
  itemId,
} from '../../src/engine/items/format.js';
import { WriteStore } from '../../src/engine/store/store.js';
import type { Signer } from '../../src/engine/workspace/commit.js';
import { tempDir } from './temp.js';

/** RFC 8032 §7.1 TEST 1: a published Ed25519 seed and public key, so fixtures can be checked by anyone. */
export const RFC8032_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
export const RFC8032_PUBLIC = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');

/** A deterministic signer; different `name`s give different seeds. */
export function fixedSigner(name = 'alice@example.org', seed?: Uint8Array): Signer {
  const s = Buffer.from(seed ?? (name === 'alice@example.org' ? RFC8032_SEED : sha256(Buffer.from(`netsync/test-seed/${name}`))));
  const pair: KeyPair = { seed: s, publicKey: publicKeyFromSeed(s) };
  return { name, pair };
}

export function keyItemOf(signer: Signer): Buffer {
  return encodeKey(signer.name, signer.pair.publicKey);
}

export function keyIdOf(signer: Signer): Buffer {
  return itemId(keyItemOf(signer));
}

/** A new empty database file in a temp folder. */
export function newStore(): { store: WriteStore; path: string; dir: string } {
  const dir = tempDir('netsync-store-');
  const path = join(dir, 'test.db');
  return { store: WriteStore.open(path, { create: true }), path, dir };
}

/** A new database holding the key item of a deterministic signer. */
export function newStoreWithKey(name = 'alice@example.org'): { store: WriteStore; path: string; dir: string; signer: Signer; keyId: Buffer } {
  const s = newStore();
  const signer = fixedSigner(name);
  const keyId = s.store.put(keyItemOf(signer)).id;
  return { ...s, signer, keyId };
}

/** The bytes of a cert signed by `signer` (nothing stored). */
export function signedCert(signer: Signer, manifest: Uint8Array, name: string, value: string | Uint8Array): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const keyId = keyIdOf(signer);
  const signature = signBytes(signer.pair.seed, certSignedBytes(manifest, keyId, name, v));
  return encodeCert(manifest, keyId, name, v, signature);
}

export function putInlineFile(store: WriteStore, content: string | Uint8Array): Buffer {
  return store.put(encodeInlineFile(typeof content === 'string' ? Buffer.from(content) : content)).id;
}

/** Stores the chunks then the chunked file item; chunk contents as given (no chunker). */
export function putChunkedFile(store: WriteStore, chunks: readonly Uint8Array[]): Buffer {
  return store.batch(() => {
    const refs: ChunkRef[] = chunks.map((c) => ({ id: store.put(encodeChunk(c)).id, length: c.length }));
    return store.put(encodeChunkedFile(refs)).id;
  });
}

/**
 * Stores a manifest of plain files (paths may be nested: directory entries for
 * every parent are added). `files` maps path -> file item id.
 */
export function putManifest(store: WriteStore, files: Record<string, Buffer>, executables: readonly string[] = []): Buffer {
  return store.put(encodeManifest(manifestEntries(files, executables))).id;
}

export function manifestEntries(files: Record<string, Buffer>, executables: readonly string[] = []): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const dirs = new Set<string>();
  for (const [path, file] of Object.entries(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    entries.push({ path, type: executables.includes(path) ? EntryType.Executable : EntryType.File, file });
  }
  for (const d of dirs) entries.push({ path: d, type: EntryType.Dir });
  return entries;
}

/** Stores the signer's key (if needed) and a cert; returns the cert id. */
export function putCert(store: WriteStore, signer: Signer, manifest: Uint8Array, name: string, value: string | Uint8Array): Buffer {
  return store.batch(() => {
    store.put(keyItemOf(signer));
    return store.put(signedCert(signer, manifest, name, value)).id;
  });
}

/** A manifest of `fileCount` fresh random-content files put on `branch`; returns every id it added. */
export function putRandomRevision(
  store: WriteStore,
  signer: Signer,
  branch: string,
  fileContents: readonly Uint8Array[],
): { manifest: Buffer; files: Buffer[]; cert: Buffer } {
  return store.batch(() => {
    const files = fileContents.map((c) => putInlineFile(store, c));
    const map: Record<string, Buffer> = {};
    files.forEach((f, i) => (map[`f${i}`] = f));
    const manifest = putManifest(store, map);
    const cert = putCert(store, signer, manifest, 'branch', branch);
    return { manifest, files, cert };
  });
}

export function countRows(store: WriteStore, table: string): number {
  return store.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()!.n;
}

/** The index's part of a database's schema ('main' or an attached one): each table's and index's SQL, by name, spaces folded. */
export function indexShape(db: Database.Database, schema = 'main'): Record<string, string> {
  const rows = db
    .prepare<[], { name: string; sql: string }>(`SELECT name, sql FROM ${schema}.sqlite_master WHERE name <> 'items' AND sql IS NOT NULL ORDER BY name`)
    .all();
  return Object.fromEntries(rows.map((r) => [r.name, r.sql.replace(/\s+/g, ' ')]));
}
