/**
 * The numbered migrations of the database, keyed on PRAGMA user_version
 * (schema.ts runs them): migration N takes a database at version N-1 to
 * version N, in one transaction. There are two kinds of change:
 *
 * - to the primary data (`items`): a function `up`, run in the transaction;
 * - to the index (its tables, or the rule that derives them from the items):
 *   the change is made in index-tables.ts or indexer.ts, and the migration
 *   is marked `rebuildsIndex`. It then drops the index tables, and opening
 *   the database for writing builds them anew from the items before it
 *   returns (a crash in between leaves the tables missing, which every
 *   command reports with its repair, `db rebuild-index`).
 *
 * Migration 4 shows the second kind: format v4's revision graph is the
 * `ancestry` table, added in createIndexTables and INDEX_TABLES
 * (index-tables.ts) and filled by the indexer, which also brings a revision's
 * trees and ancestors into its branch's collection.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** The user_version it brings a database to: its place in MIGRATIONS, counted from 1. */
  version: number;
  /** What changed, and why. */
  why: string;
  /** The change to the primary data, in the migration's transaction. */
  up?: (db: Database.Database) => void;
  /** The index changed: its tables are dropped here and built again from the items on the next open for writing. */
  rebuildsIndex?: boolean;
}

function createItems(db: Database.Database): void {
  db.exec(`CREATE TABLE items (
     rid  INTEGER PRIMARY KEY,
     id   BLOB NOT NULL UNIQUE,
     kind INTEGER NOT NULL,
     size INTEGER NOT NULL,
     data BLOB NOT NULL
   ) STRICT`);
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, why: "the primary data: each item's exact canonical bytes, keyed by its id", up: createItems },
  { version: 2, why: 'the disposable index: refs, certs, keys, branches, members, trie (index-tables.ts)', rebuildsIndex: true },
  {
    version: 3,
    why: "a collection's `branch` certs are only those naming it (indexer.ts); the members and tries of the rule before go",
    rebuildsIndex: true,
  },
  {
    version: 4,
    why: 'format v4: tree and revision items; the revision graph (`ancestry`) and collections that follow trees and ancestors (indexer.ts)',
    rebuildsIndex: true,
  },
  {
    version: 5,
    why: "each branch's heads kept in a table (`heads`) as branch certs arrive, so `heads`, `branches` and a sync's fork report never rescan a branch",
    rebuildsIndex: true,
  },
];
