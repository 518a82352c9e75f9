/**
 * The workspace record `DIR/.netsync/` of a committed or checked-out folder
 * (never committed, never synced): which version the folder came from, and a
 * stat cache (path, size, mtime, inode, file id) so that a re-commit hashes
 * only files whose metadata changed.
 *
 * The trap of every such cache ("racy git"): a file changed within the
 * timestamp granularity of its cache entry keeps its mtime, so its entry
 * would still match. Each record carries a stamp, the file system's own clock
 * read (as the mtime of a file written in `.netsync/`) before the files were
 * looked at; an entry whose mtime is not older than the stamp is racy and
 * its file is read again. A file looked at after the stamp and changed later
 * gets an mtime of at least the stamp, which differs from the one recorded.
 *
 * Best effort: a folder that cannot be written (a read-only tree) gets no
 * record, and a record that cannot be read is ignored; either way the next
 * commit reads every file, which is always correct.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ID_BYTES } from '../hash.js';

/** The record's folder in a workspace; a commit never records it (walkAndRead skips it at the root). */
export const RECORD_DIR = '.netsync';
const RECORD_FILE = 'record.json';
const STAT_FILE = 'stat-cache';
const STAMP_FILE = 'stamp';
const STAT_MAGIC = Buffer.from('NSSC0001');

export interface StatEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  /** The file item's id. */
  file: Buffer;
}

export interface WorkspaceRecord {
  /** The database the record's ids are in (absolute path): another database ignores the record. */
  database: string;
  /** The version (revision, or v3 manifest) the folder came from. */
  version: Buffer;
  /** Other heads a merge written with `merge --into` joins: the next commit names them as parents too. */
  merging?: Buffer[];
  /** The branch it was committed to or checked out from, if any. */
  branch: string | null;
  /** The file system's clock before the files were looked at: entries with an mtime not older are racy. */
  stamp: number;
  /** By '/'-separated path relative to the folder. */
  stats: Map<string, StatEntry>;
}

/** The file system's clock, read as the mtime of a file just written in the record's folder; null if the folder is not writable. */
export function takeStamp(dir: string): number | null {
  try {
    mkdirSync(join(dir, RECORD_DIR), { recursive: true });
    const fd = openSync(join(dir, RECORD_DIR, STAMP_FILE), 'w');
    try {
      writeSync(fd, String(Date.now()));
      return fstatSync(fd).mtimeMs;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** Whether a file's stat still matches its entry and the entry is not racy: the file need not be read. */
export function unchanged(entry: StatEntry | undefined, stamp: number, size: number, mtimeMs: number, ino: number): boolean {
  return entry !== undefined && entry.size === size && entry.mtimeMs === mtimeMs && entry.ino === ino && mtimeMs < stamp;
}

/** The record of `dir` for the database at `database`, or null (none, unreadable, or another database's). */
export function readRecord(dir: string, database: string): WorkspaceRecord | null {
  try {
    const head = JSON.parse(readFileSync(join(dir, RECORD_DIR, RECORD_FILE), 'utf8')) as Record<string, unknown>;
    if (head.format !== 1 || head.database !== resolve(database) || typeof head.version !== 'string' || !/^[0-9a-f]{64}$/.test(head.version)) return null;
    if (typeof head.stamp !== 'number') return null;
    const stats = readStats(readFileSync(join(dir, RECORD_DIR, STAT_FILE)));
    const merging = Array.isArray(head.merging) ? head.merging.filter((m): m is string => typeof m === 'string' && /^[0-9a-f]{64}$/.test(m)) : [];
    return {
      database: head.database,
      version: Buffer.from(head.version, 'hex'),
      ...(merging.length > 0 ? { merging: merging.map((m) => Buffer.from(m, 'hex')) } : {}),
      branch: typeof head.branch === 'string' ? head.branch : null,
      stamp: head.stamp,
      stats: stats ?? new Map(),
    };
  } catch {
    return null;
  }
}

/** Writes the record (stat cache first, then the head that names it, each by rename); false if the folder is not writable. */
export function writeRecord(dir: string, record: WorkspaceRecord): boolean {
  const at = join(dir, RECORD_DIR);
  try {
    mkdirSync(at, { recursive: true });
    writeFileSync(join(at, `${STAT_FILE}.tmp`), encodeStats(record.stats));
    renameSync(join(at, `${STAT_FILE}.tmp`), join(at, STAT_FILE));
    const head = {
      format: 1,
      database: resolve(record.database),
      version: record.version.toString('hex'),
      ...(record.merging?.length ? { merging: record.merging.map((m) => m.toString('hex')) } : {}),
      branch: record.branch,
      stamp: record.stamp,
    };
    writeFileSync(join(at, `${RECORD_FILE}.tmp`), `${JSON.stringify(head, null, 2)}\n`);
    renameSync(join(at, `${RECORD_FILE}.tmp`), join(at, RECORD_FILE));
    return true;
  } catch {
    return false;
  }
}

/** Per entry: u16 path length, path, then size, mtime and inode as doubles, then the file id. */
function encodeStats(stats: Map<string, StatEntry>): Buffer {
  const parts: Buffer[] = [STAT_MAGIC];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(stats.size);
  parts.push(count);
  for (const [path, e] of stats) {
    const p = Buffer.from(path, 'utf8');
    const b = Buffer.alloc(2 + p.length + 24 + ID_BYTES);
    b.writeUInt16BE(p.length, 0);
    p.copy(b, 2);
    let at = 2 + p.length;
    at = b.writeDoubleBE(e.size, at);
    at = b.writeDoubleBE(e.mtimeMs, at);
    at = b.writeDoubleBE(e.ino, at);
    e.file.copy(b, at);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** The stat cache, or null when its bytes are not one (then every file is read again). */
function readStats(bytes: Buffer): Map<string, StatEntry> | null {
  if (bytes.length < 12 || !bytes.subarray(0, 8).equals(STAT_MAGIC)) return null;
  const n = bytes.readUInt32BE(8);
  const stats = new Map<string, StatEntry>();
  let at = 12;
  for (let i = 0; i < n; i++) {
    if (at + 2 > bytes.length) return null;
    const length = bytes.readUInt16BE(at);
    const end = at + 2 + length + 24 + ID_BYTES;
    if (end > bytes.length) return null;
    const path = bytes.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
    stats.set(path, {
      size: bytes.readDoubleBE(at),
      mtimeMs: bytes.readDoubleBE(at + 8),
      ino: bytes.readDoubleBE(at + 16),
      file: Buffer.from(bytes.subarray(at + 24, end)),
    });
    at = end;
  }
  return at === bytes.length ? stats : null;
}
