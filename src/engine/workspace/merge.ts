/**
 * `merge BRANCH`: joins two heads of a branch by a three-way merge of their
 * trees against a common ancestor, path by path, text files line by line
 * (node-diff3's diff3Merge; the three-way algorithm is that library's).
 *
 * The base is a lowest common ancestor of the two heads in the revision
 * graph. A criss-cross history has several; then the most recent by `date`
 * cert is taken (ties: the smallest id), as docs/ARCHITECTURE.md says. Two
 * heads without a common ancestor merge against the empty tree.
 *
 * Per path, a side that left it as the base had it takes the other side's
 * version; both sides changing it alike take that. Otherwise:
 * - two text files: their lines are merged; the same lines changed
 *   differently are a `content` conflict; executable bits merge on their own
 *   (both changed differently: `executable`);
 * - a binary file (holding NUL or invalid UTF-8) changed on both sides: `binary`;
 * - changed on one side, deleted on the other (a folder too, when the other
 *   side added or changed something in it): `modify/delete`;
 * - a file (or link) against a folder: `file/folder`; a file against a link: `file/link`;
 * - two links with different targets: `link`.
 * Without conflict the merge is a revision with both heads as parents,
 * signed like a commit. With conflicts nothing is committed; `--into DIR`
 * writes the merged tree with conflict markers (the other side of a
 * file/folder conflict beside it, as PATH~theirs or PATH~ours) and a
 * workspace record naming both heads, whose commit records both as parents.
 */
import { isUtf8 } from 'node:buffer';
import { diff3Merge } from 'node-diff3';
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { Chunker } from '../items/chunker.js';
import { type ChunkRef, EntryType, INLINE_MAX, Kind, decodeItem, encodeChunk, encodeChunkedFile, encodeInlineFile } from '../items/format.js';
import { branchHeads, describeVersion } from '../store/history.js';
import type { ReadStore, WriteStore } from '../store/store.js';
import { type Planned, writeEntries } from './checkout.js';
import { type FlatEntry, flatTree } from './flat-tree.js';
import { type PathEntry, type Signer, storeRevision, storeTrees } from './commit.js';
import { StatCache, takeStamp, writeRecord } from './record.js';

export type ConflictKind = 'content' | 'binary' | 'executable' | 'modify/delete' | 'file/folder' | 'file/link' | 'link';

export interface Conflict {
  kind: ConflictKind;
  path: string;
}

/** One path of a merged tree: a flattened entry, or merged bytes not stored as an item yet (a text merge). */
interface Entry extends FlatEntry {
  content?: Buffer;
}

export interface MergeOptions {
  signer: Signer;
  /** Write the merged tree here (a new or empty folder) instead of committing it. */
  into?: string;
  message?: string;
  date?: Date;
}

export interface MergeResult {
  /** The two heads joined (hex), "ours" first: the newer. */
  heads: [string, string];
  /** Heads the branch had (more than two: merged two at a time). */
  headCount: number;
  /** The common ancestor merged against (hex), null for none. */
  base: string | null;
  conflicts: Conflict[];
  /** The merge revision (hex), when committed. */
  revision: string | null;
  /** Files, folders and links written with --into. */
  written?: { files: number; dirs: number; links: number; skippedLinks: string[] };
}

/** Text files larger than this are not merged line by line: a change on both sides is a conflict. */
const TEXT_MERGE_MAX = 64 << 20;

export function mergeBranch(store: WriteStore, branch: string, opts: MergeOptions): MergeResult {
  if (store.branchId(branch) === null) fail('not-found', `no branch named "${branch}" in ${store.path}`);
  const heads = branchHeads(store, branch)
    .map((h) => describeVersion(store, h))
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.manifest.localeCompare(b.manifest));
  if (heads.length < 2) fail('usage', `${branch} has one head (${heads[0]?.manifest.slice(0, 12) ?? 'none'}); there is nothing to merge`);
  // More than two: the two newest now, the rest by running merge again.
  const ours = Buffer.from(heads[0]!.manifest, 'hex');
  const theirs = Buffer.from(heads[1]!.manifest, 'hex');
  const base = lowestCommonAncestor(store, ours, theirs);
  const merged = mergeTrees(store, base ? flatTree(store, base) : new Map(), flatTree(store, ours), flatTree(store, theirs));
  const result: MergeResult = {
    heads: [toHex(ours), toHex(theirs)],
    headCount: heads.length,
    base: base ? toHex(base) : null,
    conflicts: merged.conflicts,
    revision: null,
  };
  if (opts.into !== undefined) {
    const planned: Planned[] = [...merged.entries].map(([path, e]) => ({ path, type: e.type, file: e.file, content: e.content, target: e.target }));
    const { result: written } = writeEntries(store, opts.into, planned);
    const stamp = takeStamp(opts.into);
    if (stamp !== null) writeRecord(opts.into, { database: store.path, version: ours, merging: [theirs], branch, stamp, stats: new StatCache() });
    result.written = written;
    return result;
  }
  if (merged.conflicts.length > 0) return result;
  const revision = store.batch(() => {
    const entries: PathEntry[] = [...merged.entries].map(([path, e]) => ({
      path,
      type: e.type,
      ...(e.type === EntryType.Dir ? {} : e.type === EntryType.Symlink ? { target: e.target } : { file: e.file ?? storeContent(store, e.content!) }),
    }));
    const tree = storeTrees(store, entries);
    const message = opts.message ?? `merge of ${toHex(ours).slice(0, 12)} and ${toHex(theirs).slice(0, 12)}`;
    return storeRevision(store, opts.signer, branch, tree, [ours, theirs], message, opts.date);
  });
  result.revision = toHex(revision);
  return result;
}

