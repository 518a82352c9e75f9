/**
 * `commit DIR --branch B`: stores the tree under DIR as files (chunked when
 * large), one manifest, and certs signed by the user's key. Big files stream
 * through the chunker in bounded memory; items are stored in batches, and
 * nothing joins a branch until its `branch` cert, which is written last in
 * the final transaction, so an interrupted commit leaves only unreferenced
 * items behind.
 */
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import type { KeyPair } from '../keys/ed25519.js';
import { signBytes } from '../keys/ed25519.js';
import { Chunker } from '../items/chunker.js';
import {
  type ChunkRef,
  EntryType,
  INLINE_MAX,
  type ManifestEntry,
  certSignedBytes,
  encodeCert,
  encodeChunk,
  encodeChunkedFile,
  encodeInlineFile,
  encodeKey,
  encodeManifest,
  isValidBranchName,
  itemId,
  pathProblem,
} from '../items/format.js';
import { branchHeads } from '../store/history.js';
import type { WriteStore } from '../store/store.js';
import { FileReader, type ReadResult, contentOf } from './file-reader.js';

export interface Signer {
  name: string;
  pair: KeyPair;
}

export interface CommitOptions {
  branch: string;
  message?: string;
  signer: Signer;
  date?: Date;
  onProgress?: (p: { files: number; totalFiles: number; bytes: number; totalBytes: number }) => void;
}

export interface CommitResult {
  manifest: string;
  files: number;
  bytes: number;
  /** False when the tree equals the branch's head: nothing was written. */
  changed: boolean;
}

interface WalkEntry {
  path: string;
  abs: string;
  type: EntryType;
  size: number;
}

const READ_BLOCK = 1 << 20;
const BATCH_BYTES = 32 << 20;
const BATCH_FILES = 2000;

