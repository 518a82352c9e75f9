import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EMPTY_HASH, MAX_DEPTH, prefixOf } from '../../src/engine/index/trie-rules.js';
import { MemoryTree, rootOf } from '../helpers/memory-tree.js';
import { makeIds, mulberry32 } from '../helpers/recon-sim.js';

const sha = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** An id whose first byte is `first` and whose other bytes are `fill`. */
function idWith(first: number, fill: number): Buffer {
  const id = Buffer.alloc(32, fill);
  id[0] = first;
  return id;
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const rnd = mulberry32(seed);
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('MemoryTree', () => {
  it('gives the empty node for an empty set', () => {
    const t = new MemoryTree();
    expect(t.node(0, 0)).toEqual({ count: 0, hash: EMPTY_HASH });
    expect(t.ids(0, 0)).toEqual([]);
    expect(t.node(3, 0x123).count).toBe(0);
  });

  it('computes a leaf by hand: SHA-256(0x00 || ids ascending)', () => {
    const ids = [idWith(0x90, 1), idWith(0x10, 2), idWith(0x50, 3)];
    const sorted = [ids[1]!, ids[2]!, ids[0]!];
    const expected = sha(Buffer.of(0), ...sorted);
    expect(rootOf(ids)).toEqual(expected);
    expect(new MemoryTree(ids).node(0, 0)).toEqual({ count: 3, hash: expected });
    expect(new MemoryTree(ids).ids(0, 0)).toEqual(sorted);
  });

  it('turns a 16-id leaf into an inner node at 17 ids, hashed by hand', () => {
    // 16 ids under nibble 0x1, then a 17th under nibble 0xa.
    const low = Array.from({ length: 16 }, (_, i) => idWith(0x10 + i, i));
    const t16 = new MemoryTree(low);
    expect(t16.node(0, 0).hash).toEqual(sha(Buffer.of(0), ...low));
    const extra = idWith(0xa7, 0xee);
    const t17 = new MemoryTree([...low, extra]);
    // Child 1 holds 16 ids (a leaf), child 10 holds one.
    const child1 = sha(Buffer.of(0), ...low);
    const child10 = sha(Buffer.of(0), extra);
    const bitmap = (1 << (15 - 1)) | (1 << (15 - 10));
    const head = Buffer.from([0x01, bitmap >> 8, bitmap & 0xff]);
    expect(t17.node(1, 1)).toEqual({ count: 16, hash: child1 });
    expect(t17.node(1, 10)).toEqual({ count: 1, hash: child10 });
    expect(t17.node(0, 0)).toEqual({ count: 17, hash: sha(head, child1, child10) });
  });

  it('makes a leaf of a crowded node at the maximum depth', () => {
    const ids = Array.from({ length: 20 }, (_, i) => {
      const id = Buffer.alloc(32, 0x42);
      id[31] = i;
      return id;
    });
    const t = new MemoryTree(ids);
    const p = prefixOf(ids[0]!, MAX_DEPTH);
    expect(t.node(MAX_DEPTH, p)).toEqual({ count: 20, hash: sha(Buffer.of(0), ...ids) });
    expect(t.node(MAX_DEPTH - 1, Math.floor(p / 16)).count).toBe(20);
  });

  it('gives equal roots for equal sets in any order, with duplicates, and via add()', () => {
    const ids = makeIds(3000, 'order');
    const root = rootOf(ids);
    expect(rootOf(shuffle(ids, 1))).toEqual(root);
    expect(rootOf([...shuffle(ids, 2), ...ids.slice(0, 100)])).toEqual(root);
    const grown = new MemoryTree(ids.slice(0, 1000));
    grown.node(0, 0); // fill the cache so add() must invalidate it
    for (const id of shuffle(ids.slice(1000), 3)) expect(grown.add(id)).toBe(true);
    expect(grown.add(ids[5]!)).toBe(false);
    expect(grown.size).toBe(3000);
    expect(grown.node(0, 0).hash).toEqual(root);
    expect(rootOf(ids.slice(1))).not.toEqual(root);
  });

  it('sorts ids bytewise even when many share their leading bytes', () => {
    const ids = makeIds(3000, 'ties').map((id, i) => {
      const copy = Buffer.from(id);
      copy.writeUInt32BE(i % 7, 0); // seven long runs of equal top bits
      return copy;
    });
    const expected = ids.slice().sort(Buffer.compare);
    expect(new MemoryTree(ids).ids(0, 0)).toEqual(expected);
  });

  it('keeps counts and ids consistent across levels', () => {
    const t = new MemoryTree(makeIds(5000, 'levels'));
    for (const [depth, prefix] of [
      [0, 0],
      [1, 7],
      [2, 0xab],
      [3, 0x5f1],
    ] as const) {
      const node = t.node(depth, prefix);
      let sum = 0;
      for (let i = 0; i < 16; i++) sum += t.node(depth + 1, prefix * 16 + i).count;
      expect(sum).toBe(node.count);
      const ids = t.ids(depth, prefix);
      expect(ids.length).toBe(node.count);
      for (const id of ids) expect(prefixOf(id, depth)).toBe(prefix);
      for (let i = 1; i < ids.length; i++) expect(Buffer.compare(ids[i - 1]!, ids[i]!)).toBeLessThan(0);
    }
  });

  it('rejects bad ids and nodes', () => {
    expect(() => new MemoryTree([Buffer.alloc(31)])).toThrow(RangeError);
    const t = new MemoryTree();
    expect(() => t.node(13, 0)).toThrow(RangeError);
    expect(() => t.node(1, 16)).toThrow(RangeError);
    expect(() => t.ids(2, -1)).toThrow(RangeError);
  });

  it('handles 100k ids quickly', () => {
    const ids = makeIds(100_000, 'big');
    const start = performance.now();
    const t = new MemoryTree(ids);
    expect(t.node(0, 0).count).toBe(100_000);
    expect(performance.now() - start).toBeLessThan(10_000);
  });
});
