import type { TrieNode } from '../index/trie-rules.js';

/**
 * What reconciliation needs from one side's index trie for one set (one
 * branch's collection). Implemented by the persistent SQLite index and by the
 * in-memory trie (tests, benchmarks).
 */
export interface ReconTree {
  /** The node (depth, prefix); EMPTY_NODE when no id falls under it. */
  node(depth: number, prefix: number): TrieNode;
  /**
   * The 16^span nodes at depth + span under the node (depth, prefix), in
   * prefix order: what one fingerprint record covers, read at once.
   */
  nodesBelow(depth: number, prefix: number, span: number): TrieNode[];
  /**
   * Every id under the node, ascending, packed in one buffer (id-block.ts):
   * one read and one allocation per node rather than one per id, which was
   * most of a d = 100 session's CPU. Callers only ask for small nodes.
   */
  idBlock(depth: number, prefix: number): Buffer;
}
