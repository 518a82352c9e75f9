/** Building the slot table of a session: one slot per branch, named in the HELLO order. */
import { sha256 } from '../hash.js';
import { EMPTY_NODE } from '../index/trie-rules.js';
import { EMPTY_BLOCK } from '../recon/id-block.js';
import type { ReconTree } from '../recon/tree.js';
import type { ReadStore } from '../store/store.js';
import type { Slot } from './exchange.js';

/** The tree of a branch one side does not have. */
export const EMPTY_TREE: ReconTree = {
  node: () => EMPTY_NODE,
  nodesBelow: (_depth, _prefix, span) => new Array<typeof EMPTY_NODE>(16 ** span).fill(EMPTY_NODE),
  idBlock: () => EMPTY_BLOCK,
};

export function slotFor(store: ReadStore, name: string, refused = false): Slot {
  const bid = store.branchId(name);
  return { name, bid, tree: refused || bid === null ? EMPTY_TREE : store.trie(bid), refused };
}

/** The key of a session's short fingerprints: chosen by the client's nonce, so no third party can predict it. */
export function sessionKey(nonce: Buffer): Buffer {
  return sha256(Buffer.from('netsync/recon/v1\0'), nonce);
}
