/**
 * Runs the numbered migrations (migrations.ts) keyed on PRAGMA user_version:
 * an older database is brought forward, each step in its own transaction; a
 * database from a newer Netsync is refused and left as it is.
 *
 * Tables fall in two groups:
 * - `items`: the only primary data. Everything else is derived from it.
 * - the index (index-tables.ts): decoded views and the Merkle trie, rebuilt
 *   from `items` alone by `db rebuild-index`.
 */
import type Database from 'better-sqlite3';
import { fail } from '../errors.js';
import { dropIndexTables } from './index-tables.js';
import { MIGRATIONS } from './migrations.js';

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opening a database found older than this builds its index again (the last migration marked `rebuildsIndex`). */
export const INDEX_REBUILT_AT = Math.max(0, ...MIGRATIONS.filter((m) => m.rebuildsIndex).map((m) => m.version));

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the database to `upTo` (SCHEMA_VERSION; 0 only checks the version); returns the version it found. */
export function migrate(db: Database.Database, path: string, upTo = SCHEMA_VERSION): number {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) {
    fail('db-newer', `${path} was written by a newer Netsync (schema ${found}; this version knows up to ${SCHEMA_VERSION}); upgrade Netsync to open it`);
  }
  for (const m of MIGRATIONS.slice(found, upTo)) {
    db.transaction(() => {
      m.up?.(db);
      if (m.rebuildsIndex) dropIndexTables(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return found;
}
