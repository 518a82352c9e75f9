/**
 * The database: one SQLite file, WAL mode. All SQL of the engine lives under
 * src/engine/store. `ReadStore` answers questions; `WriteStore` also inserts,
 * and only through `put`, which verifies everything before storing.
 */
import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NetsyncError, fail } from '../errors.js';
import { ID_BYTES, toHex } from '../hash.js';
import { TrieReader } from './trie-table.js';
import { EMPTY_NODE, type TrieNode } from '../index/trie-rules.js';
import { Kind, type Item, KIND_NAMES, itemId } from '../items/format.js';
import { createIndexTables, missingIndexTables } from './index-tables.js';
import { Indexer } from './indexer.js';
import { rebuildIndex } from './maintenance.js';
import { INDEX_REBUILT_AT, SCHEMA_VERSION, migrate } from './schema.js';
import { RecentItems } from './recent-items.js';
import { verifyItem } from './verify.js';

export interface StoredItem {
  id: Buffer;
  kind: Kind;
  size: number;
  data: Buffer;
}

/** A member of a branch as the sending side of a sync needs it; `rid` reads its bytes in one B-tree step. */
export interface MemberMeta {
  id: Buffer;
  rid: number;
  kind: Kind;
  size: number;
}

export interface BranchInfo {
  name: string;
  bid: number;
  items: number;
  root: Buffer;
}

export interface CertRow {
  id: Buffer;
  manifest: Buffer;
  key: Buffer;
  name: string;
  value: Buffer;
}

export interface OpenOptions {
  /** Create the file when it does not exist (only `db init` and tests). */
  create?: boolean;
  /**
   * `db check` and `db rebuild-index`: open even when index tables are
   * missing (any other open refuses such a database, naming the repair).
   */
  maintenance?: boolean;
  /**
   * Told before a database indexed by an older Netsync is indexed again,
   * which takes a while on a large one (docs/PERFORMANCE.md, "Rebuild in
   * bulk"): the command line says so on stderr; the engine writes nothing.
   */
  onReindex?: (path: string) => void;
}

function refuseDamagedIndex(db: Database.Database, path: string, missing: string[]): void {
  if (missing.length === 0) return;
  db.close();
  fail(
    'db-corrupt',
    `the index of ${path} is damaged (table${missing.length > 1 ? 's' : ''} ${missing.map((t) => `"${t}"`).join(', ')} missing); ` +
      'regenerate it from the items with "netsync db rebuild-index"',
  );
}

/**
 * Why a database cannot be opened although it may be intact: it lies on a
 * read-only file system, or its folder is not writable. SQLite in WAL mode
 * writes PATH-wal and PATH-shm beside the file, even to read.
 */
function readOnlyPlace(path: string): string | null {
  for (const [p, what] of [
    [path, 'the file'],
    [dirname(path), 'its folder'],
  ] as const) {
    try {
      accessSync(p, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EROFS') return 'it is on a read-only file system';
      if (code === 'EACCES' || code === 'EPERM') return `${what} is not writable`;
    }
  }
  return null;
}

function cannotOpen(path: string, e: Error, otherwise: string): never {
  const place = path === ':memory:' ? null : readOnlyPlace(path);
  if (place) {
    fail('db-unwritable', `cannot open the database ${path}: ${place} (a database needs to write its -wal and -shm files beside it, even to be read)`);
  }
  return fail('db-corrupt', truncation(path) ?? `${otherwise}: ${e.message}`);
}

/**
 * Says so when a database file is shorter than its own header says: a copy
 * that did not finish, a file cut by a full disk. SQLite reports only
 * "database disk image is malformed"; the user needs to know that the lost
 * pages cannot be rebuilt, only restored. Asked only once SQLite has failed
 * (a checkpoint cut short can legitimately leave the header ahead of the
 * file while the -wal file still holds the rest). The header's page count
 * is trusted only when it is valid (docs: sqlite.org/fileformat2.html,
 * offsets 16, 24, 28 and 92).
 */
export function truncation(path: string): string | null {
  if (path === ':memory:') return null;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const h = Buffer.alloc(100);
    if (readSync(fd, h, 0, 100, 0) < 100 || h.toString('latin1', 0, 16) !== 'SQLite format 3\0') return null;
    const pageSize = h.readUInt16BE(16) === 1 ? 65536 : h.readUInt16BE(16);
    const pages = h.readUInt32BE(28);
    if (pages === 0 || h.readUInt32BE(24) !== h.readUInt32BE(92)) return null;
    const size = fstatSync(fd).size;
    const expected = pages * pageSize;
    if (size >= expected) return null;
    return (
      `${path} is truncated: the file has ${size} bytes and its header says ${expected} (${pages} pages of ${pageSize} bytes); ` +
      'it was cut short (an unfinished copy, a full disk?) and what was in the lost part cannot be rebuilt: restore the file from a copy, or sync into a new database'
    );
  } finally {
    closeSync(fd);
  }
}

