/**
 * The session's compact set of short ids answers exactly as a Set of their
 * hex does: through growth, for the all-zero id, for ids sharing one half.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ShortIdSet } from '../../src/engine/protocol/short-id-set.js';

describe('ShortIdSet', () => {
  it('agrees with a Set of hex strings over 50,000 random ids, repeats and misses included', () => {
    const set = new ShortIdSet();
    const ref = new Set<string>();
    const ids = Array.from({ length: 50_000 }, () => randomBytes(8));
    for (const [i, id] of ids.entries()) {
      expect(set.add(id)).toBe(!ref.has(id.toString('hex')));
      ref.add(id.toString('hex'));
      if (i % 7 === 0) expect(set.add(ids[i >> 1]!)).toBe(false); // a repeat
    }
    expect(set.size).toBe(ref.size);
    for (const id of ids) expect(set.has(id)).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      const other = randomBytes(8);
      expect(set.has(other)).toBe(ref.has(other.toString('hex')));
    }
  });

  it('holds the all-zero id, ids differing in one half only, and reads only the first 8 bytes', () => {
    const set = new ShortIdSet();
    const zero = Buffer.alloc(8);
    expect(set.has(zero)).toBe(false);
    expect(set.add(zero)).toBe(true);
    expect(set.add(Buffer.alloc(32))).toBe(false); // a whole id: the same first 8 bytes
    const sameLow = Array.from({ length: 3000 }, (_, i) => Buffer.from([0, 0, i >> 8, i & 0xff, 1, 2, 3, 4]));
    const sameHigh = Array.from({ length: 3000 }, (_, i) => Buffer.from([9, 9, 9, 9, 0, 0, i >> 8, i & 0xff]));
    for (const id of [...sameLow, ...sameHigh]) expect(set.add(id)).toBe(id.equals(zero) ? false : true);
    for (const id of [...sameLow, ...sameHigh]) expect(set.has(id)).toBe(true);
    expect(set.has(Buffer.from([9, 9, 9, 9, 0, 0, 0xff, 0xff]))).toBe(false);
    expect(set.size).toBe(1 + 3000 + 3000);
  });
});
