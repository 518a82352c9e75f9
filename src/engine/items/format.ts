/**
 * The canonical byte encoding of items (docs/FORMAT.md is the normative text;
 * keep the two in step). An item's id is SHA-256 of its whole encoding, kind
 * byte included, so two implementations that follow FORMAT.md agree on ids.
 */
import { isUtf8 } from 'node:buffer';
import { fail } from '../errors.js';
import { ID_BYTES, sha256 } from '../hash.js';
import { type Raise, Reader, Writer } from '../codec.js';

export const enum Kind {
  File = 1,
  Chunk = 2,
  Manifest = 3,
  Cert = 4,
  Key = 5,
  /** Format v4: one node of a folder's listing (docs/FORMAT.md §12). */
  Tree = 6,
  /** Format v4: a version of a branch, its tree and its parents (docs/FORMAT.md §13). */
  Revision = 7,
}

export const KIND_NAMES: Record<Kind, string> = {
  [Kind.File]: 'file',
  [Kind.Chunk]: 'chunk',
  [Kind.Manifest]: 'manifest',
  [Kind.Cert]: 'cert',
  [Kind.Key]: 'key',
  [Kind.Tree]: 'tree',
  [Kind.Revision]: 'revision',
};

/** Files up to this size are stored inline in their file item. */
export const INLINE_MAX = 1 << 20;
/** No chunk is larger than this (content-defined chunking's hard cut). */
export const CHUNK_MAX = 4 << 20;
/** No item of any kind is larger than this; the wire protocol relies on it. */
export const ITEM_MAX = 8 << 20;
export const PATH_MAX = 4096;
export const CERT_VALUE_MAX = 1 << 20;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;
/** Bytes of one name in a tree listing (a path component): what Linux, macOS and Windows allow. */
export const NAME_MAX = 255;
/** Bytes of a symbolic link's target. */
export const TARGET_MAX = 4096;
/** Entries of one listing node, children of one index node: the hard cut when no name cuts sooner. */
export const NODE_MAX = 1024;
/** Levels of index nodes above the listing nodes: 1,024^8 entries is beyond any folder. */
export const LEVEL_MAX = 8;
/** Parents of one revision. */
export const PARENTS_MAX = 16;

export const enum EntryType {
  File = 0,
  Executable = 1,
  Dir = 2,
  /** Format v4 trees only: a symbolic link, its target as data (recorded by commit, never followed; checked out as a link). */
  Symlink = 3,
}

export interface ManifestEntry {
  path: string;
  type: EntryType;
  /** The file item's id; absent for directories. */
  file?: Buffer;
}

export interface ChunkRef {
  id: Buffer;
  length: number;
}

/** One entry of a folder's listing (a tree node of level 0). */
export interface TreeEntry {
  /** One path component: UTF-8, 1..NAME_MAX bytes, no '/', NUL or U+FFFD, not '.' or '..'. */
  name: string;
  type: EntryType;
  /** A file's file item, a folder's tree (its root node); absent for a link. */
  id?: Buffer;
  /** A link's target bytes. */
  target?: Buffer;
}

/** One child of an index node: a node one level down and how many entries it covers. */
export interface TreeChild {
  id: Buffer;
  count: number;
}

export type Item =
  | { kind: Kind.File; layout: 'inline'; size: number; content: Buffer }
  | { kind: Kind.File; layout: 'chunked'; size: number; chunks: ChunkRef[] }
  | { kind: Kind.Chunk; size: number; content: Buffer }
  | { kind: Kind.Manifest; entries: ManifestEntry[] }
  | { kind: Kind.Cert; manifest: Buffer; key: Buffer; name: string; value: Buffer; signature: Buffer }
  | { kind: Kind.Key; name: string; publicKey: Buffer }
  /** Level 0 lists `entries` (children empty); a higher level lists `children` (entries empty). */
  | { kind: Kind.Tree; level: number; entries: TreeEntry[]; children: TreeChild[] }
  | { kind: Kind.Revision; tree: Buffer; parents: Buffer[] };

