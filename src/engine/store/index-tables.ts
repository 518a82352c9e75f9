/**
 * The index: every table derived from `items` alone (docs/ARCHITECTURE.md,
 * "Items and the database"), created by this one function for a new
 * database, for `db rebuild-index`, and for the fresh copy `db check` builds
 * beside the live index to compare. A schema change to the index is made
 * here, with a migration marked `rebuildsIndex` (migrations.ts): the
 * migration drops these tables and opening the database builds them anew, so
 * a rebuild always makes the current shape, never an older one.
 */
import type Database from 'better-sqlite3';

/** The index's tables, exactly those createIndexTables makes (a test checks): what a rebuild may drop, never `items`. */
export const INDEX_TABLES = ['refs', 'certs', 'keys', 'branches', 'members', 'trie', 'ancestry', 'heads'] as const;

/** '' for the live database, or an attached one's name and a dot ('chk.' for the copy `db check` builds). */
export type SchemaPrefix = '' | `${string}.`;

/**
 * Creates the index's tables and their indexes in `schema`. With
 * `ifNotExists`, only those missing: the stand-ins that a maintenance open
 * prepares its statements against (store.ts).
 */
export function createIndexTables(db: Database.Database, schema: SchemaPrefix = '', ifNotExists = false): void {
  const t = (name: string) => `${ifNotExists ? 'IF NOT EXISTS ' : ''}${schema}${name}`;
  db.exec(`
    -- file -> chunk; a manifest's files are read from the manifest (docs/PERFORMANCE.md, "No manifest→file rows").
    CREATE TABLE ${t('refs')} (
      parent BLOB NOT NULL,
      child  BLOB NOT NULL,
      PRIMARY KEY (parent, child)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE ${t('certs')} (
      id       BLOB PRIMARY KEY,
      manifest BLOB NOT NULL,
      key      BLOB NOT NULL,
      name     TEXT NOT NULL,
      value    BLOB NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX ${t('certs_by_manifest')} ON certs (manifest);
    CREATE INDEX ${t('certs_by_name_value')} ON certs (name, value);
    CREATE TABLE ${t('keys')} (
      id         BLOB PRIMARY KEY,
      name       TEXT NOT NULL,
      public_key BLOB NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX ${t('keys_by_name')} ON keys (name);
    CREATE TABLE ${t('branches')} (
      bid  INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE
    ) STRICT;
    -- Which items are in which branch's collection (indexer.ts).
    CREATE TABLE ${t('members')} (
      bid INTEGER NOT NULL,
      id  BLOB NOT NULL,
      PRIMARY KEY (bid, id)
    ) STRICT, WITHOUT ROWID;
    -- Every non-empty node of each branch's Merkle trie, down to the leaves (trie-table.ts).
    CREATE TABLE ${t('trie')} (
      bid    INTEGER NOT NULL,
      depth  INTEGER NOT NULL,
      prefix INTEGER NOT NULL,
      count  INTEGER NOT NULL,
      hash   BLOB NOT NULL,
      PRIMARY KEY (bid, depth, prefix)
    ) STRICT, WITHOUT ROWID;
    -- The revision graph (format v4): each revision's parents, and who names a revision as parent.
    CREATE TABLE ${t('ancestry')} (
      child  BLOB NOT NULL,
      parent BLOB NOT NULL,
      PRIMARY KEY (child, parent)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX ${t('ancestry_by_parent')} ON ancestry (parent);
    -- Each branch's heads: its versions no version of the branch names as a parent, kept as
    -- branch certs arrive (indexer.ts); v3 manifests, whose parents are certs, are refined on reading (history.ts).
    CREATE TABLE ${t('heads')} (
      bid INTEGER NOT NULL,
      id  BLOB NOT NULL,
      PRIMARY KEY (bid, id)
    ) STRICT, WITHOUT ROWID;`);
}

/** Drops the index's tables (and with them their indexes) from `schema`; the items are untouched. */
export function dropIndexTables(db: Database.Database, schema: SchemaPrefix = ''): void {
  for (const table of INDEX_TABLES) db.exec(`DROP TABLE IF EXISTS ${schema}${table}`);
}

/** Index tables missing from the file: the index is damaged, the items may well be intact. */
export function missingIndexTables(db: Database.Database): string[] {
  const present = new Set(db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
  return INDEX_TABLES.filter((t) => !present.has(t));
}
