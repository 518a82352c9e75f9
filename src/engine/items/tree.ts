/**
 * Folder trees of format v4 (docs/FORMAT.md §12): building a folder's nodes
 * from its listing, and reading a folder's entries back from its nodes.
 *
 * A folder's listing, sorted by name bytes, is cut into listing nodes after
 * each name of rank ≥ 1 (about 32 entries a node) or at NODE_MAX entries;
 * the nodes are indexed by nodes of level 1, cut after a child whose last
 * name has rank ≥ 2, and so on up to a single node, the folder's tree id.
 * Cuts depend on names only, so changing one entry of a 100,000-entry folder
 * gives one new node per level (four or so), and the nodes around it keep
 * their ids: a commit stores, and a sync moves, those few.
 */
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import {
  EntryType,
  Kind,
  LEVEL_MAX,
  NODE_MAX,
  type TreeChild,
  type TreeEntry,
  decodeItem,
  encodeTreeIndex,
  encodeTreeListing,
  itemId,
  nameRank,
} from './format.js';

/** A node built: its bytes, its id, the entries it covers and the rank of its last name. */
interface BuiltNode {
  bytes: Buffer;
  id: Buffer;
  count: number;
  lastRank: number;
}

export interface BuiltFolder {
  /** The folder's tree id: its root node's. */
  id: Buffer;
  /** Every node of the folder, each child before the index that names it; the root is last. */
  nodes: Buffer[];
}

/** The nodes of one folder from its entries (in any order; names must be valid and distinct). */
export function buildFolder(entries: readonly TreeEntry[]): BuiltFolder {
  const named = entries.map((e) => ({ ...e, name: Buffer.from(e.name, 'utf8') })).sort((a, b) => Buffer.compare(a.name, b.name));
  const nodes: Buffer[] = [];
  const add = (bytes: Buffer, count: number, lastRank: number): BuiltNode => {
    nodes.push(bytes);
    return { bytes, id: itemId(bytes), count, lastRank };
  };
  let level: BuiltNode[] = [];
  let start = 0;
  for (let i = 0; i < named.length; i++) {
    const rank = nameRank(named[i]!.name);
    if (rank >= 1 || i - start + 1 === NODE_MAX || i === named.length - 1) {
      level.push(add(encodeTreeListing(named.slice(start, i + 1)), i - start + 1, rank));
      start = i + 1;
    }
  }
  if (level.length === 0) level.push(add(encodeTreeListing([]), 0, 0));
  for (let k = 1; level.length > 1; k++) {
    if (k > LEVEL_MAX) fail('too-large', `a folder of ${named.length} entries needs more than ${LEVEL_MAX} index levels`);
    const up: BuiltNode[] = [];
    let children: BuiltNode[] = [];
    for (let i = 0; i < level.length; i++) {
      const child = level[i]!;
      children.push(child);
      if (child.lastRank >= k + 1 || children.length === NODE_MAX || i === level.length - 1) {
        const list: TreeChild[] = children.map((c) => ({ id: c.id, count: c.count }));
        up.push(
          add(
            encodeTreeIndex(k, list),
            list.reduce((s, c) => s + c.count, 0),
            child.lastRank,
          ),
        );
        children = [];
      }
    }
    level = up;
  }
  return { id: level[0]!.id, nodes };
}

/** Reads an item's bytes by id (a store's `get`), or null when it is not stored. */
export type ItemReader = (id: Buffer) => Buffer | null;

/** The entries of the folder whose tree id is `root`, in name-byte order, node by node. */
export function* folderEntries(read: ItemReader, root: Buffer): Generator<TreeEntry, void, void> {
  const bytes = read(root);
  if (!bytes) return fail('db-corrupt', `tree node ${toHex(root)} is missing`);
  const node = decodeItem(bytes);
  if (node.kind !== Kind.Tree) return fail('usage', `${toHex(root)} is not a tree`);
  if (node.level === 0) {
    yield* node.entries;
    return;
  }
  for (const c of node.children) yield* folderEntries(read, c.id);
}

/** One entry of a whole tree, with its '/'-separated path from the tree's root. */
export interface TreePathEntry extends TreeEntry {
  path: string;
}

/** Every entry of a tree, depth first, each folder before what it holds (folders in name order). */
export function* treeWalk(read: ItemReader, root: Buffer, prefix = ''): Generator<TreePathEntry, void, void> {
  for (const e of folderEntries(read, root)) {
    const path = prefix ? `${prefix}/${e.name}` : e.name;
    yield { ...e, path };
    if (e.type === EntryType.Dir) yield* treeWalk(read, e.id!, path);
  }
}
