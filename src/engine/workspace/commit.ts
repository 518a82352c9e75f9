/**
 * `commit DIR --branch B`: stores the tree under DIR as files (chunked when
 * large), the folders' tree nodes (format v4, items/tree.ts), one revision
 * and certs on it signed by the user's key. Big files stream through the
 * chunker in bounded memory; items are stored in batches, and nothing joins a
 * branch until its `branch` cert, which is written last in the final
 * transaction, so an interrupted commit leaves only unreferenced items
 * behind.
 *
 * The workspace record (record.ts) names the version the folder came from,
 * which becomes the revision's parent, and lets files whose stat is
 * unchanged be taken from it without being read (`rehash` ignores it).
 */
import { closeSync, constants, type Dirent, existsSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, type Stats } from 'node:fs';
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
  Kind,
  NAME_MAX,
  TARGET_MAX,
  type ManifestEntry,
  type TreeEntry,
  certSignedBytes,
  decodeItem,
  encodeCert,
  encodeChunk,
  encodeChunkedFile,
  encodeInlineFile,
  encodeKey,
  encodeRevision,
  isValidBranchName,
  itemId,
  pathProblem,
  treeNodeCount,
} from '../items/format.js';
import { buildFolder, folderEntries } from '../items/tree.js';
import { branchHeads } from '../store/history.js';
import { type FlatEntry, flatTree } from './flat-tree.js';
import { IGNORE_FILE, ignoreRules } from './ignore-rules.js';
import type { WriteStore } from '../store/store.js';
import { Found, Listed, TreeReader, type WalkStep, walkHere } from './file-reader.js';
import { StatCache, readRecord, takeStamp, writeRecord } from './record.js';

/** One entry of a folder to record: a file's item, or a link's target, by its '/'-separated path. */
export interface PathEntry extends ManifestEntry {
  target?: Buffer;
}

export interface Signer {
  name: string;
  pair: KeyPair;
}

export interface CommitOptions {
  branch: string;
  message?: string;
  signer: Signer;
  date?: Date;
  /** The parent, for a folder without a workspace record committed onto an existing branch (`--parent`). */
  parent?: Buffer;
  /** Patterns of paths to leave out, as a `.netsyncignore` at the root would hold them, applied after every such file (`--exclude`). */
  exclude?: string[];
  /** Called for each entry the commit refuses (unreadable, of a type Netsync does not record), before it fails naming how many. */
  onRefused?: (path: string, why: string) => void;
  /** Walk on this thread, where ignore rules can be asked (set when a walk in the worker met a `.netsyncignore`). */
  onThisThread?: boolean;
  /** Read every file, whatever the workspace record says (`commit --rehash`). */
  rehash?: boolean;
  /** `totalFiles` is null while the tree is still being listed. */
  onProgress?: (p: { files: number; totalFiles: number | null; bytes: number }) => void;
}

