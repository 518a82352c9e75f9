/**
 * A rehearsal of the next migration: schema 6 (announced: a column `enc` on
 * `items`, each item's stored compression) written the way migrations.ts says
 * a migration is written, one small function marked `rebuildsIndex`, and
 * appended to this version's list for this file only. A database of
 * schema 5 opens, gains the column, and gets the index createIndexTables
 * makes, whatever shape its old index had; `db rebuild-index` and `db check`
 * then agree with it, and keep the new column.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createIndexTables } from '../../src/engine/store/index-tables.js';
import { checkDatabase, rebuildIndex } from '../../src/engine/store/maintenance.js';
import type { Migration } from '../../src/engine/store/migrations.js';
import { INDEX_REBUILT_AT, SCHEMA_VERSION, schemaVersion } from '../../src/engine/store/schema.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { fixedSigner, indexShape, putRandomRevision } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';

const { SCHEMA_6 } = vi.hoisted(() => ({
  SCHEMA_6: {
    version: 6,
    why: 'each item says how its bytes are encoded',
    up: (db: Database.Database) => db.exec('ALTER TABLE items ADD COLUMN enc INTEGER NOT NULL DEFAULT 0'),
    rebuildsIndex: true,
  } satisfies Migration,
}));

vi.mock('../../src/engine/store/migrations.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/engine/store/migrations.js')>();
  return { ...real, MIGRATIONS: [...real.MIGRATIONS, SCHEMA_6] };
});

/** What createIndexTables makes, in a database of its own. */
function currentShape(): Record<string, string> {
  const fresh = new Database(':memory:');
  try {
    createIndexTables(fresh);
    return indexShape(fresh);
  } finally {
    fresh.close();
  }
}

function itemColumns(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>('PRAGMA table_info(items)')
    .all()
    .map((c) => c.name);
}

describe('rehearsal: the next migration is one function marked rebuildsIndex', () => {
  it('is this file’s schema 6, and it rebuilds the index', () => {
    expect(SCHEMA_VERSION).toBe(6);
    expect(INDEX_REBUILT_AT).toBe(6);
  });

  it('a schema-5 database with an index of an older shape opens at schema 6, with its column and the current index; rebuild and check agree', () => {
    const path = join(tempDir(), 'three.db');
    let store = WriteStore.open(path, { create: true });
    const { manifest } = putRandomRevision(store, fixedSigner(), 'org.example.next', [Buffer.from('one'), Buffer.from('two')]);
    const root = store.root('org.example.next');
    // As schema 5 left it, with an index shaped otherwise than today's (as the index
    // would be, had a later version changed a table): an extra column, an index gone.
    store.db.exec('ALTER TABLE items DROP COLUMN enc; ALTER TABLE certs ADD COLUMN old_column TEXT; DROP INDEX keys_by_name');
    store.db.pragma('user_version = 5');
    store.close();

    const told: string[] = [];
    store = WriteStore.open(path, { onReindex: (p) => told.push(p) });
    try {
      expect(told).toEqual([path]);
      expect(schemaVersion(store.db)).toBe(6);
      expect(itemColumns(store.db)).toContain('enc');
      expect(indexShape(store.db)).toEqual(currentShape());
      expect(store.root('org.example.next')).toEqual(root);
      expect(store.certsOn(manifest).map((c) => c.name)).toEqual(['branch']);

      expect(rebuildIndex(store)).toEqual({ items: 5, branches: 1 });
      expect(indexShape(store.db)).toEqual(currentShape());
      expect(itemColumns(store.db)).toContain('enc');
      expect(store.root('org.example.next')).toEqual(root);
      expect(checkDatabase(store).problems).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('a step that fails leaves the database at the version before it, its index in place', () => {
    const path = join(tempDir(), 'fails.db');
    const store = WriteStore.open(path, { create: true });
    store.db.pragma('user_version = 5'); // with the column schema 6 adds there already: the step fails
    expect(itemColumns(store.db)).toContain('enc');
    const before = indexShape(store.db);
    store.close();
    expect(() => WriteStore.open(path)).toThrow(/duplicate column name: enc/);
    const raw = new Database(path);
    try {
      expect(schemaVersion(raw)).toBe(5);
      expect(indexShape(raw)).toEqual(before);
    } finally {
      raw.close();
    }
  });
});