/**
 * A new database is private: its missing folders are made 0700 and its file
 * 0600 before SQLite opens it (SQLite gives the -wal and -shm files the mode
 * of the database file). Its items may be private, and a database is not the
 * place to learn that from.
 */
function createPrivately(path: string): void {
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
  } catch (e) {
    fail('io', `cannot create the database ${path}: ${(e as Error).message}`);
  }
}

function openDatabase(path: string, readonly: boolean, create: boolean): Database.Database {
  if (!create && path !== ':memory:' && !existsSync(path)) {
    fail('db-missing', `no database at ${path} (create one with "netsync db init")`);
  }
  if (create && path !== ':memory:' && !existsSync(path)) createPrivately(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: !create });
  } catch (e) {
    cannotOpen(path, e as Error, `cannot open ${path}`);
  }
  try {
    // Reading the schema is the first thing that fails on a file that is not a database.
    const version = db.pragma('user_version', { simple: true }) as number;
    // SQLite takes a zero-byte (truncated) or foreign file for a new empty database:
    // refuse it before anything (the WAL switch included) writes to it.
    if (version === 0 && !create && path !== ':memory:') {
      fail('db-corrupt', `${path} is empty or not a Netsync database (create one with "netsync db init")`);
    }
    if (!readonly) {
      // A page size holds from a database's first write on: only a new one gets PAGE_BYTES.
      if (version === 0) db.pragma(`page_size = ${PAGE_BYTES}`);
      db.pragma('journal_mode = WAL');
      // Checkpoint every 32 MB of WAL instead of SQLite's 4 MB: each checkpoint
      // costs two fsyncs, and a bulk write (a commit, a clone) of 2,000-item
      // batches paid them after almost every batch (docs/PERFORMANCE.md, "WAL
      // checkpoint every 32 MB").
      db.pragma(`wal_autocheckpoint = ${Math.ceil(WAL_CHECKPOINT_BYTES / (db.pragma('page_size', { simple: true }) as number))}`);
    }
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    db.pragma('foreign_keys = OFF');
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    db.close();
    if (e instanceof NetsyncError) throw e;
    cannotOpen(path, e as Error, `${path} is not a readable Netsync database`);
  }
  return db;
}

/** Row numbers read per statement by getManyByRid. */
export const RID_BATCH = 64;