export type CertItem = Extract<Item, { kind: Kind.Cert }>;
export type KeyItem = Extract<Item, { kind: Kind.Key }>;
export type ManifestItem = Extract<Item, { kind: Kind.Manifest }>;
export type FileItem = Extract<Item, { kind: Kind.File }>;
export type TreeItem = Extract<Item, { kind: Kind.Tree }>;
export type RevisionItem = Extract<Item, { kind: Kind.Revision }>;

/** Whatever is wrong with an item's bytes, it is a bad item. */
const badItem: Raise = (_problem, message) => fail('bad-item', message);

export function itemId(bytes: Uint8Array): Buffer {
  return sha256(bytes);
}

const CERT_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,254}$/;
/** Branch names: dotted reverse-domain style, as in monotone. */
const BRANCH_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}$/;

export function isValidKeyName(name: string): boolean {
  return KEY_NAME.test(name);
}

export function isValidBranchName(name: string): boolean {
  return BRANCH_NAME.test(name) && !name.includes('..');
}

export function isValidCertName(name: string): boolean {
  return CERT_NAME.test(name);
}

const DOT = 0x2e;

/** A manifest path: UTF-8, '/'-separated, no empty, '.' or '..' component, no NUL. */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'empty path';
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only long paths need counting.
  if (path.length * 3 > PATH_MAX && Buffer.byteLength(path) > PATH_MAX) return `path longer than ${PATH_MAX} bytes`;
  if (path.includes('\0')) return 'path contains NUL';
  // A name that is not UTF-8 reaches a program as U+FFFD: the character itself cannot be told from one.
  if (path.includes('\uFFFD'))
    return `path "${path}" contains U+FFFD, the replacement character, which Netsync does not record (it cannot be told from a name that is not UTF-8); rename it`;
  // Component by component without splitting: a commit and every manifest decode check each path.
  for (let start = 0; ; ) {
    const slash = path.indexOf('/', start);
    const end = slash < 0 ? path.length : slash;
    const dots = end - start <= 2 && path.charCodeAt(start) === DOT && (end - start === 1 || path.charCodeAt(start + 1) === DOT);
    if (end === start || dots) return `path "${path}" has an empty, "." or ".." component`;
    if (slash < 0) return null;
    start = slash + 1;
  }
}

// ---------------------------------------------------------------- encoding

/** The bytes before an inline file's content: an inline file item is these plus the content. */
export const INLINE_FILE_HEADER: Readonly<Buffer> = Buffer.of(Kind.File, 0);

export function encodeInlineFile(content: Uint8Array): Buffer {
  if (content.length > INLINE_MAX) fail('too-large', `inline file of ${content.length} bytes exceeds ${INLINE_MAX}`);
  return Buffer.concat([INLINE_FILE_HEADER, content]);
}

export function encodeChunkedFile(chunks: readonly ChunkRef[]): Buffer {
  const size = chunks.reduce((s, c) => s + c.length, 0);
  const w = new Writer().u8(Kind.File).u8(1).u64(size).u32(chunks.length);
  for (const c of chunks) w.bytes(c.id).u32(c.length);
  return w.done();
}

export function encodeChunk(content: Uint8Array): Buffer {
  return new Writer().u8(Kind.Chunk).bytes(content).done();
}

/** Entries are sorted here; the caller need not. */
export function encodeManifest(entries: readonly ManifestEntry[]): Buffer {
  // Paths are ordered by their UTF-8 bytes; encode each once, not at every comparison.
  const sorted = entries.map((e) => ({ e, path: Buffer.from(e.path, 'utf8') })).sort((a, b) => Buffer.compare(a.path, b.path));
  const w = new Writer().u8(Kind.Manifest).u32(sorted.length);
  for (const { e, path } of sorted) {
    w.u16(path.length).bytes(path).u8(e.type);
    if (e.type !== EntryType.Dir) w.bytes(e.file!);
  }
  return w.done();
}

