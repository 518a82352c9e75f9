/**
 * `checkout (BRANCH|ID) DIR`: writes a version's tree (a v4 revision's, or a
 * v3 manifest's) into a new or empty folder, streaming chunked files, and
 * leaves the workspace record (record.ts) naming that version, so that a
 * commit of the folder names it as its parent and reads only what changed.
 * Files are created as git does: mode 0666, or 0777 when executable, masked
 * by the umask (a private file under umask 077 stays private).
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { EntryType, Kind, decodeItem } from '../items/format.js';
import { treeWalk } from '../items/tree.js';
import type { ReadStore } from '../store/store.js';
import { RECORD_DIR, StatCache, takeStamp, writeRecord } from './record.js';

export interface CheckoutResult {
  files: number;
  dirs: number;
  bytes: number;
  links: number;
  /** Links this system could not create (none where links exist). */
  skippedLinks: string[];
}

/** A path, its type and content: what a checkout writes, from a manifest, a tree or a merge. */
export interface Planned {
  path: string;
  type: EntryType;
  /** A file's item. */
  file?: Buffer;
  /** A file's bytes, when they are not an item (a merge's text with conflict markers). */
  content?: Buffer;
  /** A link's target. */
  target?: Buffer;
}

export function checkoutManifest(
  store: ReadStore,
  manifestId: Buffer,
  dir: string,
  onProgress?: (p: { files: number; totalFiles: number }) => void,
  branch: string | null = null,
): CheckoutResult {
  const item = decodeItem(store.get(manifestId)!.data);
  if (item.kind !== Kind.Manifest && item.kind !== Kind.Revision) fail('usage', `${toHex(manifestId)} is not a revision or a manifest`);
  const read = (id: Buffer) => store.get(id)?.data ?? null;
  const entries: Planned[] =
    item.kind === Kind.Manifest
      ? item.entries.map((e) => ({ path: e.path, type: e.type, file: e.file }))
      : [...treeWalk(read, item.tree)].map((e) => ({ path: e.path, type: e.type, file: e.id, target: e.target }));
  // The workspace record's own name: a commit never records it, and a tree that holds it would mix with the record.
  const clash = entries.find((e) => e.path === RECORD_DIR);
  if (clash) fail('usage', `${toHex(manifestId)} holds "${RECORD_DIR}" at its top, the name of the workspace record; it cannot be checked out`);
  const written = writeEntries(store, dir, entries, onProgress);
  // Taken after the files are written: one written in the stamp's own tick is racy and read again (record.ts).
  const stamp = takeStamp(dir);
  if (stamp !== null) writeRecord(dir, { database: store.path, version: manifestId, branch, stamp, stats: written.stats });
  return written.result;
}

/** Refuses a folder that is neither new nor empty: a checkout never writes over anything. */
export function requireEmptyFolder(dir: string): void {
  if (existsSync(dir)) {
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) fail('usage', `${dir} is a symbolic link; check out into a new or empty folder, never through a link`);
    if (!st.isDirectory()) fail('usage', `${dir} is not a folder; check out into a new or empty folder`);
    if (readdirSync(dir).length > 0) fail('usage', `${dir} is not empty; check out into a new or empty folder`);
  }
}

/**
 * Writes `entries` (each folder before what it holds) into the new or empty
 * folder `dir`. Nothing is written through a link or outside `dir`: paths
 * are checked first (no two may land on one file of this file system, no
 * name Windows cannot hold when on Windows), then every folder, file and
 * link is created exclusively, so that one met where it should not be is an
 * error, never followed. A system that cannot make links gets the rest, and
 * the links it skipped are returned.
 */
export function writeEntries(
  store: ReadStore,
  dir: string,
  entries: readonly Planned[],
  onProgress?: (p: { files: number; totalFiles: number }) => void,
): { result: CheckoutResult; stats: StatCache } {
  requireEmptyFolder(dir);
  mkdirSync(dir, { recursive: true });
  refuseCollisions(dir, entries);
  const totalFiles = entries.filter((e) => e.type !== EntryType.Dir).length;
  const result: CheckoutResult = { files: 0, dirs: 0, bytes: 0, links: 0, skippedLinks: [] };
  const stats = new StatCache();
  for (const e of entries) {
    const target = join(dir, ...e.path.split('/'));
    if (e.type === EntryType.Dir) {
      mkdirSync(target);
      result.dirs++;
      continue;
    }
    if (e.type === EntryType.Symlink) {
      try {
        symlinkSync(e.target!.toString('utf8'), target);
        result.links++;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
        result.skippedLinks.push(e.path);
      }
      continue;
    }
    const mode = e.type === EntryType.Executable ? 0o777 : 0o666;
    if (e.content) {
      writeFileSync(target, e.content, { flag: 'wx', mode });
      result.bytes += e.content.length;
    } else {
      const written = writeFileItem(store, e.file!, target, mode);
      stats.set(e.path, { ...written, exec: e.type === EntryType.Executable, file: e.file! });
      result.bytes += written.size;
    }
    result.files++;
    if (result.files % 500 === 0) onProgress?.({ files: result.files, totalFiles });
  }
  onProgress?.({ files: result.files, totalFiles });
  return { result, stats };
}

