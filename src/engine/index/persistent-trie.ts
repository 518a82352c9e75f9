/**
 * The index trie kept in SQLite (tables `members` and `trie`), updated
 * incrementally in the transaction that adds members. Rules: trie-rules.ts.
 *
 * Invariant: a node row exists for every non-empty node down to the leaves,
 * and a node has child rows exactly when it is inner. Members are only ever
 * added (items are immutable), so a node goes from empty to leaf to inner and
 * never back; `db rebuild-index` starts from empty tables.
 */
import type Database from 'better-sqlite3';
import type { ReconTree } from '../recon/tree.js';
import {
  EMPTY_NODE,
  FANOUT,
  type TrieNode,
  innerHash,
  isLeaf,
  leafHash,
  nodeRange,
  prefixOf,
} from './trie-rules.js';

export interface TrieTables {
  members: string;
  trie: string;
}

export const MAIN_TABLES: TrieTables = { members: 'members', trie: 'trie' };

interface ReaderStatements {
  getNode: Database.Statement<[number, number, number], { count: number; hash: Buffer }>;
  getChildren: Database.Statement<[number, number, number, number], { prefix: number; count: number; hash: Buffer }>;
  rangeIds: Database.Statement<[number, Buffer, Buffer], Buffer>;
  tailIds: Database.Statement<[number, Buffer], Buffer>;
}

/**
 * A reader's statements, prepared once per connection and tables: a session
 * makes a reader per branch, and preparing them each time was 8% of a
 * short session's CPU (the fuzz suite's many small sessions showed it).
 */
const prepared = new WeakMap<Database.Database, Map<string, ReaderStatements>>();

function readerStatements(db: Database.Database, tables: TrieTables): ReaderStatements {
  let byTables = prepared.get(db);
  if (!byTables) prepared.set(db, (byTables = new Map()));
  const key = `${tables.members} ${tables.trie}`;
  let s = byTables.get(key);
  if (!s) {
    s = {
      getNode: db.prepare(`SELECT count, hash FROM ${tables.trie} WHERE bid = ? AND depth = ? AND prefix = ?`),
      getChildren: db.prepare(`SELECT prefix, count, hash FROM ${tables.trie} WHERE bid = ? AND depth = ? AND prefix >= ? AND prefix < ?`),
      rangeIds: db.prepare<[number, Buffer, Buffer], Buffer>(`SELECT id FROM ${tables.members} WHERE bid = ? AND id >= ? AND id < ? ORDER BY id`).pluck(),
      tailIds: db.prepare<[number, Buffer], Buffer>(`SELECT id FROM ${tables.members} WHERE bid = ? AND id >= ? ORDER BY id`).pluck(),
    };
    byTables.set(key, s);
  }
  return s;
}

/** Reads one branch's trie; the reconciliation side of the index. */
export class TrieReader implements ReconTree {
  private readonly getNode: Database.Statement<[number, number, number], { count: number; hash: Buffer }>;
  private readonly getChildren: ReaderStatements['getChildren'];
  private readonly rangeIds: Database.Statement<[number, Buffer, Buffer], Buffer>;
  private readonly tailIds: Database.Statement<[number, Buffer], Buffer>;

  constructor(
    db: Database.Database,
    private readonly bid: number,
    tables: TrieTables = MAIN_TABLES,
  ) {
    ({ getNode: this.getNode, getChildren: this.getChildren, rangeIds: this.rangeIds, tailIds: this.tailIds } = readerStatements(db, tables));
  }

  /**
   * Any node, also one below a stored leaf (reconciliation may compare two
   * levels at once): rows exist only down to the leaves, and a node under a
   * leaf holds at most LEAF_MAX ids, so it is a leaf computed from them.
   */
  node(depth: number, prefix: number): TrieNode {
    const row = this.getNode.get(this.bid, depth, prefix);
    if (row) return row;
    if (depth === 0) return EMPTY_NODE;
    const ids = this.ids(depth, prefix);
    return ids.length === 0 ? EMPTY_NODE : { count: ids.length, hash: leafHash(ids) };
  }

