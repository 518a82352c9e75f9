/**
 * Id blocks: the ascending ids under a trie node packed back to back, 32
 * bytes each (ReconTree.idBlock). One buffer per node instead of one Buffer
 * per id spares an allocation per id and leaves the garbage collector little
 * to do (docs/PERFORMANCE.md, "Reading a node's ids as one blob").
 */
import { ID_BYTES } from '../hash.js';

export const EMPTY_BLOCK: Buffer = Buffer.alloc(0);

export function blockCount(block: Uint8Array): number {
  return block.length / ID_BYTES;
}

/** Id `i` of the block (a view, not a copy). */
export function idAt(block: Buffer, i: number): Buffer {
  return block.subarray(i * ID_BYTES, (i + 1) * ID_BYTES);
}

/** The ids of a block as views, for the few callers that want a list. */
export function blockIds(block: Buffer): Buffer[] {
  const out = new Array<Buffer>(blockCount(block));
  for (let i = 0; i < out.length; i++) out[i] = idAt(block, i);
  return out;
}

/** Packs ascending ids into a block. */
export function toBlock(ids: readonly Uint8Array[]): Buffer {
  return ids.length === 0 ? EMPTY_BLOCK : Buffer.concat(ids);
}

/**
 * The index of the first id whose first `short.length` bytes are not below
 * `short` (binary search; the block is ascending).
 */
function lowerBound(block: Buffer, short: Uint8Array): number {
  let lo = 0;
  let hi = blockCount(block);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const at = mid * ID_BYTES;
    if (block.compare(short, 0, short.length, at, at + short.length) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The id of the block whose first bytes equal `short`, or null. */
export function findInBlock(block: Buffer, short: Uint8Array): Buffer | null {
  const i = lowerBound(block, short);
  if (i >= blockCount(block)) return null;
  const at = i * ID_BYTES;
  return block.compare(short, 0, short.length, at, at + short.length) === 0 ? idAt(block, i) : null;
}