/** Bytes of the write-ahead log of the database at `path` (0 when it has none). */
function walBytes(path: string): number {
  if (path === ':memory:') return 0;
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

/** Stores left open until the process exits (ReadStore.closeAtExit). */
const lingering = new Set<ReadStore>();

/**
 * SQLite's page cache per connection: 32 MiB instead of its 2 MiB default.
 * A sync reads items and index nodes by id all over the file; with 2 MiB
 * almost every B-tree page came from the OS again (a system call each), and
 * serving a large clone spent much of its time there (docs/PERFORMANCE.md,
 * "Page cache of 32 MiB"). Memory-mapping the file was as fast but counts
 * the whole mapped database in the process's RSS.
 */
const CACHE_KIB = 32768;

/** Bytes of WAL after which a commit checkpoints it into the database file. */
const WAL_CHECKPOINT_BYTES = 32 << 20;

/**
 * Pages of 8 KiB for a new database, not SQLite's 4 KiB: a small file's item
 * (a 1 KiB file is about 1.1 KB with its id) fits three to a 4 KiB page,
 * leaving a fifth of it empty, and seven to an 8 KiB page; with 4 KiB pages
 * the database of a clone of 100,000 such files was 15% larger and took
 * twice the WAL writes (SQLite writes a page at a time). Large items end in a partly used page
 * either way: a real tree of mixed sizes grows by about 1%
 * (docs/PERFORMANCE.md, "Page size"). Older databases keep theirs.
 */
const PAGE_BYTES = 8192;

/**
 * A write-ahead log larger than this when a command leaves its database
 * (closeAtExit) is checkpointed and truncated first: SQLite's own automatic
 * checkpoint size, which a small sync never reaches.
 */
export const WAL_LEFT_MAX = 4 << 20;

export class ReadStore {
  protected readonly stmts;
  /** The statements of `pages`, by the select they page through: each prepared once. */
  private readonly paged = new Map<string, Database.Statement>();

  protected constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {
    this.stmts = {
      get: db.prepare<[Buffer], StoredItem>('SELECT id, kind, size, data FROM items WHERE id = ?'),
      meta: db.prepare<[Buffer], { kind: Kind; size: number }>('SELECT kind, size FROM items WHERE id = ?'),
      byPrefix: db.prepare<[Buffer, Buffer], { id: Buffer }>('SELECT id FROM items WHERE id >= ? AND id <= ? LIMIT 2'),
      branch: db.prepare<[string], { bid: number }>('SELECT bid FROM branches WHERE name = ?'),
      branches: db.prepare<[], { bid: number; name: string }>('SELECT bid, name FROM branches ORDER BY name'),
      certsOn: db.prepare<[Buffer], CertRow>('SELECT id, manifest, key, name, value FROM certs WHERE manifest = ? ORDER BY name, value'),
      manifestsIn: db.prepare<[string], { manifest: Buffer }>("SELECT DISTINCT manifest FROM certs WHERE name = 'branch' AND value = CAST(? AS BLOB)"),
      key: db.prepare<[Buffer], { name: string; public_key: Buffer }>('SELECT name, public_key FROM keys WHERE id = ?'),
      keys: db.prepare<[], { id: Buffer; name: string; public_key: Buffer }>('SELECT id, name, public_key FROM keys ORDER BY name'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM items'),
      anyItem: db.prepare<[], { one: number }>('SELECT 1 AS one FROM items LIMIT 1'),
      isMember: db.prepare<[number, Buffer], { one: number }>('SELECT 1 AS one FROM members WHERE bid = ? AND id = ?'),
      membersAfter: db.prepare<[number, Buffer, number], Buffer>('SELECT id FROM members WHERE bid = ? AND id > ? ORDER BY id LIMIT ?').pluck(),
      memberRange: db.prepare<[number, Buffer, Buffer], MemberMeta>(
        'SELECT m.id, i.rid, i.kind, i.size FROM members m JOIN items i ON i.id = m.id WHERE m.bid = ? AND m.id >= ? AND m.id <= ? LIMIT 2',
      ),
      // A page as one row: the ids as one blob, row numbers, kinds and sizes as text, in the
      // same order (every aggregate sees the rows in the same order), and the last id; with
      // the bytes of the members of at most ?1 bytes as one blob, and their lengths.
      membersMeta: db
        .prepare<[number, number, Buffer, number], [Buffer | null, string, string, string, string, Buffer, Buffer]>(
          `SELECT CAST(group_concat(id, x'') AS BLOB), group_concat(rid), group_concat(kind), group_concat(size),
                  group_concat(length(small)), CAST(group_concat(small, x'') AS BLOB), max(id)
           FROM (SELECT m.id, i.rid, i.kind, i.size, CASE WHEN length(i.data) <= ? THEN i.data ELSE x'' END AS small
                 FROM members m JOIN items i ON i.id = m.id WHERE m.bid = ? AND m.id > ? ORDER BY m.id LIMIT ?)`,
        )
        .raw(),
      // One row for the whole batch: the rows' numbers, kinds, sizes and lengths as text, their
      // ids and bytes each as one blob (every aggregate sees the rows in the same order).
      byRids: db
        .prepare<number[], [string | null, string, string, string, Buffer, Buffer]>(
          `SELECT group_concat(rid), group_concat(kind), group_concat(size), group_concat(length(data)),
                  CAST(group_concat(id, x'') AS BLOB), CAST(group_concat(data, x'') AS BLOB)
           FROM items WHERE rid IN (${Array(RID_BATCH).fill('?').join(', ')})`,
        )
        .raw(),
    };
  }

  static open(path: string): ReadStore {
    let db = openDatabase(path, true, false);
    // Only checks the version: a read-only handle never writes. A database of an older
    // Netsync is brought forward once by a write handle (its index rebuilt if the
    // collection rule changed), then read: `log` works on it as `commit` would.
    if (migrate(db, path, 0) < SCHEMA_VERSION) {
      db.close();
      WriteStore.open(path).close();
      db = openDatabase(path, true, false);
    }
    refuseDamagedIndex(db, path, missingIndexTables(db));
    return new ReadStore(db, path);
  }

  close(): void {
    this.db.close();
  }

  /**
   * For a process about to exit (a command-line sync): keeps the connection
   * open until then instead of closing it. The last connection to close a
   * database checkpoints its write-ahead log into the file and fsyncs it:
   * after a small sync into a large database, hundreds of scattered pages,
   * a large share of the whole command (docs/PERFORMANCE.md, "No checkpoint
   * at the end of a command-line sync"). Left open, the log is as
   * durable as the file (a crash leaves the same state), and the next
   * transaction past wal_autocheckpoint folds it in, writing a page changed
   * by several syncs once. better-sqlite3 does not close databases at exit;
   * the set below keeps the garbage collector from closing this one early.
   *
   * A large log (a first clone, a large pull: up to 32 MB) is the exception:
   * left behind, it takes disk space beside the database, and the next
   * command to open the database reads all of it again to rebuild SQLite's
   * index of the log, a few ms on every command until a later write folds
   * it in (docs/PERFORMANCE.md, "The write-ahead log after a clone"). Such a
   * log is checkpointed and truncated now, once, on the transfer's time.
   */
  closeAtExit(): void {
    if (walBytes(this.path) > WAL_LEFT_MAX) this.checkpointTruncate();
    lingering.add(this);
  }

  /**
   * Copies the write-ahead log into the database file and empties it, if no
   * other connection is reading (then it is left for later: this never waits).
   */
  private checkpointTruncate(): void {
    const wait = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // busy or read-only: the log stays, as it would have without this
    } finally {
      this.db.pragma(`busy_timeout = ${wait}`);
    }
  }

  get(id: Uint8Array): StoredItem | null {
    return this.stmts.get.get(Buffer.from(id)) ?? null;
  }

  /**
   * Up to RID_BATCH items by row number, in one statement: a sender reads
   * every item it serves this way. A statement costs a fixed amount beyond
   * its row, and a row per item brings two Buffers of its own each; one row
   * of two blobs for the whole batch does not (docs/PERFORMANCE.md, "Reading
   * served items 64 at a time" and "Served items as one row per batch"):
   * the items' ids and bytes are views into those two blobs.
   */
  getManyByRid(rids: readonly number[]): Map<number, StoredItem> {
    if (rids.length === 0 || rids.length > RID_BATCH) throw new Error(`getManyByRid: 1..${RID_BATCH} row numbers, not ${rids.length}`);
    // Padded with repeats of the first: an IN list returns each row once.
    const args = rids.length === RID_BATCH ? rids : [...rids, ...Array<number>(RID_BATCH - rids.length).fill(rids[0]!)];
    const out = new Map<number, StoredItem>();
    const [ridList, kinds, sizes, lengths, ids, data] = this.stmts.byRids.get(...args)!;
    if (ridList === null) return out;
    const k = kinds.split(',');
    const z = sizes.split(',');
    const l = lengths.split(',');
    let at = 0;
    ridList.split(',').forEach((rid, i) => {
      const length = Number(l[i]);
      out.set(Number(rid), {
        id: ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES),
        kind: Number(k[i]) as Kind,
        size: Number(z[i]),
        data: data.subarray(at, at + length),
      });
      at += length;
    });
    return out;
  }

  has(id: Uint8Array): boolean {
    return this.stmts.meta.get(Buffer.from(id)) !== undefined;
  }

  meta(id: Uint8Array): { kind: Kind; size: number } | null {
    return this.stmts.meta.get(Buffer.from(id)) ?? null;
  }

  /** The one item whose id starts with the hex digits `hex`, or null; 'ambiguous' if several. */
  findByHexPrefix(hex: string): Buffer | null | 'ambiguous' {
    if (!/^[0-9a-f]{1,64}$/i.test(hex)) return null;
    const lo = Buffer.from(hex.toLowerCase().padEnd(64, '0'), 'hex');
    const hi = Buffer.from(hex.toLowerCase().padEnd(64, 'f'), 'hex');
    const rows = this.stmts.byPrefix.all(lo, hi);
    if (rows.length === 0) return null;
    if (rows.length > 1) return 'ambiguous';
    return rows[0]!.id;
  }

  /** True when the database holds no item (without counting them). */
  isEmpty(): boolean {
    return this.stmts.anyItem.get() === undefined;
  }

  itemCount(): number {
    return this.stmts.count.get()!.n;
  }

  branchId(name: string): number | null {
    return this.stmts.branch.get(name)?.bid ?? null;
  }

  trie(bid: number): TrieReader {
    return new TrieReader(this.db, bid);
  }

  /** The root of a branch's trie: one indexed row read, whatever the collection's size. */
  root(name: string): TrieNode {
    const bid = this.branchId(name);
    return bid === null ? EMPTY_NODE : this.trie(bid).node(0, 0);
  }

  branches(): BranchInfo[] {
    return this.stmts.branches.all().map(({ bid, name }) => {
      const root = this.trie(bid).node(0, 0);
      return { name, bid, items: root.count, root: root.hash };
    });
  }

  isMember(bid: number, id: Uint8Array): boolean {
    return this.stmts.isMember.get(bid, Buffer.from(id)) !== undefined;
  }

  /**
   * The member of a branch whose id starts with the 16 hex digits of a short
   * id, with its kind and size: one indexed read answers "is it in this
   * collection, and what is it" (null if none, 'ambiguous' if several).
   */
  memberByShortId(bid: number, hex: string): MemberMeta | null | 'ambiguous' {
    const lo = Buffer.from(hex.padEnd(64, '0'), 'hex');
    const hi = Buffer.from(hex.padEnd(64, 'f'), 'hex');
    const rows = this.stmts.memberRange.all(bid, lo, hi);
    if (rows.length === 0) return null;
    return rows.length > 1 ? 'ambiguous' : rows[0]!;
  }

  /**
   * Every member of a branch with its row number, kind and size, read in
   * pages (ascending from page to page; a first clone's offers). A page
   * comes as one row, its ids views into one blob, sparing a row and a
   * Buffer per member (docs/PERFORMANCE.md, "Served items as one row per
   * batch").
   *
   * With `dataMax` >= 0, a member whose encoding is at most that many bytes
   * comes with its bytes (`data`, else null): a first clone into an empty
   * database reads each small item once, here, instead of once for its kind
   * and size and again to send it. The item's row is read either way, so the
   * bytes cost no extra page; larger items are left to getManyByRid, so a
   * page holds at most `page` x `dataMax` bytes.
   */
  *membersWithMeta(bid: number, page = 4096, dataMax = -1): IterableIterator<MemberMeta & { data: Buffer | null }> {
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      const [ids, rids, kinds, sizes, lengths, small, last] = this.stmts.membersMeta.get(dataMax, bid, after, page)!;
      if (ids === null) return;
      const r = rids.split(',');
      const k = kinds.split(',');
      const z = sizes.split(',');
      const l = lengths.split(',');
      let at = 0;
      for (let i = 0; i < r.length; i++) {
        const length = Number(l[i]);
        const data = length > 0 ? small.subarray(at, at + length) : null;
        at += length;
        yield { id: ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES), rid: Number(r[i]), kind: Number(k[i]) as Kind, size: Number(z[i]), data };
      }
      after = last;
    }
  }

  /** Every member of a branch, ascending, read in pages (a first clone may hold millions). */
  *members(bid: number, page = 4096): IterableIterator<Buffer> {
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      const ids = this.stmts.membersAfter.all(bid, after, page);
      if (ids.length === 0) return;
      yield* ids;
      after = ids[ids.length - 1]!;
    }
  }

  certsOn(manifest: Uint8Array): CertRow[] {
    return this.stmts.certsOn.all(Buffer.from(manifest));
  }

  manifestsIn(branch: string): Buffer[] {
    return this.stmts.manifestsIn.all(branch).map((r) => r.manifest);
  }

  key(id: Uint8Array): { name: string; publicKey: Buffer } | null {
    const row = this.stmts.key.get(Buffer.from(id));
    return row ? { name: row.name, publicKey: row.public_key } : null;
  }

  keys(): { id: Buffer; name: string; publicKey: Buffer }[] {
    return this.stmts.keys.all().map((r) => ({ id: r.id, name: r.name, publicKey: r.public_key }));
  }

  /** Every item, in storage order, without loading them all at once. */
  iterate(): IterableIterator<StoredItem> {
    return this.pages<StoredItem>('SELECT rid, id, kind, size, data FROM items');
  }

  /**
   * Rows of `select` (which must select `rid` from items and may have a WHERE
   * clause) in storage order, read in pages so that other statements,
   * writes included, may run between rows (an open better-sqlite3 iterator
   * would lock the connection).
   */
  *pages<T>(select: string, pageSize = 512): IterableIterator<T> {
    let stmt = this.paged.get(select) as Database.Statement<[number, number], T & { rid: number }> | undefined;
    if (!stmt) {
      const where = /\bwhere\b/i.test(select) ? 'AND' : 'WHERE';
      stmt = this.db.prepare<[number, number], T & { rid: number }>(`${select} ${where} rid > ? ORDER BY rid LIMIT ?`);
      this.paged.set(select, stmt);
    }
    let after = 0;
    for (;;) {
      const rows = stmt.all(after, pageSize);
      if (rows.length === 0) return;
      yield* rows;
      after = rows[rows.length - 1]!.rid;
    }
  }

  kindName(kind: Kind): string {
    return KIND_NAMES[kind] ?? `kind ${kind}`;
  }
}

