/**
 * Schema migrations keyed on PRAGMA user_version: an old database is brought
 * forward and its items indexed; a database from a newer Netsync is refused
 * with a message naming both versions, and left untouched.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { encodeInlineFile, encodeManifest, EntryType, itemId, Kind } from '../../src/engine/items/format.js';
import { checkDatabase, rebuildIndex } from '../../src/engine/store/maintenance.js';
import { INDEX_TABLES, createIndexTables, missingIndexTables } from '../../src/engine/store/index-tables.js';
import { MIGRATIONS } from '../../src/engine/store/migrations.js';
import { SCHEMA_VERSION, migrate, schemaVersion } from '../../src/engine/store/schema.js';
import { ReadStore, WriteStore } from '../../src/engine/store/store.js';
import { fixedSigner, indexShape, keyItemOf, signedCert } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { referenceRoot } from '../helpers/trie-reference.js';

function tables(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);
}

describe('migrations', () => {
  it('a schema-1 database (items only) opens, is migrated to the current version and indexed at once', () => {
    const path = join(tempDir(), 'old.db');
    const raw = new Database(path);
    expect(migrate(raw, path, 1)).toBe(0);
    expect(schemaVersion(raw)).toBe(1);
    expect(tables(raw)).toEqual(['items']);

    // A whole revision, inserted by hand in dependency order as an old
    // Netsync would have stored it.
    const signer = fixedSigner();
    const file = encodeInlineFile(Buffer.from('from the old days\n'));
    const manifest = encodeManifest([{ path: 'old.txt', type: EntryType.File, file: itemId(file) }]);
    const key = keyItemOf(signer);
    const cert = signedCert(signer, itemId(manifest), 'branch', 'org.example.old');
    const insert = raw.prepare('INSERT INTO items (id, kind, size, data) VALUES (?, ?, ?, ?)');
    const rows: [Buffer, Kind, number][] = [
      [file, Kind.File, 18],
      [manifest, Kind.Manifest, manifest.length],
      [key, Kind.Key, key.length],
      [cert, Kind.Cert, cert.length],
    ];
    for (const [bytes, kind, size] of rows) insert.run(itemId(bytes), kind, size, bytes);
    raw.close();

    const store = WriteStore.open(path);
    try {
      expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
      for (const t of INDEX_TABLES) expect(tables(store.db)).toContain(t);
      expect(store.itemCount()).toBe(4);
      expect(store.branches().map((b) => b.name)).toEqual(['org.example.old']);
      const root = store.root('org.example.old');
      expect(root.count).toBe(4);
      expect(root.hash).toEqual(referenceRoot(rows.map(([b]) => itemId(b))).hash);
      expect(store.certsOn(itemId(manifest)).map((c) => c.name)).toEqual(['branch']);
      expect(checkDatabase(store).problems).toEqual([]);
      // And again: the index rebuilt by hand is the one the opening made.
      expect(rebuildIndex(store)).toEqual({ items: 4, branches: 1 });
      expect(store.root('org.example.old')).toEqual(root);
    } finally {
      store.close();
    }
  });

  it('a schema-2 database, indexed when every branch cert joined every branch of its manifest, is indexed again by the rule of schema 3', () => {
    const path = join(tempDir(), 'two.db');
    const signer = fixedSigner();
    const file = encodeInlineFile(Buffer.from('shared tree\n'));
    const manifest = encodeManifest([{ path: 'a.txt', type: EntryType.File, file: itemId(file) }]);
    const m = itemId(manifest);
    const publicCert = signedCert(signer, m, 'branch', 'org.example.public');
    const secretCert = signedCert(signer, m, 'branch', 'org.example.secret');
    let store = WriteStore.open(path, { create: true });
    store.batch(() => {
      for (const bytes of [file, manifest, keyItemOf(signer), publicCert, secretCert]) store.put(bytes);
    });
    const members = (s: WriteStore, branch: string) =>
      new Set(
        s.db
          .prepare<[number], Buffer>('SELECT id FROM members WHERE bid = ?')
          .pluck()
          .all(s.branchId(branch)!)
          .map((b) => b.toString('hex')),
      );
    // The rule now: the public branch holds its own branch cert only.
    expect(members(store, 'org.example.public').has(itemId(secretCert).toString('hex'))).toBe(false);
    expect(members(store, 'org.example.public').has(itemId(publicCert).toString('hex'))).toBe(true);
    const publicRoot = store.root('org.example.public');
    // As schema 2 left it: the secret branch's cert in the public collection, and the version 2.
    const bid = store.branchId('org.example.public')!;
    store.db.prepare('INSERT INTO members (bid, id) VALUES (?, ?)').run(bid, itemId(secretCert));
    store.db.pragma('user_version = 2');
    store.close();

    store = WriteStore.open(path);
    try {
      expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
      expect(members(store, 'org.example.public').has(itemId(secretCert).toString('hex'))).toBe(false);
      expect(store.root('org.example.public')).toEqual(publicRoot);
      expect(store.root('org.example.public').hash).toEqual(referenceRoot([file, manifest, keyItemOf(signer), publicCert].map((b) => itemId(b))).hash);
      expect(checkDatabase(store).problems).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('migrating twice is a no-op; each step sets user_version', () => {
    const path = join(tempDir(), 'm.db');
    const raw = new Database(path);
    expect(migrate(raw, path)).toBe(0);
    expect(schemaVersion(raw)).toBe(SCHEMA_VERSION);
    expect(migrate(raw, path)).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('a database from a newer Netsync is refused with db-newer naming both versions, and left as it was', () => {
    const path = join(tempDir(), 'new.db');
    const raw = new Database(path);
    migrate(raw, path);
    const newer = SCHEMA_VERSION + 1;
    raw.pragma(`user_version = ${newer}`);
    raw.close();

    for (const open of [() => WriteStore.open(path), () => ReadStore.open(path)]) {
      let caught: unknown;
      try {
        open().close();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(NetsyncError);
      expect((caught as NetsyncError).code).toBe('db-newer');
      const message = (caught as NetsyncError).message;
      expect(message).toContain(`schema ${newer}`);
      expect(message).toContain(`up to ${SCHEMA_VERSION}`);
      expect(message).toContain(path);
      expect(message).not.toContain('\n');
    }
    const again = new Database(path, { readonly: true });
    expect(schemaVersion(again)).toBe(newer);
    again.close();
  });
});

describe('the index tables: one function for new databases, migrations, rebuilds and checks', () => {
  const fresh = new Database(':memory:');
  createIndexTables(fresh);
  const shape = indexShape(fresh);

  it('createIndexTables makes exactly INDEX_TABLES, and missingIndexTables sees each one go', () => {
    expect(tables(fresh).sort()).toEqual([...INDEX_TABLES].sort());
    expect(missingIndexTables(fresh)).toEqual([]);
    fresh.exec('CREATE TABLE scratch AS SELECT * FROM members; DROP TABLE members');
    expect(missingIndexTables(fresh)).toEqual(['members']);
    fresh.exec('CREATE TABLE members AS SELECT * FROM scratch; DROP TABLE scratch');
    expect(Object.keys(shape)).toEqual(expect.arrayContaining(['certs_by_manifest', 'certs_by_name_value', 'keys_by_name', ...INDEX_TABLES]));
  });

  it("makes the same tables in an attached schema (db check's copy), and only the missing ones with ifNotExists", () => {
    const db = new Database(':memory:');
    db.exec("ATTACH DATABASE ':memory:' AS chk");
    createIndexTables(db, 'chk.');
    expect(indexShape(db, 'chk')).toEqual(shape);
    expect(tables(db)).toEqual([]);
    createIndexTables(db, 'chk.', true);
    db.exec('DROP TABLE chk.trie');
    createIndexTables(db, 'chk.', true);
    expect(indexShape(db, 'chk')).toEqual(shape);
    db.close();
  });

  it('a new database, one migrated from schema 1 and one after db rebuild-index all have the shape it makes', () => {
    const dir = tempDir();
    const made = WriteStore.open(join(dir, 'new.db'), { create: true });
    expect(indexShape(made.db)).toEqual(shape);
    rebuildIndex(made);
    expect(indexShape(made.db)).toEqual(shape);
    made.close();

    const oldPath = join(dir, 'one.db');
    const raw = new Database(oldPath);
    migrate(raw, oldPath, 1);
    raw.close();
    const migrated = WriteStore.open(oldPath);
    expect(indexShape(migrated.db)).toEqual(shape);
    migrated.close();
  });

  it('migrations are numbered 1, 2, 3... in order, and each changes something', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    for (const m of MIGRATIONS) expect(m.up !== undefined || m.rebuildsIndex === true, `migration ${m.version} does something`).toBe(true);
  });
});
