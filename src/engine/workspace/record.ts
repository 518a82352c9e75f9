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
/** Bytes of an entry besides its path: its length, exec flag, three doubles, the id. */
const ENTRY_FIXED = 2 + 1 + 24 + ID_BYTES;

export interface StatEntry {
  /** Whether any execute bit was set: a chmod changes no mtime, and the tree records the bit. */
  exec: boolean;
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
  stats: StatCache;
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
export function unchanged(entry: StatEntry | undefined, stamp: number, size: number, mtimeMs: number, ino: number, mode: number): boolean {
  return (
    entry !== undefined && entry.size === size && entry.mtimeMs === mtimeMs && entry.ino === ino && mtimeMs < stamp && entry.exec === ((mode & 0o111) !== 0)
  );
}

/** The record of `dir` for the database at `database`, or null (none, unreadable, or another database's). */
export function readRecord(dir: string, database: string): WorkspaceRecord | null {
  try {
    const head = JSON.parse(readFileSync(join(dir, RECORD_DIR, RECORD_FILE), 'utf8')) as Record<string, unknown>;
    if (head.format !== 1 || head.database !== resolve(database) || typeof head.version !== 'string' || !/^[0-9a-f]{64}$/.test(head.version)) return null;
    if (typeof head.stamp !== 'number') return null;
    const stats = StatCache.decode(readFileSync(join(dir, RECORD_DIR, STAT_FILE)));
    const merging = Array.isArray(head.merging) ? head.merging.filter((m): m is string => typeof m === 'string' && /^[0-9a-f]{64}$/.test(m)) : [];
    return {
      database: head.database,
      version: Buffer.from(head.version, 'hex'),
      ...(merging.length > 0 ? { merging: merging.map((m) => Buffer.from(m, 'hex')) } : {}),
      branch: typeof head.branch === 'string' ? head.branch : null,
      stamp: head.stamp,
      stats: stats ?? new StatCache(),
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
    writeFileSync(join(at, `${STAT_FILE}.tmp`), record.stats.encode());
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

/**
 * The stat cache: per path its entry, read lazily from the cache file's
 * bytes (an offset per path, no object per entry: a re-commit of 100,000
 * unchanged files touches each entry once, and 100,000 small objects and
 * buffers cost it more than the comparisons). Entries of files read anew
 * are set; those of files found unchanged are kept from the cache the
 * commit started from, and written back by copying their bytes.
 *
 * Per entry: u16 path length, path, u8 exec (0 or 1), then size, mtime and
 * inode as big-endian doubles, then the 32-byte file id; after the magic
 * `NSSC0001` and a u32 count.
 */
export class StatCache {
  /** Entries kept from `raw`: the offset of each entry's first byte there. */
  private readonly offsets = new Map<string, number>();
  private readonly fresh = new Map<string, StatEntry>();

  constructor(private readonly raw: Buffer = Buffer.alloc(0)) {}

  /** The cache in `bytes`, or null when they are not one (then every file is read again). */
  static decode(bytes: Buffer): StatCache | null {
    if (bytes.length < 12 || !bytes.subarray(0, 8).equals(STAT_MAGIC)) return null;
    const n = bytes.readUInt32BE(8);
    const cache = new StatCache(bytes);
    let at = 12;
    for (let i = 0; i < n; i++) {
      if (at + 2 > bytes.length) return null;
      const length = bytes.readUInt16BE(at);
      if (at + ENTRY_FIXED + length > bytes.length) return null;
      cache.offsets.set(bytes.toString('utf8', at + 2, at + 2 + length), at);
      at += ENTRY_FIXED + length;
    }
    return at === bytes.length ? cache : null;
  }

  /** A cache for the next record that starts empty and may keep entries of this one (keep). */
  derive(): StatCache {
    return new StatCache(this.raw);
  }

  get size(): number {
    return this.offsets.size + this.fresh.size;
  }

  keys(): IterableIterator<string> {
    return [...this.offsets.keys(), ...this.fresh.keys()][Symbol.iterator]();
  }

  has(path: string): boolean {
    return this.offsets.has(path) || this.fresh.has(path);
  }

  get(path: string): StatEntry | undefined {
    const fresh = this.fresh.get(path);
    if (fresh) return fresh;
    const at = this.fixedAt(path);
    if (at < 0) return undefined;
    const r = this.raw;
    return {
      exec: r[at] === 1,
      size: r.readDoubleBE(at + 1),
      mtimeMs: r.readDoubleBE(at + 9),
      ino: r.readDoubleBE(at + 17),
      file: r.subarray(at + 25, at + 25 + ID_BYTES),
    };
  }

  set(path: string, entry: StatEntry): void {
    this.offsets.delete(path);
    this.fresh.set(path, entry);
  }

  /** Takes `path`'s entry over from `from` (this cache's origin) as it is. */
  keep(path: string, from: StatCache): void {
    const at = from.offsets.get(path);
    if (at !== undefined && from.raw === this.raw) this.offsets.set(path, at);
    else this.set(path, from.get(path)!);
  }

  /** Whether the file's stat still matches its entry and the entry is not racy: the file need not be read (see `unchanged`). */
  matches(path: string, stamp: number, size: number, mtimeMs: number, ino: number, mode: number): boolean {
    if (this.fresh.size > 0 && this.fresh.has(path)) return unchanged(this.fresh.get(path), stamp, size, mtimeMs, ino, mode);
    const at = this.fixedAt(path);
    if (at < 0) return false;
    const r = this.raw;
    return (
      r.readDoubleBE(at + 9) === mtimeMs &&
      r.readDoubleBE(at + 1) === size &&
      r.readDoubleBE(at + 17) === ino &&
      mtimeMs < stamp &&
      (r[at] === 1) === ((mode & 0o111) !== 0)
    );
  }

  /** The file id of a path known to have an entry. */
  fileOf(path: string): Buffer {
    const fresh = this.fresh.get(path);
    if (fresh) return fresh.file;
    const at = this.fixedAt(path);
    return this.raw.subarray(at + 25, at + 25 + ID_BYTES);
  }

  encode(): Buffer {
    let total = 12;
    for (const at of this.offsets.values()) total += ENTRY_FIXED + this.raw.readUInt16BE(at);
    const paths = new Map<string, Buffer>();
    for (const path of this.fresh.keys()) {
      const p = Buffer.from(path, 'utf8');
      paths.set(path, p);
      total += ENTRY_FIXED + p.length;
    }
    const out = Buffer.alloc(total);
    STAT_MAGIC.copy(out, 0);
    out.writeUInt32BE(this.size, 8);
    let at = 12;
    for (const start of this.offsets.values()) {
      const end = start + ENTRY_FIXED + this.raw.readUInt16BE(start);
      at += this.raw.copy(out, at, start, end);
    }
    for (const [path, e] of this.fresh) {
      const p = paths.get(path)!;
      at = out.writeUInt16BE(p.length, at);
      at += p.copy(out, at);
      out[at++] = e.exec ? 1 : 0;
      at = out.writeDoubleBE(e.size, at);
      at = out.writeDoubleBE(e.mtimeMs, at);
      at = out.writeDoubleBE(e.ino, at);
      at += e.file.copy(out, at);
    }
    return out;
  }

  /** Where a kept entry's fixed part (after its path) starts in `raw`, or -1. */
  private fixedAt(path: string): number {
    const start = this.offsets.get(path);
    return start === undefined ? -1 : start + 2 + this.raw.readUInt16BE(start);
  }
}