/** A version's parents: a revision's own, a v3 manifest's `ancestor` certs. */
function parentsOf(store: ReadStore, version: Buffer): Buffer[] {
  return describeVersion(store, version)
    .parents.map((p) => Buffer.from(p, 'hex'))
    .filter((p) => store.has(p));
}

function ancestors(store: ReadStore, from: Buffer): Set<string> {
  const seen = new Set<string>();
  const stack = [from];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const hex = toHex(next);
    if (seen.has(hex)) continue;
    seen.add(hex);
    stack.push(...parentsOf(store, next));
  }
  return seen;
}

/**
 * The lowest common ancestor of two versions: a common ancestor that is no
 * ancestor of another common ancestor. Several (a criss-cross history): the
 * one with the most recent `date`, then the smallest id. None: null.
 */
export function lowestCommonAncestor(store: ReadStore, a: Buffer, b: Buffer): Buffer | null {
  const ofB = ancestors(store, b);
  const common = [...ancestors(store, a)].filter((h) => ofB.has(h));
  if (common.length === 0) return null;
  const below = new Set<string>();
  for (const c of common) {
    for (const p of parentsOf(store, Buffer.from(c, 'hex'))) for (const x of ancestors(store, p)) below.add(x);
  }
  const lowest = common
    .filter((c) => !below.has(c))
    .map((c) => ({ c, date: describeVersion(store, Buffer.from(c, 'hex')).date ?? '' }))
    .sort((x, y) => y.date.localeCompare(x.date) || x.c.localeCompare(y.c));
  return Buffer.from(lowest[0]!.c, 'hex');
}

function same(x: Entry | undefined, y: Entry | undefined): boolean {
  if (!x || !y) return x === y;
  if (x.type !== y.type) return false;
  if (x.type === EntryType.Dir) return true;
  if (x.type === EntryType.Symlink) return x.target!.equals(y.target!);
  return x.file!.equals(y.file!);
}

const isFile = (e: Entry | undefined): e is Entry => e !== undefined && (e.type === EntryType.File || e.type === EntryType.Executable);