/** The bytes a cert's signature covers: a domain tag, then the cert body up to the signature. */
export function certSignedBytes(manifest: Uint8Array, key: Uint8Array, name: string, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('netsync/cert/v1\0'), certBody(manifest, key, name, value)]);
}

function certBody(manifest: Uint8Array, key: Uint8Array, name: string, value: Uint8Array): Buffer {
  const n = Buffer.from(name, 'utf8');
  return new Writer().bytes(manifest).bytes(key).u8(n.length).bytes(n).u32(value.length).bytes(value).done();
}

export function encodeCert(manifest: Uint8Array, key: Uint8Array, name: string, value: Uint8Array, signature: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(Kind.Cert), certBody(manifest, key, name, value), signature]);
}

export function encodeKey(name: string, publicKey: Uint8Array): Buffer {
  const n = Buffer.from(name, 'utf8');
  return new Writer().u8(Kind.Key).u8(n.length).bytes(n).bytes(publicKey).done();
}

// ---------------------------------------------------------------- decoding

/**
 * Decodes and structurally validates an item. Throws NetsyncError('bad-item')
 * naming the first problem. Signatures and references are checked by the
 * store, which knows the other items (src/engine/store/verify.ts).
 */
export function decodeItem(bytes: Buffer): Item {
  if (bytes.length > ITEM_MAX) fail('too-large', `item of ${bytes.length} bytes exceeds the ${ITEM_MAX}-byte limit`);
  const r = new Reader(bytes, 'item', badItem);
  const kind = r.u8();
  switch (kind) {
    case Kind.File:
      return decodeFile(r);
    case Kind.Chunk:
      return decodeChunk(r);
    case Kind.Manifest:
      return decodeManifest(r);
    case Kind.Cert:
      return decodeCert(r);
    case Kind.Key:
      return decodeKey(r);
    case Kind.Tree:
      return decodeTree(r);
    case Kind.Revision:
      return decodeRevision(r);
    default:
      return fail('bad-item', `unknown item kind ${kind}`);
  }
}

function decodeFile(r: Reader): Item {
  const layout = r.u8();
  if (layout === 0) {
    const content = r.rest();
    if (content.length > INLINE_MAX) fail('bad-item', `inline file larger than ${INLINE_MAX} bytes`);
    return { kind: Kind.File, layout: 'inline', size: content.length, content };
  }
  if (layout !== 1) fail('bad-item', `unknown file layout ${layout}`);
  const size = r.u64();
  const n = r.u32();
  if (n === 0 || n * (ID_BYTES + 4) !== r.remaining) fail('bad-item', 'chunked file: chunk count does not match its length');
  const chunks: ChunkRef[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const id = r.bytes(ID_BYTES);
    const length = r.u32();
    if (length === 0 || length > CHUNK_MAX) fail('bad-item', `chunked file: chunk ${i} has length ${length}`);
    total += length;
    chunks.push({ id, length });
  }
  if (total !== size) fail('bad-item', `chunked file: chunk lengths sum to ${total}, not ${size}`);
  if (size <= INLINE_MAX) fail('bad-item', `chunked file of ${size} bytes must be inline (<= ${INLINE_MAX})`);
  return { kind: Kind.File, layout: 'chunked', size, chunks };
}

function decodeChunk(r: Reader): Item {
  const content = r.rest();
  if (content.length === 0 || content.length > CHUNK_MAX) fail('bad-item', `chunk of ${content.length} bytes is out of range`);
  return { kind: Kind.Chunk, size: content.length, content };
}

