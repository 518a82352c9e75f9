/**
 * `checkout (BRANCH|ID) DIR`: writes a version's tree (a v4 revision's, or a
 * v3 manifest's) into a new or empty folder, streaming chunked files, and
 * leaves the workspace record (record.ts) naming that version, so that a
 * commit of the folder names it as its parent and reads only what changed.
 * Files are created as git does: mode 0666, or 0777 when executable, masked
 * by the umask (a private file under umask 077 stays private).
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
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
}

/** A path, its type and file id: what a checkout writes, from a manifest or from a tree. */
interface Planned {
  path: string;
  type: EntryType;
  file?: Buffer;
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
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) fail('usage', `${dir} is a file; check out into a new or empty folder`);
    if (readdirSync(dir).length > 0) fail('usage', `${dir} is not empty; check out into a new or empty folder`);
  }
  const read = (id: Buffer) => store.get(id)?.data ?? null;
  const entries: Planned[] =
    item.kind === Kind.Manifest
      ? item.entries.map((e) => ({ path: e.path, type: e.type, file: e.file }))
      : [...treeWalk(read, item.tree)].map((e) => ({ path: e.path, type: e.type, file: e.id }));
  // The workspace record's own name: a commit never records it, and a tree that holds it would mix with the record.
  const clash = entries.find((e) => e.path === RECORD_DIR);
  if (clash) fail('usage', `${toHex(manifestId)} holds "${RECORD_DIR}" at its top, the name of the workspace record; it cannot be checked out`);
  const link = entries.find((e) => e.type === EntryType.Symlink);
  if (link) fail('usage', `${toHex(manifestId)} holds a symbolic link, "${link.path}", which this version of Netsync does not check out`);
  mkdirSync(dir, { recursive: true });
  const totalFiles = entries.filter((e) => e.type !== EntryType.Dir).length;
  const result: CheckoutResult = { files: 0, dirs: 0, bytes: 0 };
  const stats = new StatCache();
  for (const e of entries) {
    const target = join(dir, ...e.path.split('/'));
    if (e.type === EntryType.Dir) {
      mkdirSync(target);
      result.dirs++;
      continue;
    }
    const written = writeFileItem(store, e.file!, target, e.type === EntryType.Executable ? 0o777 : 0o666);
    stats.set(e.path, { ...written, exec: e.type === EntryType.Executable, file: e.file! });
    result.bytes += written.size;
    result.files++;
    if (result.files % 500 === 0) onProgress?.({ files: result.files, totalFiles });
  }
  onProgress?.({ files: result.files, totalFiles });
  // Taken after the files are written: one written in the stamp's own tick is racy and read again (record.ts).
  const stamp = takeStamp(dir);
  if (stamp !== null) writeRecord(dir, { database: store.path, version: manifestId, branch, stamp, stats });
  return result;
}

/** Writes one file item's content to a new file `target` created with `mode` (the umask applies), a chunk at a time. */
export function writeFileItem(store: ReadStore, fileId: Buffer, target: string, mode: number): { size: number; mtimeMs: number; ino: number } {
  const file = decodeItem(store.get(fileId)!.data);
  if (file.kind !== Kind.File) fail('db-corrupt', `${toHex(fileId)} should be a file`);
  const fd = openSync(target, 'wx', mode);
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
