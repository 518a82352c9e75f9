/**
 * An independent, from-scratch computation of a branch trie's root over a
 * set of ids, written from the rules in docs/FORMAT.md ("Index trie") without
 * using src/engine/index: tests compare it with what the engine stores.
 */
import { createHash } from 'node:crypto';

const LEAF_MAX = 16;
const MAX_DEPTH = 12;

export interface ReferenceNode {
  count: number;
  hash: Buffer;
}

function sha(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function nibble(id: Uint8Array, index: number): number {
  const byte = id[index >> 1]!;
  return index % 2 === 0 ? byte >> 4 : byte & 0x0f;
}

/** The root (count and hash) of the trie over `ids` (any order, duplicates ignored). */
export function referenceRoot(ids: readonly Uint8Array[]): ReferenceNode {
  const unique = new Map<string, Buffer>();
  for (const id of ids) unique.set(Buffer.from(id).toString('hex'), Buffer.from(id));
  const sorted = [...unique.keys()].sort().map((k) => unique.get(k)!);
  return node(sorted, 0);
}

/** Every node of the trie as "depth:prefix" -> node, for shape checks. */
export function referenceNodes(ids: readonly Uint8Array[]): Map<string, ReferenceNode> {
  const out = new Map<string, ReferenceNode>();
  const sorted = [...new Set(ids.map((i) => Buffer.from(i).toString('hex')))].sort().map((h) => Buffer.from(h, 'hex'));
  node(sorted, 0, 0, out);
  return out;
}

function node(sorted: Buffer[], depth: number, prefix = 0, all?: Map<string, ReferenceNode>): ReferenceNode {
  let result: ReferenceNode;
  if (sorted.length === 0) return { count: 0, hash: Buffer.alloc(32) };
  if (sorted.length <= LEAF_MAX || depth >= MAX_DEPTH) {
    result = { count: sorted.length, hash: sha(Buffer.of(0x00), ...sorted) };
  } else {
    const groups: Buffer[][] = Array.from({ length: 16 }, () => []);
    for (const id of sorted) groups[nibble(id, depth)]!.push(id);
    let bitmap = 0;
    const hashes: Buffer[] = [];
    groups.forEach((g, n) => {
      const child = node(g, depth + 1, prefix * 16 + n, all);
      if (child.count === 0) return;
      bitmap |= 0x8000 >> n;
      hashes.push(child.hash);
    });
    const head = Buffer.of(0x01, bitmap >> 8, bitmap & 0xff);
    result = { count: sorted.length, hash: sha(head, ...hashes) };
  }
  all?.set(`${depth}:${prefix}`, result);
  return result;
}
