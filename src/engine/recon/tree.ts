import type { TrieNode } from '../index/trie-rules.js';

/**
 * What reconciliation needs from one side's index trie for one set (one
 * branch's collection). Implemented by the persistent SQLite index and by the
 * in-memory trie (tests, benchmarks). All ids are 32-byte Buffers.
 */
export interface ReconTree {
  /** The node (depth, prefix); EMPTY_NODE when no id falls under it. */
  node(depth: number, prefix: number): TrieNode;
  /** Every id under the node, ascending. Callers only ask for small nodes. */
  ids(depth: number, prefix: number): Buffer[];
}
