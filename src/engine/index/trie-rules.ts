/**
 * The shape and hashing rules of the index trie, shared by the persistent
 * index (src/engine/store/trie-table.ts), the in-memory trie used in tests
 * and benchmarks, and the reconciliation state machine. Both peers must apply
 * exactly these rules, so they are part of the protocol (docs/PROTOCOL.md §Trie).
 *
 * - A node is named by (depth, prefix): the ids whose top 4*depth bits equal
 *   `prefix`. The root is (0, 0). Fanout is 16 (one hex nibble per level).
 * - A node holding at most LEAF_MAX ids, or sitting at MAX_DEPTH, is a leaf:
 *   hash = SHA-256(0x00 || ids in ascending byte order).
 * - Any other node is inner: hash = SHA-256(0x01 || u16be bitmap of non-empty
 *   children (bit 15 = nibble 0) || the hashes of the non-empty children in
 *   nibble order).
 * - An empty node has count 0 and the all-zero hash.
 * The shape is a pure function of the set, so equal sets have equal roots
 * whatever order the ids were inserted in.
 */
import { sha256 } from '../hash.js';

export const FANOUT = 16;
export const LEAF_MAX = 16;
/** 12 nibbles = 48 bits: prefixes stay exact JavaScript integers. */
export const MAX_DEPTH = 12;
export const EMPTY_HASH: Buffer = Buffer.alloc(32);

export interface TrieNode {
  count: number;
  hash: Buffer;
}

export const EMPTY_NODE: TrieNode = Object.freeze({ count: 0, hash: EMPTY_HASH }) as TrieNode;

/** The node prefix of `id` at `depth` (top 4*depth bits as an integer). */
export function prefixOf(id: Uint8Array, depth: number): number {
  let p = 0;
  for (let i = 0; i < depth; i++) {
    const byte = id[i >> 1]!;
    const nibble = i & 1 ? byte & 0x0f : byte >> 4;
    p = p * 16 + nibble;
  }
  return p;
}

export function isLeaf(count: number, depth: number): boolean {
  return count <= LEAF_MAX || depth >= MAX_DEPTH;
}

/**
 * The id range covered by a node, as [lo, hi) 32-byte bounds; hi is null when
 * the range runs to the end of the id space.
 */
export function nodeRange(depth: number, prefix: number): { lo: Buffer; hi: Buffer | null } {
  const lo = Buffer.alloc(32);
  writePrefix(lo, depth, prefix);
  if (depth === 0) return { lo, hi: null };
  const next = prefix + 1;
  if (next >= 16 ** depth) return { lo, hi: null };
  const hi = Buffer.alloc(32);
  writePrefix(hi, depth, next);
  return { lo, hi };
}

function writePrefix(out: Buffer, depth: number, prefix: number): void {
  let p = prefix;
  for (let i = depth - 1; i >= 0; i--) {
    const nibble = p % 16;
    p = Math.floor(p / 16);
    const j = i >> 1;
    out[j] = i & 1 ? (out[j]! & 0xf0) | nibble : (out[j]! & 0x0f) | (nibble << 4);
  }
}

export function leafHash(sortedIds: readonly Uint8Array[]): Buffer {
  return sha256(Buffer.of(0x00), ...sortedIds);
}

/** `children[i]` is the node of nibble i (EMPTY_NODE when absent). */
export function innerHash(children: readonly TrieNode[]): Buffer {
  let bitmap = 0;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < FANOUT; i++) {
    const c = children[i];
    if (!c || c.count === 0) continue;
    bitmap |= 1 << (15 - i);
    parts.push(c.hash);
  }
  const head = Buffer.alloc(3);
  head[0] = 0x01;
  head.writeUInt16BE(bitmap, 1);
  return sha256(head, ...parts);
}
