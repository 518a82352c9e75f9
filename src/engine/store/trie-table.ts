/**
 * The index trie kept in SQLite (tables `members` and `trie`), updated
 * incrementally in the transaction that adds members. Rules:
 * index/trie-rules.ts (pure; this is their SQL side).
 *
 * Invariant: a node row exists for every non-empty node down to the leaves,
 * and a node has child rows exactly when it is inner. Members are only ever
 * added (items are immutable), so a node goes from empty to leaf to inner and
 * never back; `db rebuild-index` starts from empty tables.
 */
import type Database from 'better-sqlite3';
import { EMPTY_BLOCK, blockCount, blockIds } from '../recon/id-block.js';
import type { ReconTree } from '../recon/tree.js';
import { EMPTY_NODE, FANOUT, type TrieNode, innerHash, isLeaf, leafHash, nodeRange, prefixOf } from '../index/trie-rules.js';

export interface TrieTables {
  members: string;
  trie: string;
}

export const MAIN_TABLES: TrieTables = { members: 'members', trie: 'trie' };

interface TrieStatements {
  getNode: Database.Statement<[number, number, number], { count: number; hash: Buffer }>;
  getChildren: Database.Statement<[number, number, number, number], { prefix: number; count: number; hash: Buffer }>;
  rangeBlock: Database.Statement<[number, Buffer, Buffer], Buffer | null>;
  tailBlock: Database.Statement<[number, Buffer], Buffer | null>;
  putNode: Database.Statement<[number, number, number, number, Buffer]>;
}

/**
 * The statements, prepared once per connection and tables: a session makes
 * a reader per branch and the indexer a writer per branch and transaction,
 * many of them short (docs/PERFORMANCE.md, "Prepared statements of the trie
 * reader").
 */
const prepared = new WeakMap<Database.Database, Map<string, TrieStatements>>();

function trieStatements(db: Database.Database, tables: TrieTables): TrieStatements {
  let byTables = prepared.get(db);
  if (!byTables) prepared.set(db, (byTables = new Map()));
  const key = `${tables.members} ${tables.trie}`;
  let s = byTables.get(key);
  if (!s) {
    s = {
      getNode: db.prepare(`SELECT count, hash FROM ${tables.trie} WHERE bid = ? AND depth = ? AND prefix = ?`),
      getChildren: db.prepare(`SELECT prefix, count, hash FROM ${tables.trie} WHERE bid = ? AND depth = ? AND prefix >= ? AND prefix < ?`),
      // One row holding the node's ids back to back (group_concat keeps a
      // blob's bytes; the CAST makes the text result a blob again).
      rangeBlock: db
        .prepare<[number, Buffer, Buffer], Buffer | null>(
          `SELECT CAST(group_concat(id, x'' ORDER BY id) AS BLOB) FROM ${tables.members} WHERE bid = ? AND id >= ? AND id < ?`,
        )
        .pluck(),
      tailBlock: db
        .prepare<[number, Buffer], Buffer | null>(`SELECT CAST(group_concat(id, x'' ORDER BY id) AS BLOB) FROM ${tables.members} WHERE bid = ? AND id >= ?`)
        .pluck(),
      putNode: db.prepare(
        `INSERT INTO ${tables.trie} (bid, depth, prefix, count, hash) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (bid, depth, prefix) DO UPDATE SET count = excluded.count, hash = excluded.hash`,
      ),
    };
    byTables.set(key, s);
  }
  return s;
}

/** Reads one branch's trie; the reconciliation side of the index. */
export class TrieReader implements ReconTree {
  private readonly getNode: Database.Statement<[number, number, number], { count: number; hash: Buffer }>;
  private readonly getChildren: TrieStatements['getChildren'];
  private readonly s: TrieStatements;

  constructor(
    db: Database.Database,
    private readonly bid: number,
    tables: TrieTables = MAIN_TABLES,
  ) {
    this.s = trieStatements(db, tables);
    ({ getNode: this.getNode, getChildren: this.getChildren } = this.s);
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
    return leafOf(this.idBlock(depth, prefix));
  }

  /**
   * One range read per level instead of a read per node: the rows under a
   * stored inner node are complete, so a missing row is an empty node, except
   * below a stored leaf, whose nodes are computed from its ids.
   */
  nodesBelow(depth: number, prefix: number, span: number): TrieNode[] {
    const width = FANOUT ** span;
    const top = this.getNode.get(this.bid, depth, prefix);
    if (!top || isLeaf(top.count, depth)) {
      const out: TrieNode[] = [];
      for (let i = 0; i < width; i++) out.push(this.node(depth + span, prefix * width + i));
      return out;
    }
    let level = [top as TrieNode];
    for (let d = depth + 1; d <= depth + span; d++) {
      const first = prefix * FANOUT ** (d - depth);
      const next: TrieNode[] = new Array<TrieNode>(level.length * FANOUT).fill(EMPTY_NODE);
      for (const row of this.getChildren.all(this.bid, d, first, first + next.length)) next[row.prefix - first] = { count: row.count, hash: row.hash };
      // Children of a stored leaf have no rows: compute them from the leaf's ids.
      level.forEach((parent, i) => {
        if (parent.count === 0 || !isLeaf(parent.count, d - 1)) return;
        for (let c = 0; c < FANOUT; c++) next[i * FANOUT + c] = this.node(d, (first / FANOUT + i) * FANOUT + c);
      });
      level = next;
    }
    return level;
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

  idBlock(depth: number, prefix: number): Buffer {
    const { lo, hi } = nodeRange(depth, prefix);
    return (hi ? this.s.rangeBlock.get(this.bid, lo, hi) : this.s.tailBlock.get(this.bid, lo)) ?? EMPTY_BLOCK;
  }

  ids(depth: number, prefix: number): Buffer[] {
    return blockIds(this.idBlock(depth, prefix));
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
    this.putNode = trieStatements(db, tables).putNode;
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
      node = { count, hash: old.count === 0 ? leafHash(ids) : leafHash([this.reader.idBlock(depth, prefix)]) };
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

function leafOf(block: Buffer): TrieNode {
  return block.length === 0 ? EMPTY_NODE : { count: blockCount(block), hash: leafHash([block]) };
}