/** The three-way merge of three flattened trees: the merged paths (each folder before what it holds) and the conflicts. */
export function mergeTrees(
  store: ReadStore,
  base: Map<string, Entry>,
  ours: Map<string, Entry>,
  theirs: Map<string, Entry>,
): { entries: Map<string, Entry>; conflicts: Conflict[] } {
  const paths = [...new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out = new Map<string, Entry>();
  const conflicts: Conflict[] = [];
  const conflict = (kind: ConflictKind, path: string) => conflicts.push({ kind, path });
  /** The side of a file/folder conflict that is not kept, written beside it with --into. */
  const aside = new Map<string, Entry>();
  for (const path of paths) {
    const b = base.get(path);
    const x = ours.get(path);
    const y = theirs.get(path);
    let e: Entry | undefined;
    if (same(x, y)) e = x;
    else if (same(x, b)) e = y;
    else if (same(y, b)) e = x;
    else if (!x || !y) {
      conflict('modify/delete', path);
      e = x ?? y;
    } else if ((x.type === EntryType.Dir) !== (y.type === EntryType.Dir)) {
      conflict('file/folder', path);
      e = x.type === EntryType.Dir ? x : y;
      aside.set(`${path}~${x.type === EntryType.Dir ? 'theirs' : 'ours'}`, x.type === EntryType.Dir ? y : x);
    } else if (x.type === EntryType.Symlink && y.type === EntryType.Symlink) {
      conflict('link', path);
      e = x;
    } else if (x.type === EntryType.Symlink || y.type === EntryType.Symlink) {
      conflict('file/link', path);
      e = x;
    } else {
      e = mergeFiles(store, path, isFile(b) ? b : undefined, x, y, conflict);
    }
    if (e) out.set(path, e);
  }
  // A path kept whose folder went (deleted, or replaced by a file, on one side): that side's change conflicts.
  for (const path of [...out.keys()]) {
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      const parent = path.slice(0, slash);
      const kept = out.get(parent);
      if (kept?.type === EntryType.Dir) break;
      if (kept) {
        conflict('file/folder', parent);
        aside.set(`${parent}~${ours.get(parent)?.type === EntryType.Dir ? 'theirs' : 'ours'}`, kept);
      } else {
        conflict('modify/delete', parent);
      }
      out.set(parent, { type: EntryType.Dir });
    }
  }
  for (const [path, e] of aside) if (!out.has(path)) out.set(path, e);
  const seen = new Set<string>();
  const unique = conflicts.filter((c) => !seen.has(`${c.kind}\0${c.path}`) && seen.add(`${c.kind}\0${c.path}`));
  const ordered = new Map([...out].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  return { entries: walkOrder(ordered), conflicts: unique.sort((a, b) => a.path.localeCompare(b.path)) };
}

/** Paths in the order a checkout writes them: each folder, then what it holds (a name and a name with a suffix may sort apart). */
function walkOrder(entries: Map<string, Entry>): Map<string, Entry> {
  const children = new Map<string, string[]>();
  for (const path of entries.keys()) {
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    children.set(parent, [...(children.get(parent) ?? []), path]);
  }
  const out = new Map<string, Entry>();
  const visit = (folder: string) => {
    for (const path of children.get(folder) ?? []) {
      out.set(path, entries.get(path)!);
      visit(path);
    }
  };
  visit('');
  return out;
}

function mergeFiles(store: ReadStore, path: string, b: Entry | undefined, x: Entry, y: Entry, conflict: (kind: ConflictKind, path: string) => void): Entry {
  let type = x.type;
  if (x.type !== y.type) {
    if (b?.type === x.type) type = y.type;
    else if (b?.type !== y.type) conflict('executable', path);
  }
  if (x.file!.equals(y.file!)) return { type, file: x.file };
  if (b && b.file!.equals(x.file!)) return { type, file: y.file };
  if (b && b.file!.equals(y.file!)) return { type, file: x.file };
  const texts = [b ? readContent(store, b.file!) : Buffer.alloc(0), readContent(store, x.file!), readContent(store, y.file!)];
  if (texts.some((t) => t === null || t.includes(0) || !isUtf8(t))) {
    conflict('binary', path);
    return { type, file: x.file };
  }
  const [o, a, t] = texts.map((buf) => splitLines(buf!.toString('utf8')));
  const lines: string[] = [];
  let clean = true;
  for (const region of diff3Merge(a!, o!, t!, { excludeFalseConflicts: true })) {
    if (region.ok) {
      lines.push(...region.ok);
      continue;
    }
    clean = false;
    const c = region.conflict!;
    const block = (marker: string, side: string[]) => [`${marker}\n`, ...endWithNewline(side)];
    lines.push(...block('<<<<<<< ours', c.a), ...block('||||||| base', c.o), ...block('=======', c.b), '>>>>>>> theirs\n');
  }
  if (!clean) conflict('content', path);
  return { type, content: Buffer.from(lines.join(''), 'utf8') };
}

/** Lines with their line ends, so that joining them gives the text back. */
function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

function endWithNewline(lines: string[]): string[] {
  if (lines.length === 0 || lines[lines.length - 1]!.endsWith('\n')) return lines;
  return [...lines.slice(0, -1), `${lines[lines.length - 1]}\n`];
}

/** A file item's bytes; null when too large to merge line by line. */
function readContent(store: ReadStore, fileId: Buffer): Buffer | null {
  const file = decodeItem(store.get(fileId)!.data);
  if (file.kind !== Kind.File) return fail('db-corrupt', `${toHex(fileId)} should be a file`);
  if (file.layout === 'inline') return file.content;
  if (file.size > TEXT_MERGE_MAX) return null;
  return Buffer.concat(file.chunks.map((c) => store.get(c.id)!.data.subarray(1)));
}

/** Stores merged bytes as a file item (inline, or chunked when large); returns its id. */
function storeContent(store: WriteStore, content: Buffer): Buffer {
  if (content.length <= INLINE_MAX) return store.put(encodeInlineFile(content)).id;
  const chunker = new Chunker();
  const refs: ChunkRef[] = [];
  for (const c of [...chunker.push(content), ...chunker.end()]) refs.push({ id: store.put(encodeChunk(c)).id, length: c.length });
  return store.put(encodeChunkedFile(refs)).id;
}
