/**
 * `commit DIR --branch B`: stores the tree under DIR as files (chunked when
 * large), one manifest, and certs signed by the user's key. Big files stream
 * through the chunker in bounded memory; items are stored in batches, and
 * nothing joins a branch until its `branch` cert, which is written last in
 * the final transaction, so an interrupted commit leaves only unreferenced
 * items behind.
 */
import { closeSync, constants, type Dirent, lstatSync, openSync, readdirSync, readFileSync, readSync, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
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
import { Found, Listed, TreeReader, type WalkStep, walkHere } from './file-reader.js';

export interface Signer {
  name: string;
  pair: KeyPair;
}

export interface CommitOptions {
  branch: string;
  message?: string;
  signer: Signer;
  date?: Date;
  /** `totalFiles` is null while the tree is still being listed. */
  onProgress?: (p: { files: number; totalFiles: number | null; bytes: number }) => void;
}

export interface CommitResult {
  manifest: string;
  files: number;
  bytes: number;
  /** False when the tree equals the branch's head: nothing was written. */
  changed: boolean;
}

const READ_BLOCK = 1 << 20;
const BATCH_BYTES = 32 << 20;
const BATCH_FILES = 2000;
/** The first step's files: the storing thread starts once these are read, not 2,000. */
const FIRST_BATCH_FILES = 250;
/** Below this many files, walking and reading on this thread costs less than starting the worker. */
const READER_MIN_FILES = 256;

/**
 * Whether the tree under `root` holds more than `limit` files: lists folders
 * only until it knows. Errors are left to the walk that follows, which
 * reports them in order.
 */
function holdsMoreFilesThan(root: string, limit: number): boolean {
  let files = 0;
  const visit = (abs: string): boolean => {
    let names: Dirent[];
    try {
      names = readdirSync(abs, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const d of names) {
      if (d.isDirectory()) {
        if (visit(join(abs, d.name))) return true;
      } else if (++files > limit) return true;
    }
    return false;
  };
  return visit(root);
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

export async function commitDirectory(store: WriteStore, dir: string, opts: CommitOptions): Promise<CommitResult> {
  if (!isValidBranchName(opts.branch)) fail('usage', `"${opts.branch}" is not a valid branch name`);
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return fail('io', `cannot read ${dir}: no such folder`);
  }
  if (!st.isDirectory()) fail('usage', `${dir} is not a folder`);
  // The worker lists the tree and reads its files ahead of this thread, which
  // checks each path as it comes and stores the files; folders are listed and checked
  // in the order a walk meets them, so the first problem met is the one reported.
  const options = { sep, firstFiles: FIRST_BATCH_FILES, batchFiles: BATCH_FILES, max: INLINE_MAX, budget: BATCH_BYTES, prefix: INLINE_FILE_HEADER };
  const steps = holdsMoreFilesThan(dir, READER_MIN_FILES) ? await TreeReader.start(dir, options) : walkHere(dir, options);
  const manifestEntries: ManifestEntry[] = [];
  /** Files listed whose content has not come yet, oldest first. */
  const unread: string[] = [];
  let unreadHead = 0;
  let files = 0;
  let bytes = 0;
  try {
    // Two steps asked for ahead: the worker and this thread take about as long per step,
    // and with one the faster waited for the slower's every hiccup.
    const ahead: Promise<WalkStep>[] = [];
    const ask = () => {
      const step = steps.next();
      step.catch(() => {}); // awaited in its turn; no unhandled rejection if the commit fails first
      ahead.push(step);
    };
    ask();
    ask();
    for (let done = false; !done; ) {
      const step: WalkStep = await ahead.shift()!;
      done = step.done;
      if (!done) ask();
      const paths = step.paths === '' ? [] : step.paths.split('\0');
      for (let i = 0; i < paths.length; i++) {
        const rel = paths[i]!;
        const problem = pathProblem(rel);
        if (problem) fail('usage', `cannot commit ${join(dir, rel)}: ${problem}`);
        switch (step.types[i]) {
          case Listed.Dir:
            manifestEntries.push({ path: rel, type: EntryType.Dir });
            break;
          case Listed.File:
            unread.push(rel);
            break;
          case Listed.SymbolicLink:
            return fail('usage', `${join(dir, rel)} is a symbolic link; Netsync records regular files and folders only`);
          default:
            return fail('usage', `${join(dir, rel)} is not a regular file or folder`);
        }
      }
      if (step.failed) fail('io', `cannot read directory ${step.failed.abs}: ${step.failed.code}`);
      const first = unreadHead;
      unreadHead += step.found.length;
      const large: number[] = [];
      store.batch(() => {
        let at = 0;
        for (let i = 0; i < step.found.length; i++) {
          const rel = unread[first + i]!;
          switch (step.found[i]) {
            case Found.Small: {
              const item = Buffer.from(step.buffer, at, INLINE_FILE_HEADER.length + step.sizes[i]!);
              at += item.length;
              manifestEntries.push({ path: rel, type: fileType(step.modes[i]!), file: store.put(item).id });
              bytes += step.sizes[i]!;
              break;
            }
            case Found.Large:
              large.push(i);
              break;
            case Found.Unreadable:
              return fail('io', `cannot read ${join(dir, rel)}: ${step.codes[i]}`);
            default:
              return fail('usage', `${join(dir, rel)} changed while committing: it is now ${step.codes[i]}`);
          }
        }
      });
      for (const i of large) {
        const { id, size } = storeChunked(store, join(dir, unread[first + i]!));
        manifestEntries.push({ path: unread[first + i]!, type: fileType(step.modes[i]!), file: id });
        bytes += size;
      }
      files += step.found.length;
      // The total is known once the walk is over.
      opts.onProgress?.({ files, totalFiles: step.done ? files : null, bytes });
      // Forget what has been stored (the list holds only what is still to come).
      if (unreadHead > 4096) {
        unread.splice(0, unreadHead);
        unreadHead = 0;
      }
    }
  } finally {
    await steps.close();
  }
  if (unreadHead !== unread.length) fail('io', `the walk of ${dir} ended with ${unread.length - unreadHead} files unread`);
  return store.batch(() => {
    const manifest = store.put(encodeManifest(manifestEntries)).id;
    const heads = store.branchId(opts.branch) === null ? [] : branchHeads(store, opts.branch);
    const result = { manifest: toHex(manifest), files, bytes };
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