function decodeManifest(r: Reader): Item {
  const n = r.u32();
  // Smallest entry is 2 + 1 + 1 bytes: refuse counts the bytes cannot hold.
  if (n * 4 > r.remaining) fail('bad-item', 'manifest: entry count larger than its bytes allow');
  const entries: ManifestEntry[] = [];
  const dirs = new Set<string>();
  let prev: Buffer | null = null;
  for (let i = 0; i < n; i++) {
    const raw = r.bytes(r.u16());
    if (prev && Buffer.compare(prev, raw) >= 0) fail('bad-item', 'manifest: entries are not in strictly ascending path order');
    prev = raw;
    if (!isUtf8(raw)) fail('bad-item', 'manifest: a path is not valid UTF-8');
    const path = raw.toString('utf8');
    const problem = pathProblem(path);
    if (problem) fail('bad-item', `manifest: ${problem}`);
    const type = r.u8();
    if (type > EntryType.Dir) fail('bad-item', `manifest: unknown entry type ${type}`);
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : null;
    if (parent !== null && !dirs.has(parent)) fail('bad-item', `manifest: "${path}" has no directory entry for "${parent}"`);
    if (type === EntryType.Dir) {
      dirs.add(path);
      entries.push({ path, type });
    } else {
      entries.push({ path, type, file: r.bytes(ID_BYTES) });
    }
  }
  r.end();
  return { kind: Kind.Manifest, entries };
}

/**
 * The file ids a stored manifest names, read without validating it again: for
 * indexing items that were verified when they were stored (decoding a
 * manifest in full checks every path again, the bulk of a rebuild's work).
 * Bytes that are not a manifest give no ids; truncated ones throw.
 */
export function manifestFileIds(bytes: Buffer): Buffer[] {
  if (bytes[0] !== Kind.Manifest) return [];
  const r = new Reader(bytes, 'manifest', badItem);
  r.u8();
  const n = r.u32();
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    r.bytes(r.u16());
    if (r.u8() !== EntryType.Dir) out.push(r.bytes(ID_BYTES));
  }
  return out;
}

function decodeCert(r: Reader): Item {
  const manifest = r.bytes(ID_BYTES);
  const key = r.bytes(ID_BYTES);
  const name = r.bytes(r.u8()).toString('utf8');
  if (!isValidCertName(name)) fail('bad-item', `cert: invalid name "${name}"`);
  const valueLength = r.u32();
  if (valueLength > CERT_VALUE_MAX) fail('bad-item', `cert: value longer than ${CERT_VALUE_MAX} bytes`);
  const value = r.bytes(valueLength);
  const signature = r.bytes(SIGNATURE_BYTES);
  r.end();
  if (name === 'branch' && !isValidBranchName(value.toString('utf8'))) fail('bad-item', 'cert: invalid branch name');
  return { kind: Kind.Cert, manifest, key, name, value, signature };
}

function decodeKey(r: Reader): Item {
  const name = r.bytes(r.u8()).toString('utf8');
  if (!isValidKeyName(name)) fail('bad-item', `key: invalid name "${name}"`);
  const publicKey = r.bytes(PUBLIC_KEY_BYTES);
  r.end();
  return { kind: Kind.Key, name, publicKey };
}

// ---------------------------------------------------------------- transfer sizes

/**
 * The size an OFFER states for an item, read from its encoding without
 * decoding it (docs/PROTOCOL.md, OFFER): a file's or chunk's content size,
 * the encoding's size for every other kind.
 */
export function offeredSize(bytes: Uint8Array): number {
  if (bytes[0] === Kind.Chunk) return bytes.length - 1;
  if (bytes[0] === Kind.File && bytes.length >= 2) {
    if (bytes[1] === 0) return bytes.length - INLINE_FILE_HEADER.length;
    // Bytes not yet verified may be anything: a chunked file too short for its size counts as its length.
    if (bytes.length >= 10) return Number(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(2));
  }
  return bytes.length;
}

/**
 * What an item adds to the bytes a transfer or a diff counts: its offered
 * size, except a chunked file (larger than INLINE_MAX), whose content its
 * chunks already count; counting both showed a 300 MB file as 600 MB.
 */
export function countedBytes(kind: Kind, size: number): number {
  return kind === Kind.File && size > INLINE_MAX ? 0 : size;
}

// ---------------------------------------------------------------- format v4: trees and revisions