export interface CommitResult {
  /** The version's id: the revision's (the name kept from format v3, when a version was a manifest). */
  manifest: string;
  revision: string;
  /** The tree id of the committed folder. */
  tree: string;
  files: number;
  bytes: number;
  /** Files read and hashed (the others were taken from the workspace record). */
  read: number;
  /** False when the tree equals its parent's: nothing was written. */
  changed: boolean;
  /** Unchanged, and that parent is the branch's only head. */
  onlyHead: boolean;
  /** Set when the branch has more than one head after the commit: one line saying so. */
  heads: number;
  /** With `parent`: what the commit adds, changes and removes relative to it, by path. */
  changes?: { change: 'added' | 'changed' | 'removed'; path: string }[];
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

/** Thrown when a walk in the worker meets a `.netsyncignore`: the commit walks again on this thread. */
const RESTART_ON_THIS_THREAD = Symbol('restart on this thread');

/** A link's target bytes, or why it cannot be recorded. */
function readLink(abs: string): Buffer | string {
  let target: Buffer;
  try {
    target = readlinkSync(abs, { encoding: 'buffer' });
  } catch (e) {
    return `a symbolic link that cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (target.length === 0 || target.length > TARGET_MAX) return `a symbolic link whose target has ${target.length} bytes (1 to ${TARGET_MAX})`;
  return target;
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
  // A record whose version this database does not hold (it was made anew at the same path) names
  // file ids it may not hold either: ignored. One it holds holds every file of that version too.
  const found = readRecord(dir, store.path);
  const record = found && store.has(found.version) ? found : null;
  const fromRecord = record !== null;
  if (!fromRecord && opts.parent === undefined && store.branchId(opts.branch) !== null) {
    fail(
      'refused-entries',
      `${dir} has no workspace record (it was not checked out or committed here) and branch ${opts.branch} exists: name the version it starts from with --parent ID|head, or check out ${opts.branch} and commit from there`,
    );
  }
  // Taken before any file is looked at: what changes after it gets a newer mtime (record.ts).
  const stamp = takeStamp(dir);
  const cached = record && !opts.rehash ? record.stats : null;
  /** The next record's cache: entries of files read anew, and those kept from the record (taken unread). */
  const stats = cached ? cached.derive() : new StatCache();
  /** Files taken from the record unread: a folder of only these (and such folders) is as its parent had it. */
  const unchangedFiles = new Set<string>();
  let read = 0;
  // The worker lists the tree and reads its files ahead of this thread, which
  // checks each path as it comes and stores the files; folders are listed and checked
  // in the order a walk meets them, so the first problem met is the one reported.
  const options = { sep, firstFiles: FIRST_BATCH_FILES, batchFiles: BATCH_FILES, max: INLINE_MAX, budget: BATCH_BYTES, prefix: INLINE_FILE_HEADER };
  const root = dir.endsWith(sep) ? dir : dir + sep;
  const relOf = (abs: string) => (sep === '/' ? abs.slice(root.length) : abs.slice(root.length).split(sep).join('/'));
  const ignored = ignoreRules(dir, opts.exclude ?? []);
  // With a record, files are lstat'ed and only the changed ones read: few, so on this thread.
  // Ignore rules are asked on this thread too: the worker runs from source text, without the
  // `ignore` package; a worker's walk that meets a `.netsyncignore` starts again here.
  const inWorker =
    !cached && !opts.onThisThread && !(opts.exclude?.length ?? 0) && !existsSync(join(dir, IGNORE_FILE)) && holdsMoreFilesThan(dir, READER_MIN_FILES);
  const steps = cached
    ? walkHere(dir, { ...options, ignored, known: (abs, size, mtimeMs, ino, mode) => cached.matches(relOf(abs), record!.stamp, size, mtimeMs, ino, mode) })
    : inWorker
      ? await TreeReader.start(dir, options)
      : walkHere(dir, { ...options, ignored });
  /** Entries refused, each named once the walk is over: all of them, not only the first. */
  let refusedCount = 0;
  const refuse = (rel: string, why: string) => {
    refusedCount++;
    opts.onRefused?.(rel, why);
  };
  const manifestEntries: PathEntry[] = [];
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
        const name = rel.slice(rel.lastIndexOf('/') + 1);
        if (inWorker && name === IGNORE_FILE) throw RESTART_ON_THIS_THREAD;
        const problem = pathProblem(rel);
        if (problem) fail('usage', `cannot commit ${join(dir, rel)}: ${problem}`);
        if (name.length * 3 > NAME_MAX && Buffer.byteLength(name) > NAME_MAX) {
          fail('usage', `cannot commit ${join(dir, rel)}: a name longer than ${NAME_MAX} bytes`);
        }
        switch (step.types[i]) {
          case Listed.Dir:
            manifestEntries.push({ path: rel, type: EntryType.Dir });
            break;
          case Listed.File:
            unread.push(rel);
            break;
          case Listed.SymbolicLink: {
            // The target as data, never followed.
            const link = readLink(join(dir, rel));
            if (typeof link === 'string') refuse(rel, link);
            else manifestEntries.push({ path: rel, type: EntryType.Symlink, target: link });
            break;
          }
          default:
            refuse(rel, 'not a regular file, folder or symbolic link (a FIFO, a socket or a device)');
        }
      }
      if (step.failed) fail('io', `cannot read directory ${step.failed.abs}: ${step.failed.code}`);
      for (const u of step.unlisted) refuse(u.rel, `a folder that cannot be listed (${u.code})`);
      const first = unreadHead;
      unreadHead += step.found.length;
      const large: number[] = [];
      const remember = (i: number, rel: string, file: Buffer) =>
        stats.set(rel, { exec: (step.modes[i]! & 0o111) !== 0, size: step.sizes[i]!, mtimeMs: step.mtimes[i]!, ino: step.inos[i]!, file });
      store.batch(() => {
        let at = 0;
        for (let i = 0; i < step.found.length; i++) {
          const rel = unread[first + i]!;
          switch (step.found[i]) {
            case Found.Small: {
              const item = Buffer.from(step.buffer, at, INLINE_FILE_HEADER.length + step.sizes[i]!);
              at += item.length;
              const file = store.put(item).id;
              manifestEntries.push({ path: rel, type: fileType(step.modes[i]!), file });
              remember(i, rel, file);
              bytes += step.sizes[i]!;
              read++;
              break;
            }
            case Found.Cached: {
              // No file id yet: only a folder that is built needs it (storeTrees asks the cache).
              manifestEntries.push({ path: rel, type: fileType(step.modes[i]!) });
              stats.keep(rel, cached!);
              unchangedFiles.add(rel);
              bytes += step.sizes[i]!;
              break;
            }
            case Found.Large:
              large.push(i);
              break;
            case Found.Unreadable:
              refuse(rel, `cannot be read (${step.codes[i]})`);
              break;
            default:
              return fail('usage', `${join(dir, rel)} changed while committing: it is now ${step.codes[i]}`);
          }
        }
      });
      for (const i of large) {
        const rel = unread[first + i]!;
        const { id, size } = storeChunked(store, join(dir, rel));
        manifestEntries.push({ path: rel, type: fileType(step.modes[i]!), file: id });
        // The stat taken before reading: a change since gives the file another mtime.
        remember(i, rel, id);
        bytes += size;
        read++;
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
  } catch (e) {
    if (e !== RESTART_ON_THIS_THREAD) throw e;
    await steps.close();
    return commitDirectory(store, dir, { ...opts, onThisThread: true });
  } finally {
    await steps.close();
  }
  if (refusedCount > 0) {
    fail(
      'refused-entries',
      `refused ${refusedCount} ${refusedCount === 1 ? 'entry' : 'entries'} of ${dir}, each named above; nothing was committed (make them readable, or leave them out with --exclude or a ${IGNORE_FILE})`,
    );
  }
  if (unreadHead !== unread.length) fail('io', `the walk of ${dir} ended with ${unread.length - unreadHead} files unread`);
  const result = store.batch(() => {
    const heads = store.branchId(opts.branch) === null ? [] : branchHeads(store, opts.branch);
    // The true parent is the version the folder came from; a folder without a record follows the branch's heads.
    // The true parent: the one named, else the version the folder came from (and, after a merge --into, the
    // heads it joined); a new branch has none.
    const parents = opts.parent !== undefined ? [opts.parent] : fromRecord ? [record!.version, ...(record!.merging ?? []).filter((m) => store.has(m))] : heads;
    // The recorded version's folders are reused where nothing in them changed, whatever the parents.
    const recorded = fromRecord ? treeOf(store, record!.version) : null;
    const tree = storeTrees(store, manifestEntries, stats, recorded ? { tree: recorded, unchangedFiles } : null);
    const base = { tree: toHex(tree), files, bytes, read };
    const same = parents.length === 1 ? treeOf(store, parents[0]!) : null;
    if (same?.equals(tree)) {
      const onlyHead = heads.length === 1 && heads[0]!.equals(parents[0]!);
      return { ...base, manifest: toHex(parents[0]!), revision: toHex(parents[0]!), changed: false, onlyHead, version: parents[0]! };
    }
    const revision = storeRevision(store, opts.signer, opts.branch, tree, parents, opts.message, opts.date);
    return { ...base, manifest: toHex(revision), revision: toHex(revision), changed: true, onlyHead: false, version: revision };
  });
  const { version, ...out } = result;
  const changes = opts.parent === undefined ? undefined : changesFrom(flatTree(store, opts.parent), manifestEntries);
  if (stamp !== null) writeRecord(dir, { database: store.path, version, branch: opts.branch, stamp, stats });
  return { ...out, heads: branchHeads(store, opts.branch).length, ...(changes ? { changes } : {}) };
}

/** What `entries` adds, changes (content, type or link target) and removes relative to `parent`, in path order. */
function changesFrom(parent: Map<string, FlatEntry>, entries: readonly PathEntry[]): NonNullable<CommitResult['changes']> {
  const out: NonNullable<CommitResult['changes']> = [];
  const now = new Map(entries.map((e) => [e.path, e]));
  for (const e of entries) {
    const was = parent.get(e.path);
    if (!was) out.push({ change: 'added', path: e.path });
    else if (
      was.type !== e.type ||
      (e.type !== EntryType.Dir && !(e.file && was.file ? e.file.equals(was.file) : e.target && was.target ? e.target.equals(was.target) : false))
    )
      out.push({ change: 'changed', path: e.path });
  }
  for (const path of parent.keys()) if (!now.has(path)) out.push({ change: 'removed', path });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Stores a revision of `tree` with `parents` and its certs (date, author,
 * changelog, then branch last, which brings it into the branch): what a
 * commit and a merge record alike.
 */
export function storeRevision(
  store: WriteStore,
  signer: Signer,
  branch: string,
  tree: Buffer,
  parents: readonly Buffer[],
  message?: string,
  date?: Date,
): Buffer {
  const revision = store.put(encodeRevision(tree, parents)).id;
  store.put(encodeKey(signer.name, signer.pair.publicKey));
  const sign = (name: string, value: string) => signCert(store, signer, revision, name, value);
  sign('date', (date ?? new Date()).toISOString());
  sign('author', signer.name);
  if (message) sign('changelog', message);
  sign('branch', branch);
  return revision;
}

/** The tree of a stored revision, or null for a v3 manifest. */
function treeOf(store: WriteStore, version: Buffer): Buffer | null {
  const item = decodeItem(store.get(version)!.data);
  return item.kind === Kind.Revision ? item.tree : null;
}

/** What a re-commit may reuse: the recorded version's tree, and the files found unchanged since. */
interface Reuse {
  tree: Buffer;
  unchangedFiles: ReadonlySet<string>;
}

/**
 * Stores every folder's tree nodes, deepest folders first (a folder's entry
 * names its child's tree id); returns the root folder's tree id. A folder
 * whose files are all unchanged since the recorded version, whose folders
 * are all such folders, and which holds as many entries as it did then, is
 * that version's folder: its tree id is taken from there, nothing is built.
 * Nodes built anew that are already stored cost a hash and a lookup.
 */
export function storeTrees(store: WriteStore, entries: readonly PathEntry[], stats: StatCache = new StatCache(), reuse: Reuse | null = null): Buffer {
  const folders = new Map<string, TreeEntry[]>([['', []]]);
  for (const e of entries) if (e.type === EntryType.Dir) folders.set(e.path, []);
  for (const e of entries) {
    const slash = e.path.lastIndexOf('/');
    const parent = slash < 0 ? '' : e.path.slice(0, slash);
    const name = slash < 0 ? e.path : e.path.slice(slash + 1);
    folders.get(parent)!.push({ name, type: e.type, ...(e.file ? { id: e.file } : {}), ...(e.target ? { target: e.target } : {}) });
  }
  // Files taken from the record unread carry no id until their folder is built.
  const idOf = (path: string, e: TreeEntry) => {
    if (e.type !== EntryType.Dir && !e.id) e.id = stats.fileOf(path);
  };
  const deepestFirst = [...folders.keys()].sort((a, b) => depth(b) - depth(a));
  const ids = new Map<string, Buffer>();
  const reused = new Set<string>();
  const old = reuse ? new RecordedTree(store, reuse.tree) : null;
  for (const path of deepestFirst) {
    const list = folders.get(path)!;
    const child = (name: string) => (path ? `${path}/${name}` : name);
    for (const e of list) if (e.type === EntryType.Dir) e.id = ids.get(child(e.name))!;
    const clean = reuse && list.every((e) => (e.type === EntryType.Dir ? reused.has(child(e.name)) : reuse.unchangedFiles.has(child(e.name))));
    const before = clean ? old!.folder(path, list.length) : null;
    if (before) {
      ids.set(path, before);
      reused.add(path);
      continue;
    }
    for (const e of list) idOf(child(e.name), e);
    const built = buildFolder(list);
    for (const node of built.nodes) store.put(node);
    ids.set(path, built.id);
  }
  return ids.get('')!;
}

/** Folders of a stored tree by path, found on demand (only the folders on the way are read). */
class RecordedTree {
  private readonly found = new Map<string, Buffer | null>();

  constructor(
    private readonly store: WriteStore,
    root: Buffer,
  ) {
    this.found.set('', root);
  }

  /** The tree id of the folder at `path` if it is there and holds `count` entries, else null. */
  folder(path: string, count: number): Buffer | null {
    const id = this.lookup(path);
    if (!id) return null;
    return treeNodeCount(this.store.get(id)!.data) === count ? id : null;
  }

  private lookup(path: string): Buffer | null {
    const known = this.found.get(path);
    if (known !== undefined) return known;
    const slash = path.lastIndexOf('/');
    const parent = this.lookup(slash < 0 ? '' : path.slice(0, slash));
    const name = path.slice(slash + 1);
    let id: Buffer | null = null;
    if (parent) {
      for (const e of folderEntries((i) => this.store.get(i)?.data ?? null, parent)) {
        if (e.name === name) {
          id = e.type === EntryType.Dir ? e.id! : null;
          break;
        }
      }
    }
    this.found.set(path, id);
    return id;
  }
}

function depth(path: string): number {
  if (path === '') return 0;
  let n = 1;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) n++;
  return n;
}