export interface PutResult {
  id: Buffer;
  /** False when the item was already stored (nothing changed). */
  inserted: boolean;
  item: Item | null;
}

/** How many recently inserted items a WriteStore remembers the kind and size of (about 12 MB at most). */
const RECENT_MAX = 1 << 18;

export class WriteStore extends ReadStore {
  private readonly insertItem: Database.Statement<[Buffer, number, number, Buffer]>;
  readonly indexer: Indexer;
  /**
   * Kind and size (kind * 2^32 + size) of the items inserted lately, by id
   * as a latin1 string. Items arrive just
   * before what names them (a commit's files before its manifest, a sync
   * sends them in that order too), so verifying a reference finds them here
   * instead of in SQLite: a third of a 100,000-file commit's lookups. Only
   * inserted items enter, it is emptied when a batch rolls back (they are
   * gone), and when full it starts over.
   */
  private readonly recent = new RecentItems(RECENT_MAX);

  private constructor(db: Database.Database, path: string) {
    super(db, path);
    this.insertItem = db.prepare('INSERT INTO items (id, kind, size, data) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
    this.indexer = new Indexer(db);
  }

  static override open(path: string, options: OpenOptions = {}): WriteStore {
    const db = openDatabase(path, false, options.create ?? false);
    let found: number;
    try {
      found = migrate(db, path);
    } catch (e) {
      db.close();
      throw e;
    }
    // A database older than the collection rule it was indexed by is indexed again, at once.
    const reindex = found < INDEX_REBUILT_AT;
    const missing = missingIndexTables(db);
    if (missing.length === 0 && !reindex) return new WriteStore(db, path);
    if (!options.maintenance && !reindex) refuseDamagedIndex(db, path, missing);
    // Maintenance must work on a damaged index: the statements are prepared against stand-in
    // empty tables, rolled back at once, so `db check` still finds the tables missing and
    // `db rebuild-index` (which drops and recreates every index table) makes them anew.
    let store: WriteStore;
    db.exec('BEGIN');
    try {
      createIndexTables(db, '', true);
      store = new WriteStore(db, path);
    } finally {
      db.exec('ROLLBACK');
    }
    if (reindex) {
      if (found > 0) options.onReindex?.(path);
      try {
        rebuildIndex(store);
      } catch (e) {
        db.close();
        throw e;
      }
    }
    return store;
  }

  /**
   * Verifies and stores one item; indexes it. Must run inside `batch` (or it
   * makes its own transaction). Throws NetsyncError on anything unverifiable;
   * nothing of a refused item is stored.
   */
  put(bytes: Buffer, expectedId?: Uint8Array): PutResult {
    if (!this.db.inTransaction) return this.batch(() => this.put(bytes, expectedId));
    // Hash first: an item already stored needs no decoding or verifying again.
    const id = itemId(bytes);
    if (expectedId && !id.equals(expectedId)) {
      fail('bad-item', `item bytes hash to ${toHex(id)}, not to the claimed id ${toHex(expectedId)}`);
    }
    // An inline file or a chunk verifies by decoding alone, cheaper than a lookup: for
    // those the insert itself says whether the item is new. Others (a cert's signature)
    // are looked up first, so a stored one is never verified again.
    const decodesOnly = (bytes[0] === Kind.File && bytes[1] === 0) || bytes[0] === Kind.Chunk;
    if (!decodesOnly && this.has(id)) return { id, inserted: false, item: null };
    const item = verifyItem(this, bytes, id);
    const size = 'size' in item ? item.size : bytes.length;
    if (this.insertItem.run(id, item.kind, size, bytes).changes === 0) return { id, inserted: false, item: null };
    this.indexer.indexItem(id, item);
    this.recent.add(id, item.kind, size);
    return { id, inserted: true, item };
  }

  override meta(id: Uint8Array): { kind: Kind; size: number } | null {
    return (this.recent.get(id) as { kind: Kind; size: number } | null) ?? super.meta(id);
  }

  /**
   * Runs `fn` in one transaction and brings the tries up to date before it
   * commits, so the index never lags the items it covers.
   */
  batch<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    try {
      return this.db.transaction(() => {
        const out = fn();
        this.indexer.flush();
        return out;
      })();
    } catch (e) {
      this.indexer.reset();
      this.recent.clear();
      throw e;
    }
  }
}