/**
 * Where a folder listing is cut (docs/FORMAT.md §12): a 32-bit hash of the
 * name (FNV-1a, then MurmurHash3's fmix32 finaliser so that every bit of the
 * name moves the top bits) and its count of leading zero bits, in fives. A
 * name has rank ≥ 1 with probability 1/32, ≥ 2 with 1/1,024, and so on: a
 * listing node ends after a name of rank ≥ 1, an index node of level k
 * after a child whose last name has rank ≥ k + 1. The cut depends on the
 * name alone, so changing one entry changes one node per level.
 */
export function nameRank(name: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (Math.clz32(h) / 5) | 0;
}

/** A name in a tree listing: one path component. */
export function nameProblem(name: string, bytes: number): string | null {
  if (bytes === 0 || bytes > NAME_MAX) return `name of ${bytes} bytes (1 to ${NAME_MAX})`;
  if (name === '.' || name === '..') return `name "${name}"`;
  if (name.includes('/')) return `name "${name}" contains '/'`;
  if (name.includes('\0')) return 'name contains NUL';
  if (name.includes('\uFFFD')) return `name "${name}" contains U+FFFD, the replacement character`;
  return null;
}

/** A listing node (level 0). Entries must be sorted and cut as FORMAT.md §12 says (items/tree.ts does). */
export function encodeTreeListing(entries: readonly { name: Buffer; type: EntryType; id?: Buffer; target?: Buffer }[]): Buffer {
  const w = new Writer().u8(Kind.Tree).u8(0).u16(entries.length);
  for (const e of entries) {
    if (e.name.length === 0 || e.name.length > NAME_MAX) fail('usage', `a name of ${e.name.length} bytes cannot be recorded (1 to ${NAME_MAX})`);
    w.u8(e.name.length).bytes(e.name).u8(e.type);
    if (e.type === EntryType.Symlink) w.u16(e.target!.length).bytes(e.target!);
    else w.bytes(e.id!);
  }
  return w.done();
}

/** An index node of `level` ≥ 1 over nodes of level - 1. */
export function encodeTreeIndex(level: number, children: readonly TreeChild[]): Buffer {
  const w = new Writer().u8(Kind.Tree).u8(level).u16(children.length);
  for (const c of children) w.bytes(c.id).u32(c.count);
  return w.done();
}

/** Parents are sorted and repeats dropped here; the caller need not. */
export function encodeRevision(tree: Uint8Array, parents: readonly Uint8Array[]): Buffer {
  const sorted = [...new Map(parents.map((p) => [Buffer.from(p).toString('hex'), Buffer.from(p)])).values()].sort(Buffer.compare);
  if (sorted.length > PARENTS_MAX) fail('usage', `a revision has at most ${PARENTS_MAX} parents, not ${sorted.length}`);
  const w = new Writer().u8(Kind.Revision).bytes(tree).u8(sorted.length);
  for (const p of sorted) w.bytes(p);
  return w.done();
}

/** The smallest listing entry: name length, a 1-byte name, type, a 1-byte link target with its length. */
const ENTRY_MIN = 1 + 1 + 1 + 2 + 1;