export function walkTree(root: string): WalkEntry[] {
  const out: WalkEntry[] = [];
  const visit = (abs: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (e) {
      return fail('io', `cannot read directory ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (const name of names.sort()) {
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const problem = pathProblem(childRel);
      if (problem) fail('usage', `cannot commit ${childAbs}: ${problem}`);
      const st: Stats = lstatSync(childAbs);
      if (st.isSymbolicLink()) fail('usage', `${childAbs} is a symbolic link; Netsync records regular files and folders only`);
      if (st.isDirectory()) {
        out.push({ path: childRel, abs: childAbs, type: EntryType.Dir, size: 0 });
        visit(childAbs, childRel);
      } else if (st.isFile()) {
        const exec = (st.mode & 0o111) !== 0;
        out.push({ path: childRel, abs: childAbs, type: exec ? EntryType.Executable : EntryType.File, size: st.size });
      } else {
        fail('usage', `${childAbs} is not a regular file or folder`);
      }
    }
  };
  let st: Stats;
  try {
    st = lstatSync(root);
  } catch {
    return fail('io', `cannot read ${root}: no such folder`);
  }
  if (!st.isDirectory()) fail('usage', `${root} is not a folder`);
  visit(root, '');
  return out;
}

/** Stores one file's content; returns the file item's id. */
export function storeFile(store: WriteStore, abs: string, size: number): Buffer {
  if (size > INLINE_MAX) return storeChunked(store, abs);
  const content = readSmall(abs);
  if (content === null) return storeChunked(store, abs); // grew past INLINE_MAX since the walk
  return store.put(encodeInlineFile(content)).id;
}

const smallBuffer = Buffer.alloc(INLINE_MAX + 1);

/**
 * Reads a small file without readFileSync's extra
 * fstat (a third of the system calls when committing many small files);
 * null when it is now larger than INLINE_MAX.
 */
function readSmall(abs: string): Buffer | null {
  const fd = openSync(abs, 'r');
  try {
    let n = 0;
    for (;;) {
      const got = readSync(fd, smallBuffer, n, smallBuffer.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > INLINE_MAX) return null;
    }
    return smallBuffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function storeChunked(store: WriteStore, abs: string): Buffer {
  const chunker = new Chunker();
  const refs: ChunkRef[] = [];
  const putChunks = (chunks: Buffer[]) =>
    store.batch(() => {
      for (const c of chunks) refs.push({ id: store.put(encodeChunk(c)).id, length: c.length });
    });
  const fd = openSync(abs, 'r');
  try {
    const block = Buffer.alloc(READ_BLOCK);
    for (;;) {
      const n = readSync(fd, block, 0, READ_BLOCK, null);
      if (n === 0) break;
      putChunks(chunker.push(block.subarray(0, n)));
    }
    putChunks(chunker.end());
  } finally {
    closeSync(fd);
  }
  const total = refs.reduce((s, r) => s + r.length, 0);
  if (total <= INLINE_MAX) return store.put(encodeInlineFile(readFileSync(abs))).id; // shrank since stat
  return store.put(encodeChunkedFile(refs)).id;
}

export function signCert(store: WriteStore, signer: Signer, manifest: Buffer, name: string, value: string | Buffer): Buffer {
  const keyId = itemId(encodeKey(signer.name, signer.pair.publicKey));
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const signature = signBytes(signer.pair.seed, certSignedBytes(manifest, keyId, name, v));
  return store.put(encodeCert(manifest, keyId, name, v, signature)).id;
}

/** Stores a small file whose content is already read (null: it grew past INLINE_MAX, so it is chunked). */
function storeRead(store: WriteStore, abs: string, content: Buffer | null): Buffer {
  return content === null ? storeChunked(store, abs) : store.put(encodeInlineFile(content)).id;
}

/**
 * How the entries are stored: a big file alone (its chunks commit in batches
 * of their own), everything else in batches of at most BATCH_FILES files and
 * BATCH_BYTES bytes, each one transaction.
 */
function batches(entries: readonly WalkEntry[]): { big: boolean; entries: WalkEntry[] }[] {
  const out: { big: boolean; entries: WalkEntry[] }[] = [];
  let current: WalkEntry[] = [];
  let files = 0;
  let bytes = 0;
  const close = () => {
    if (current.length > 0) out.push({ big: false, entries: current });
    current = [];
    files = 0;
    bytes = 0;
  };
  for (const e of entries) {
    if (e.type !== EntryType.Dir && e.size > INLINE_MAX) {
      close();
      out.push({ big: true, entries: [e] });
      continue;
    }
    current.push(e);
    if (e.type !== EntryType.Dir) {
      files++;
      bytes += e.size;
    }
    if (files >= BATCH_FILES || bytes >= BATCH_BYTES) close();
  }
  close();
  return out;
}

/** Below this many small files, reading them on this thread costs less than starting the reader. */
const READER_MIN_FILES = 256;

export async function commitDirectory(store: WriteStore, dir: string, opts: CommitOptions): Promise<CommitResult> {
  if (!isValidBranchName(opts.branch)) fail('usage', `"${opts.branch}" is not a valid branch name`);
  const entries = walkTree(dir);
  const files = entries.filter((e) => e.type !== EntryType.Dir);
  const totalBytes = files.reduce((s, f) => s + f.size, 0);
  const manifestEntries: ManifestEntry[] = [];
  let done = 0;
  let bytes = 0;
  const record = (e: WalkEntry, file?: Buffer) => {
    if (e.type === EntryType.Dir) return manifestEntries.push({ path: e.path, type: e.type });
    manifestEntries.push({ path: e.path, type: e.type, file: file! });
    bytes += e.size;
    done++;
  };
  const plan = batches(entries);
  const smallFiles = files.filter((f) => f.size <= INLINE_MAX).length;
  const reader = smallFiles >= READER_MIN_FILES ? new FileReader(INLINE_MAX) : null;
  // Batch k + 1 is read in the worker while batch k is hashed and stored here.
  const reads: (Promise<ReadResult[]> | undefined)[] = [];
  const startRead = (k: number) => {
    const batch = plan[k];
    if (!reader || !batch || batch.big || reads[k]) return;
    reads[k] = reader.read(batch.entries.filter((e) => e.type !== EntryType.Dir));
    reads[k]!.catch(() => {}); // awaited in its turn; no unhandled rejection meanwhile
  };
  try {
    for (let k = 0; k < plan.length; k++) {
      const batch = plan[k]!;
      startRead(k);
      let next = k + 1;
      while (next < plan.length && plan[next]!.big) next++;
      startRead(next);
      if (batch.big) {
        const e = batch.entries[0]!;
        record(e, storeFile(store, e.abs, e.size));
      } else {
        const contents = reads[k] ? await reads[k] : null;
        reads[k] = undefined;
        store.batch(() => {
          let j = 0;
          for (const e of batch.entries) {
            if (e.type === EntryType.Dir) {
              record(e);
              continue;
            }
            const content = contents ? contentOf(contents[j++]!, e.abs) : readSmall(e.abs);
            record(e, storeRead(store, e.abs, content));
          }
        });
      }
      opts.onProgress?.({ files: done, totalFiles: files.length, bytes, totalBytes });
    }
  } finally {
    await reader?.close();
  }
  return store.batch(() => {
    const manifest = store.put(encodeManifest(manifestEntries)).id;
    const heads = store.branchId(opts.branch) === null ? [] : branchHeads(store, opts.branch);
    const result = { manifest: toHex(manifest), files: files.length, bytes };
    if (heads.length === 1 && heads[0]!.equals(manifest)) return { ...result, changed: false };
    store.put(encodeKey(opts.signer.name, opts.signer.pair.publicKey));
    const sign = (name: string, value: string) => signCert(store, opts.signer, manifest, name, value);
    sign('date', (opts.date ?? new Date()).toISOString());
    sign('author', opts.signer.name);
    if (opts.message) sign('changelog', opts.message);
    for (const h of heads) if (!h.equals(manifest)) sign('ancestor', toHex(h));
    sign('branch', opts.branch);
    return { ...result, changed: true };
  });
}