/** Names Windows cannot hold: reserved device names (with any extension), its forbidden characters, a trailing dot or space. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])(\..*)?$/i;
const WINDOWS_FORBIDDEN = /[<>:"\\|?*]/;

export function windowsNameProblem(name: string): string | null {
  if (WINDOWS_FORBIDDEN.test(name) || [...name].some((c) => c.charCodeAt(0) < 0x20))
    return 'holds a character Windows does not allow in a name (< > : " \\ | ? * or a control character)';
  if (WINDOWS_RESERVED.test(name)) return 'is a name Windows reserves for a device';
  if (/[. ]$/.test(name)) return 'ends with a dot or a space, which Windows drops';
  return null;
}

/**
 * How this file system compares names, found the way git finds it: a probe
 * file in the folder, looked up by another spelling. Case-insensitive
 * (macOS, Windows by default) and Unicode-normalising (macOS HFS+) systems
 * map two names of a tree to one file; a checkout refuses such a tree.
 */
function foldsOf(dir: string): { caseFolds: boolean; normalises: boolean } {
  const probe = (written: string, looked: string) => {
    const path = join(dir, written);
    try {
      writeFileSync(path, '', { flag: 'wx' });
      try {
        return existsSync(join(dir, looked));
      } finally {
        unlinkSync(path);
      }
    } catch {
      return true; // cannot tell: assume the stricter
    }
  };
  return { caseFolds: probe('.netsync-probe-a', '.NETSYNC-PROBE-A'), normalises: probe('.netsync-probe-\u00e9', '.netsync-probe-e\u0301') };
}

/** The first two paths that name one file on a file system that folds as `folds` says, or null. */
export function collision(paths: readonly string[], folds: { caseFolds: boolean; normalises: boolean }): [string, string] | null {
  if (!folds.caseFolds && !folds.normalises) return null;
  const seen = new Map<string, string>();
  for (const path of paths) {
    let key = folds.normalises ? path.normalize('NFD') : path;
    if (folds.caseFolds) key = key.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) return [other, path];
    seen.set(key, path);
  }
  return null;
}

function refuseCollisions(dir: string, entries: readonly Planned[]): void {
  const windows = process.platform === 'win32';
  for (const e of entries) {
    if (!windows) break;
    for (const name of e.path.split('/')) {
      const problem = windowsNameProblem(name);
      if (problem) fail('usage', `cannot check out "${e.path}" on Windows: "${name}" ${problem}`);
    }
  }
  const folds = foldsOf(dir);
  const pair = collision(
    entries.map((e) => e.path),
    folds,
  );
  if (pair) {
    fail(
      'usage',
      `cannot check out into ${dir}: "${pair[0]}" and "${pair[1]}" would be one file on this file system (it ignores ${folds.caseFolds ? 'case' : 'Unicode normalisation'}); nothing was written`,
    );
  }
}

/** Writes one file item's content to a new file `target` created with `mode` (the umask applies), a chunk at a time. */
export function writeFileItem(store: ReadStore, fileId: Buffer, target: string, mode: number): { size: number; mtimeMs: number; ino: number } {
  const file = decodeItem(store.get(fileId)!.data);
  if (file.kind !== Kind.File) fail('db-corrupt', `${toHex(fileId)} should be a file`);
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode);
  try {
    if (file.layout === 'inline') {
      writeAll(fd, file.content);
    } else {
      for (const c of file.chunks) {
        const chunk = store.get(c.id);
        if (!chunk) fail('db-corrupt', `chunk ${toHex(c.id)} of ${target} is missing`);
        writeAll(fd, chunk.data.subarray(1));
      }
    }
    const st = fstatSync(fd);
    return { size: file.size, mtimeMs: st.mtimeMs, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}