function decodeTree(r: Reader): Item {
  const level = r.u8();
  if (level > LEVEL_MAX) fail('bad-item', `tree: level ${level} is above ${LEVEL_MAX}`);
  const n = r.u16();
  if (n > NODE_MAX) fail('bad-item', `tree: ${n} entries, more than ${NODE_MAX}`);
  if (level > 0) {
    if (n === 0) fail('bad-item', 'tree: an index node with no children');
    if (n * (ID_BYTES + 4) !== r.remaining) fail('bad-item', 'tree: child count does not match its length');
    const children: TreeChild[] = [];
    for (let i = 0; i < n; i++) {
      const id = r.bytes(ID_BYTES);
      const count = r.u32();
      if (count === 0) fail('bad-item', `tree: child ${i} covers no entries`);
      children.push({ id, count });
    }
    return { kind: Kind.Tree, level, entries: [], children };
  }
  if (n * ENTRY_MIN > r.remaining) fail('bad-item', 'tree: entry count larger than its bytes allow');
  const entries: TreeEntry[] = [];
  let prev: Buffer | null = null;
  for (let i = 0; i < n; i++) {
    const raw = r.bytes(r.u8());
    if (prev && Buffer.compare(prev, raw) >= 0) fail('bad-item', 'tree: names are not in strictly ascending byte order');
    prev = raw;
    if (!isUtf8(raw)) fail('bad-item', 'tree: a name is not valid UTF-8');
    const name = raw.toString('utf8');
    const problem = nameProblem(name, raw.length);
    if (problem) fail('bad-item', `tree: ${problem}`);
    // Canonical cuts: only the last entry of a node may have rank ≥ 1 (§12).
    if (i < n - 1 && nameRank(raw) >= 1) fail('bad-item', `tree: the node should end after "${name}"`);
    const type = r.u8();
    if (type === EntryType.Symlink) {
      const target = r.bytes(r.u16());
      if (target.length === 0 || target.length > TARGET_MAX) fail('bad-item', `tree: link target of ${target.length} bytes (1 to ${TARGET_MAX})`);
      if (target.includes(0)) fail('bad-item', 'tree: link target contains NUL');
      entries.push({ name, type, target });
    } else if (type <= EntryType.Dir) {
      entries.push({ name, type, id: r.bytes(ID_BYTES) });
    } else {
      fail('bad-item', `tree: unknown entry type ${type}`);
    }
  }
  r.end();
  return { kind: Kind.Tree, level: 0, entries, children: [] };
}

function decodeRevision(r: Reader): Item {
  const tree = r.bytes(ID_BYTES);
  const n = r.u8();
  if (n > PARENTS_MAX) fail('bad-item', `revision: ${n} parents, more than ${PARENTS_MAX}`);
  if (n * ID_BYTES !== r.remaining) fail('bad-item', 'revision: parent count does not match its length');
  const parents: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = r.bytes(ID_BYTES);
    if (i > 0 && Buffer.compare(parents[i - 1]!, p) >= 0) fail('bad-item', 'revision: parents are not in strictly ascending order');
    parents.push(p);
  }
  return { kind: Kind.Revision, tree, parents };
}

/** How many folder entries a stored tree node covers (its own for a listing, its children's sum for an index). */
export function treeNodeCount(bytes: Buffer): number {
  const n = bytes.readUInt16BE(2);
  if (bytes[1] === 0) return n;
  let total = 0;
  for (let i = 0; i < n; i++) total += bytes.readUInt32BE(4 + i * (ID_BYTES + 4) + ID_BYTES);
  return total;
}

/**
 * What a stored tree node or revision names, read without validating it
 * again (as manifestFileIds): for the indexer's walk of a collection.
 */
export function storedReferences(bytes: Buffer): { id: Buffer; kind: Kind }[] {
  const out: { id: Buffer; kind: Kind }[] = [];
  if (bytes[0] === Kind.Revision) {
    out.push({ id: bytes.subarray(1, 1 + ID_BYTES), kind: Kind.Tree });
    const n = bytes[1 + ID_BYTES]!;
    // A parent's kind (revision or v3 manifest) is read from the parent itself.
    for (let i = 0; i < n; i++) out.push({ id: bytes.subarray(2 + ID_BYTES + i * ID_BYTES, 2 + ID_BYTES * (i + 2)), kind: Kind.Revision });
    return out;
  }
  if (bytes[0] !== Kind.Tree) return out;
  const n = bytes.readUInt16BE(2);
  let at = 4;
  if (bytes[1] !== 0) {
    for (let i = 0; i < n; i++, at += ID_BYTES + 4) out.push({ id: bytes.subarray(at, at + ID_BYTES), kind: Kind.Tree });
    return out;
  }
  for (let i = 0; i < n; i++) {
    at += 1 + bytes[at]!;
    const type = bytes[at++]!;
    if (type === EntryType.Symlink) {
      at += 2 + bytes.readUInt16BE(at);
      continue;
    }
    out.push({ id: bytes.subarray(at, at + ID_BYTES), kind: type === EntryType.Dir ? Kind.Tree : Kind.File });
    at += ID_BYTES;
  }
  return out;
}