  /** The stored row only (TrieWriter's view): EMPTY_NODE under a leaf. */
  storedNode(depth: number, prefix: number): TrieNode {
    return this.getNode.get(this.bid, depth, prefix) ?? EMPTY_NODE;
  }

  /** The stored rows of a node's 16 children, in one read (EMPTY_NODE where there is none). */
  storedChildren(depth: number, prefix: number): TrieNode[] {
    const out: TrieNode[] = new Array<TrieNode>(FANOUT).fill(EMPTY_NODE);
    const first = prefix * FANOUT;
    for (const row of this.getChildren.all(this.bid, depth + 1, first, first + FANOUT)) out[row.prefix - first] = { count: row.count, hash: row.hash };
    return out;
  }

  ids(depth: number, prefix: number): Buffer[] {
    const { lo, hi } = nodeRange(depth, prefix);
    return hi ? this.rangeIds.all(this.bid, lo, hi) : this.tailIds.all(this.bid, lo);
  }
}

/** Applies batches of new members of one branch to its trie. */
export class TrieWriter {
  private readonly reader: TrieReader;
  private readonly putNode: Database.Statement<[number, number, number, number, Buffer]>;

  constructor(
    db: Database.Database,
    private readonly bid: number,
    tables: TrieTables = MAIN_TABLES,
  ) {
    this.reader = new TrieReader(db, bid, tables);
    this.putNode = db.prepare(
      `INSERT INTO ${tables.trie} (bid, depth, prefix, count, hash) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (bid, depth, prefix) DO UPDATE SET count = excluded.count, hash = excluded.hash`,
    );
  }

  /**
   * `newIds` are ids just inserted into the members table (each new to this
   * branch), in ascending order. Returns the new root.
   */
  add(newIds: readonly Buffer[]): TrieNode {
    if (newIds.length === 0) return this.reader.node(0, 0);
    return this.update(0, 0, newIds, false);
  }

  /**
   * @param fresh the node had no row before this batch (its parent was a
   *   leaf or empty), so `ids` are all of its ids and nothing need be read.
   */
  private update(depth: number, prefix: number, ids: readonly Buffer[], fresh: boolean, stored?: TrieNode): TrieNode {
    const old = fresh ? EMPTY_NODE : (stored ?? this.reader.storedNode(depth, prefix));
    const count = old.count + ids.length;
    let node: TrieNode;
    if (isLeaf(count, depth)) {
      const all = old.count === 0 ? ids : this.reader.ids(depth, prefix);
      node = { count, hash: leafHash(all) };
    } else if (old.count === 0 || isLeaf(old.count, depth)) {
      // Becomes inner now: its children have no rows yet, build them all.
      const all = old.count === 0 ? ids : this.reader.ids(depth, prefix);
      node = { count, hash: innerHash(this.children(depth, prefix, all, true)) };
    } else {
      node = { count, hash: innerHash(this.children(depth, prefix, ids, false)) };
    }
    this.putNode.run(this.bid, depth, prefix, node.count, node.hash);
    return node;
  }

  private children(depth: number, prefix: number, ids: readonly Buffer[], fresh: boolean): TrieNode[] {
    // One read for the 16 stored children instead of one per child (most are untouched).
    const stored = fresh ? null : this.reader.storedChildren(depth, prefix);
    const out: TrieNode[] = [];
    let start = 0;
    for (let nibble = 0; nibble < FANOUT; nibble++) {
      const childPrefix = prefix * FANOUT + nibble;
      let end = start;
      while (end < ids.length && prefixOf(ids[end]!, depth + 1) === childPrefix) end++;
      if (end > start) out.push(this.update(depth + 1, childPrefix, ids.slice(start, end), fresh, stored?.[nibble]));
      else out.push(stored ? stored[nibble]! : EMPTY_NODE);
      start = end;
    }
    return out;
  }
}
