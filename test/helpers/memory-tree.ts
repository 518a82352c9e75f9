/**
 * An in-memory ReconTree (tests, benchmarks, small sets): the ids sorted once,
 * nodes computed lazily by the rules of trie-rules.ts and cached. A node's ids
 * are a contiguous run of the sorted array, found by binary search over the
 * ids' top 48 bits (exact in a double), so asking for any node is cheap.
 */
import { EMPTY_NODE, MAX_DEPTH, innerHash, isLeaf, leafHash, prefixOf, type TrieNode } from '../../src/engine/index/trie-rules.js';
import { ID_BYTES } from '../../src/engine/hash.js';
import { toBlock } from '../../src/engine/recon/id-block.js';
import type { ReconTree } from '../../src/engine/recon/tree.js';

const TOP_BITS_SCALE = 16 ** MAX_DEPTH;

function top48(id: Uint8Array): number {
  return id[0]! * 2 ** 40 + id[1]! * 2 ** 32 + id[2]! * 2 ** 24 + id[3]! * 2 ** 16 + id[4]! * 2 ** 8 + id[5]!;
}

function checkId(id: Uint8Array): void {
  if (id.length !== ID_BYTES) throw new RangeError(`id must be ${ID_BYTES} bytes, got ${id.length}`);
}

function checkNode(depth: number, prefix: number): void {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) throw new RangeError(`bad depth ${depth}`);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix >= 16 ** depth) throw new RangeError(`bad prefix ${prefix} at depth ${depth}`);
}

/**
 * Ascending order of the ids. Each id is packed with its index into one
 * double, (top bits of the id) * 2^b + index with b index bits and 53 - b top
 * bits, so a native numeric sort does most of the work; runs sharing their
 * top bits are then sorted bytewise.
 */
function sortOrder(list: Buffer[]): number[] {
  const indexBits = Math.max(1, Math.ceil(Math.log2(list.length + 1)));
  const scale = 2 ** indexBits;
  const shift = Math.max(0, 32 - (53 - indexBits));
  const packed = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) packed[i] = (list[i]!.readUInt32BE(0) >>> shift) * scale + i;
  packed.sort();
  const order = Array.from(packed, (v) => v % scale);
  for (let lo = 0; lo < order.length; ) {
    const top = Math.floor(packed[lo]! / scale);
    let hi = lo + 1;
    while (hi < order.length && Math.floor(packed[hi]! / scale) === top) hi++;
    if (hi - lo > 1) {
      const run = order.slice(lo, hi).sort((a, b) => Buffer.compare(list[a]!, list[b]!));
      for (let k = 0; k < run.length; k++) order[lo + k] = run[k]!;
    }
    lo = hi;
  }
  return order;
}

export class MemoryTree implements ReconTree {
  private sorted: Buffer[];
  private keys: number[];
  /** Computed non-empty nodes, keyed by prefix * 16 + depth (< 2^53). */
  private readonly cache = new Map<number, TrieNode>();

  constructor(ids: Iterable<Uint8Array> = []) {
    const list: Buffer[] = [];
    for (const id of ids) {
      checkId(id);
      list.push(Buffer.isBuffer(id) ? id : Buffer.from(id.buffer, id.byteOffset, id.byteLength));
    }
    this.sorted = [];
    this.keys = [];
    for (const i of sortOrder(list)) {
      const id = list[i]!;
      const last = this.sorted[this.sorted.length - 1];
      if (last?.equals(id)) continue;
      this.sorted.push(id);
      this.keys.push(top48(id));
    }
  }

  get size(): number {
    return this.sorted.length;
  }

  /** Adds an id; returns false when it was already present. */
  add(id: Uint8Array): boolean {
    checkId(id);
    const buf = Buffer.from(id);
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare(this.sorted[mid]!, buf) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.sorted.length && this.sorted[lo]!.equals(buf)) return false;
    this.sorted.splice(lo, 0, buf);
    this.keys.splice(lo, 0, top48(buf));
    // Only the nodes on the id's path change.
    for (let d = 0; d <= MAX_DEPTH; d++) this.cache.delete(prefixOf(buf, d) * 16 + d);
    return true;
  }

  node(depth: number, prefix: number): TrieNode {
    checkNode(depth, prefix);
    const cached = this.cache.get(prefix * 16 + depth);
    if (cached) return cached;
    const [lo, hi] = this.range(depth, prefix, 0, this.sorted.length);
    return this.compute(depth, prefix, lo, hi);
  }

  nodesBelow(depth: number, prefix: number, span: number): TrieNode[] {
    const out: TrieNode[] = [];
    for (let i = 0; i < 16 ** span; i++) out.push(this.node(depth + span, prefix * 16 ** span + i));
    return out;
  }

  idBlock(depth: number, prefix: number): Buffer {
    return toBlock(this.ids(depth, prefix));
  }

  ids(depth: number, prefix: number): Buffer[] {
    checkNode(depth, prefix);
    const [lo, hi] = this.range(depth, prefix, 0, this.sorted.length);
    return this.sorted.slice(lo, hi);
  }

  /** The run [lo, hi) of sorted ids under the node, searched within [from, to). */
  private range(depth: number, prefix: number, from: number, to: number): [number, number] {
    const unit = TOP_BITS_SCALE / 16 ** depth;
    return [this.lowerBound(prefix * unit, from, to), this.lowerBound((prefix + 1) * unit, from, to)];
  }

  private lowerBound(key: number, from: number, to: number): number {
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compute(depth: number, prefix: number, lo: number, hi: number): TrieNode {
    const count = hi - lo;
    if (count === 0) return EMPTY_NODE;
    const key = prefix * 16 + depth;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let hash: Buffer;
    if (isLeaf(count, depth)) {
      hash = leafHash(this.sorted.slice(lo, hi));
    } else {
      const children: TrieNode[] = [];
      for (let i = 0; i < 16; i++) {
        const child = prefix * 16 + i;
        const [clo, chi] = this.range(depth + 1, child, lo, hi);
        children.push(this.compute(depth + 1, child, clo, chi));
      }
      hash = innerHash(children);
    }
    const node: TrieNode = { count, hash };
    this.cache.set(key, node);
    return node;
  }
}

/** The root hash of a set of ids, by the trie rules. */
export function rootOf(ids: Iterable<Uint8Array>): Buffer {
  return new MemoryTree(ids).node(0, 0).hash;
}
