/**
 * The session's compact set of short ids answers exactly as a Set of their
 * hex does: through growth, for the all-zero id, for ids sharing one half.
 * The table of what was offered answers as a Map does, through any mix of
 * entries added and taken out (deletion must keep every probe chain whole).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type OfferedMeta, OfferedTable, ShortIdSet } from '../../src/engine/protocol/short-id-set.js';
import { SeededRandom } from '../helpers/random.js';

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
    for (const id of [...sameLow, ...sameHigh]) expect(set.add(id)).toBe(!id.equals(zero));
    for (const id of [...sameLow, ...sameHigh]) expect(set.has(id)).toBe(true);
    expect(set.has(Buffer.from([9, 9, 9, 9, 0, 0, 0xff, 0xff]))).toBe(false);
    expect(set.size).toBe(1 + 3000 + 3000);
  });
});

describe('OfferedTable', () => {
  it('agrees with a Map over 200,000 random adds and takes, through growth and with crowded probe chains', () => {
    const rnd = new SeededRandom(11);
    const table = new OfferedTable();
    const ref = new Map<string, OfferedMeta>();
    // A small id space (ids sharing their high half, the all-zero id among them) makes long chains and many repeats.
    const ids = Array.from({ length: 20_000 }, (_, i) =>
      i % 3 === 0 ? Buffer.from([0, 0, 0, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0]) : randomBytes(8),
    );
    let taken = 0;
    for (let op = 0; op < 200_000; op++) {
      const id = ids[rnd.between(0, ids.length - 1)]!;
      const key = id.toString('hex');
      // Adds outnumber takes at first, then takes win: the table grows, then empties through deletions.
      if (rnd.between(0, 99) < (op < 100_000 ? 70 : 30)) {
        const meta = { slot: rnd.between(0, 5), rid: rnd.between(1, 2 ** 40), kind: rnd.between(0, 5), size: rnd.between(0, 2 ** 33) };
        table.set(id, meta.slot, meta.rid, meta.kind, meta.size);
        if (!ref.has(key)) ref.set(key, meta); // an id already present keeps its first entry
      } else {
        const got = table.take(id);
        expect(got).toEqual(ref.get(key) ?? null);
        if (ref.delete(key)) taken++;
      }
      expect(table.size).toBe(ref.size);
    }
    expect(taken).toBeGreaterThan(30_000);
    for (const id of ids) expect(table.take(id)).toEqual(ref.get(id.toString('hex')) ?? null);
    expect(table.size).toBe(0);
  });
});
