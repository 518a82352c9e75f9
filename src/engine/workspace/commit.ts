/**
 * `commit DIR --branch B`: stores the tree under DIR as files (chunked when
 * large), one manifest, and certs signed by the user's key. Big files stream
 * through the chunker in bounded memory; items are stored in batches, and
 * nothing joins a branch until its `branch` cert, which is written last in
 * the final transaction, so an interrupted commit leaves only unreferenced
 * items behind.
 */
import { closeSync, constants, type Dirent, lstatSync, openSync, readdirSync, readFileSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import type { KeyPair } from '../keys/ed25519.js';
import { signBytes } from '../keys/ed25519.js';
import { Chunker } from '../items/chunker.js';
import {
  type ChunkRef,
  EntryType,
  INLINE_FILE_HEADER,
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
import { FileReader, Found, readHere } from './file-reader.js';

export interface Signer {
  name: string;
  pair: KeyPair;
}

export interface CommitOptions {
  branch: string;
  message?: string;
  signer: Signer;
  date?: Date;
  onProgress?: (p: { files: number; totalFiles: number; bytes: number }) => void;
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
  /** Folder or regular file; which file type (executable or not) is known once it is read. */
  dir: boolean;
}

const READ_BLOCK = 1 << 20;
const BATCH_BYTES = 32 << 20;
const BATCH_FILES = 2000;

/**
 * The folders and files under `root`, sorted by name at each level, from the
 * folder listings alone (the file types readdir reports): the files' modes
 * and sizes come when they are read. Symbolic links and special files are
 * refused, as docs/FORMAT.md says.
 */
export function walkTree(root: string): WalkEntry[] {
  const out: WalkEntry[] = [];
  const visit = (abs: string, rel: string) => {
    let names: Dirent[];
    try {
      names = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      return fail('io', `cannot read directory ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of names) {
      const childAbs = join(abs, d.name);
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const problem = pathProblem(childRel);
      if (problem) fail('usage', `cannot commit ${childAbs}: ${problem}`);
      if (d.isSymbolicLink()) fail('usage', `${childAbs} is a symbolic link; Netsync records regular files and folders only`);
      if (d.isDirectory()) {
        out.push({ path: childRel, abs: childAbs, dir: true });
        visit(childAbs, childRel);
      } else if (d.isFile()) {
        out.push({ path: childRel, abs: childAbs, dir: false });
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

/** Streams a large file through the chunker in bounded memory; returns its file item's id and size. */
function storeChunked(store: WriteStore, abs: string): { id: Buffer; size: number } {
  const chunker = new Chunker();
  const refs: ChunkRef[] = [];
  const putChunks = (chunks: Buffer[]) =>
    store.batch(() => {
      for (const c of chunks) refs.push({ id: store.put(encodeChunk(c)).id, length: c.length });
    });
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    return fail('io', `cannot read ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
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
  const size = refs.reduce((s, r) => s + r.length, 0);
  if (size <= INLINE_MAX) {
    // It shrank since it was measured: a file this small is stored inline.
    const content = readFileSync(abs);
    return { id: store.put(encodeInlineFile(content)).id, size: content.length };
  }
  return { id: store.put(encodeChunkedFile(refs)).id, size };
}

/** The manifest's file type for a mode: executable when any execute bit is set. */
function fileType(mode: number): EntryType {
  return (mode & 0o111) !== 0 ? EntryType.Executable : EntryType.File;
}

export function signCert(store: WriteStore, signer: Signer, manifest: Buffer, name: string, value: string | Buffer): Buffer {
  const keyId = itemId(encodeKey(signer.name, signer.pair.publicKey));
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const signature = signBytes(signer.pair.seed, certSignedBytes(manifest, keyId, name, v));
  return store.put(encodeCert(manifest, keyId, name, v, signature)).id;
}

/** Below this many files, reading them on this thread costs less than starting the reader. */
const READER_MIN_FILES = 256;

export async function commitDirectory(store: WriteStore, dir: string, opts: CommitOptions): Promise<CommitResult> {
  if (!isValidBranchName(opts.branch)) fail('usage', `"${opts.branch}" is not a valid branch name`);
  const entries = walkTree(dir);
  const files = entries.filter((e) => !e.dir);
  const manifestEntries: ManifestEntry[] = entries.filter((e) => e.dir).map((e) => ({ path: e.path, type: EntryType.Dir }));
  let bytes = 0;
  // The reader puts each content after the inline file header: the batch holds whole items.
  const reader = files.length >= READER_MIN_FILES ? await FileReader.start(INLINE_MAX, BATCH_BYTES, INLINE_FILE_HEADER) : null;
  const read = (from: number) => {
    const paths = files.slice(from, from + BATCH_FILES).map((f) => f.abs);
    const batch = reader ? reader.read(paths) : readHere(paths, INLINE_MAX, BATCH_BYTES, INLINE_FILE_HEADER);
    batch.catch(() => {}); // awaited in its turn; no unhandled rejection if the commit fails first
    return batch;
  };
  try {
    // The next batch is read (in the worker) while this one is hashed and stored.
    let from = 0;
    let ahead = files.length > 0 ? read(0) : null;
    while (ahead) {
      const batch = await ahead;
      const start = from;
      from += batch.found.length;
      ahead = from < files.length ? read(from) : null;
      const large: number[] = [];
      store.batch(() => {
        let at = 0;
        for (let i = 0; i < batch.found.length; i++) {
          const f = files[start + i]!;
          switch (batch.found[i]) {
            case Found.Small: {
              const item = Buffer.from(batch.buffer, at, INLINE_FILE_HEADER.length + batch.sizes[i]!);
              at += item.length;
              manifestEntries.push({ path: f.path, type: fileType(batch.modes[i]!), file: store.put(item).id });
              bytes += batch.sizes[i]!;
              break;
            }
            case Found.Large:
              large.push(i);
              break;
            case Found.Unreadable:
              return fail('io', `cannot read ${f.abs}: ${batch.codes[i]}`);
            default:
              return fail('usage', `${f.abs} changed while committing: it is now ${batch.codes[i]}`);
          }
        }
      });
      for (const i of large) {
        const f = files[start + i]!;
        const { id, size } = storeChunked(store, f.abs);
        manifestEntries.push({ path: f.path, type: fileType(batch.modes[i]!), file: id });
        bytes += size;
      }
      opts.onProgress?.({ files: from, totalFiles: files.length, bytes });
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
