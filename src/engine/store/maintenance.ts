/**
 * `db rebuild-index` and `db check`. The index is derived from `items` alone,
 * by the same Indexer that keeps it current on insert; so "rebuild" is
 * "drop the derived tables and index every item again, in storage order", and
 * "check" is "build a fresh index beside the live one and compare".
 */
import { NetsyncError, fail } from '../errors.js';
import { toHex } from '../hash.js';
import { Kind, decodeItem, itemId } from '../items/format.js';
import { createIndexTables, dropIndexTables, missingIndexTables } from './index-tables.js';
import { Indexer } from './indexer.js';
import type { WriteStore } from './store.js';
import { verifyReferences } from './verify.js';

/** Items whose decoded form the index tables hold; content, manifests and trees are read only when needed. */
const INDEXABLE = `SELECT rid, id, data FROM items
  WHERE (kind IN (${Kind.Cert}, ${Kind.Key}, ${Kind.Revision})
     OR (kind = ${Kind.File} AND substr(data, 2, 1) = x'01'))`;

function indexAll(store: WriteStore, indexer: Indexer, onProgress?: (done: number) => void): number {
  return indexer.bulk(store.pages<{ id: Buffer; data: Buffer }>(INDEXABLE), onProgress);
}

export function rebuildIndex(store: WriteStore, onProgress?: (done: number) => void): { items: number; branches: number } {
  store.db.transaction(() => {
    dropIndexTables(store.db);
    createIndexTables(store.db);
    indexAll(store, store.indexer, onProgress);
  })();
  return { items: store.itemCount(), branches: store.branches().length };
}

export interface CheckReport {
  items: number;
  problems: string[];
}

const MAX_LISTED = 50;

export function checkDatabase(store: WriteStore, onProgress?: (done: number) => void): CheckReport {
  const problems: string[] = [];
  const report = (p: string) => {
    if (problems.length < MAX_LISTED) problems.push(p);
    else if (problems.length === MAX_LISTED) problems.push('(further problems not listed)');
  };
  const items = checkItems(store, report, onProgress);
  checkIndex(store, report);
  return { items, problems };
}

function checkItems(store: WriteStore, report: (p: string) => void, onProgress?: (done: number) => void): number {
  let n = 0;
  for (const row of store.iterate()) {
    n++;
    if (n % 10_000 === 0) onProgress?.(n);
    const hex = toHex(row.id);
    if (!itemId(row.data).equals(row.id)) {
      report(`item ${hex}: its bytes do not hash to its id (damaged)`);
      continue;
    }
    try {
      const item = decodeItem(row.data);
      if (item.kind !== row.kind) report(`item ${hex}: stored as kind ${row.kind}, encodes kind ${item.kind}`);
      verifyReferences(store, row.id, item);
    } catch (e) {
      if (!(e instanceof NetsyncError)) throw e;
      report(`item ${hex}: ${e.message}`);
    }
  }
  return n;
}

const COMPARISONS: Record<string, (s: string) => string> = {
  refs: (s) => `SELECT parent, child FROM ${s}refs`,
  certs: (s) => `SELECT id, manifest, key, name, value FROM ${s}certs`,
  ancestry: (s) => `SELECT child, parent FROM ${s}ancestry`,
  heads: (s) => `SELECT b.name, h.id FROM ${s}heads h JOIN ${s}branches b ON b.bid = h.bid`,
  keys: (s) => `SELECT id, name, public_key FROM ${s}keys`,
  members: (s) => `SELECT b.name, m.id FROM ${s}members m JOIN ${s}branches b ON b.bid = m.bid`,
  trie: (s) => `SELECT b.name, t.depth, t.prefix, t.count, t.hash FROM ${s}trie t JOIN ${s}branches b ON b.bid = t.bid`,
};

function checkIndex(store: WriteStore, report: (p: string) => void): void {
  const db = store.db;
  const missing = missingIndexTables(db);
  for (const t of missing) report(`index: table "${t}" is missing (run "netsync db rebuild-index")`);
  if (missing.length > 0) return;

  db.exec("ATTACH DATABASE ':memory:' AS chk");
  try {
    createIndexTables(db, 'chk.');
    db.transaction(() => indexAll(store, new Indexer(db, 'chk.')))();
    for (const [table, select] of Object.entries(COMPARISONS)) {
      const extra = count(store, `${select('main.')} EXCEPT ${select('chk.')}`);
      const lacking = count(store, `${select('chk.')} EXCEPT ${select('main.')}`);
      if (extra + lacking > 0) {
        report(`index: table "${table}" differs from a fresh rebuild (${extra} stale or extra rows, ${lacking} missing); run "netsync db rebuild-index"`);
      }
    }
  } finally {
    db.exec('DETACH DATABASE chk');
  }
}

function count(store: WriteStore, sql: string): number {
  try {
    return store.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM (${sql})`).get()!.n;
  } catch (e) {
    return fail('db-corrupt', `cannot read the index: ${(e as Error).message}`);
  }
}
