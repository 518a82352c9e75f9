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
}

export const KIND_NAMES: Record<Kind, string> = {
  [Kind.File]: 'file',
  [Kind.Chunk]: 'chunk',
  [Kind.Manifest]: 'manifest',
  [Kind.Cert]: 'cert',
  [Kind.Key]: 'key',
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

export const enum EntryType {
  File = 0,
  Executable = 1,
  Dir = 2,
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

export type Item =
  | { kind: Kind.File; layout: 'inline'; size: number; content: Buffer }
  | { kind: Kind.File; layout: 'chunked'; size: number; chunks: ChunkRef[] }
  | { kind: Kind.Chunk; size: number; content: Buffer }
  | { kind: Kind.Manifest; entries: ManifestEntry[] }
  | { kind: Kind.Cert; manifest: Buffer; key: Buffer; name: string; value: Buffer; signature: Buffer }
  | { kind: Kind.Key; name: string; publicKey: Buffer };

export type CertItem = Extract<Item, { kind: Kind.Cert }>;
export type KeyItem = Extract<Item, { kind: Kind.Key }>;
export type ManifestItem = Extract<Item, { kind: Kind.Manifest }>;
export type FileItem = Extract<Item, { kind: Kind.File }>;

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
  if (bytes[0] === Kind.File)
    return bytes[1] === 0 ? bytes.length - INLINE_FILE_HEADER.length : Number(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readBigUInt64BE(2));
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
