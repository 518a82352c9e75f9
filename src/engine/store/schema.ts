/**
 * Numbered migrations keyed on PRAGMA user_version. Migration N takes a
 * database at version N-1 to version N; each runs in its own transaction.
 *
 * Tables fall in two groups:
 * - `items`: the only primary data. Everything else is derived from it.
 * - the index (refs = file->chunk, certs, keys, branches, members, trie): decoded views and
 *   the Merkle trie, rebuilt from `items` alone by `db rebuild-index`.
 */
import type Database from 'better-sqlite3';
import { fail } from '../errors.js';

export const MIGRATIONS: readonly string[] = [
  // 1: primary data.
  `CREATE TABLE items (
     rid  INTEGER PRIMARY KEY,
     id   BLOB NOT NULL UNIQUE,
     kind INTEGER NOT NULL,
     size INTEGER NOT NULL,
     data BLOB NOT NULL
   ) STRICT;`,
  // 2: the disposable index.
  `CREATE TABLE refs (
     parent BLOB NOT NULL,
     child  BLOB NOT NULL,
     PRIMARY KEY (parent, child)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE certs (
     id       BLOB PRIMARY KEY,
     manifest BLOB NOT NULL,
     key      BLOB NOT NULL,
     name     TEXT NOT NULL,
     value    BLOB NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX certs_by_manifest ON certs (manifest);
   CREATE INDEX certs_by_name_value ON certs (name, value);
   CREATE TABLE keys (
     id         BLOB PRIMARY KEY,
     name       TEXT NOT NULL,
     public_key BLOB NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX keys_by_name ON keys (name);
   CREATE TABLE branches (
     bid  INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE
   ) STRICT;
   CREATE TABLE members (
     bid INTEGER NOT NULL,
     id  BLOB NOT NULL,
     PRIMARY KEY (bid, id)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE trie (
     bid    INTEGER NOT NULL,
     depth  INTEGER NOT NULL,
     prefix INTEGER NOT NULL,
     count  INTEGER NOT NULL,
     hash   BLOB NOT NULL,
     PRIMARY KEY (bid, depth, prefix)
   ) STRICT, WITHOUT ROWID;`,
  // 3: a collection's \`branch\` certs are only those naming it (indexer.ts). The members
  // and tries made by the rule before are dropped; WriteStore.open indexes every item
  // again before it returns (INDEX_REBUILT_AT).
  `DROP TABLE members;
   DROP TABLE trie;`,
];

/** Opening a database older than this rebuilds its index (the collection rule changed). */
export const INDEX_REBUILT_AT = 3;

export const SCHEMA_VERSION = MIGRATIONS.length;
/** Tables `db rebuild-index` may drop and refill: never `items`. */
export const INDEX_TABLES = ['refs', 'certs', 'keys', 'branches', 'members', 'trie'] as const;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the database to SCHEMA_VERSION; returns the version it found. */
export function migrate(db: Database.Database, path: string, upTo = SCHEMA_VERSION): number {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) {
    fail('db-newer', `${path} was written by a newer Netsync (schema ${found}; this version knows up to ${SCHEMA_VERSION}); upgrade Netsync to open it`);
  }
  for (let v = found; v < upTo; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return found;
}
