/**
 * The WriteStore's memory of recently inserted items (kind and size by id),
 * which a manifest's check asks for every file it names.
 */
import { describe, expect, it } from 'vitest';
import { RecentItems } from '../../src/engine/store/recent-items.js';
import { SeededRandom } from '../helpers/random.js';

describe('RecentItems', () => {
  const rnd = new SeededRandom(4242);
  const ids = Array.from({ length: 5000 }, () => Buffer.from(rnd.bytes(32)));

  it('gives back the kind and size of every id added, through its growth, and nothing for others', () => {
    const recent = new RecentItems(1 << 20);
    ids.forEach((id, i) => recent.add(id, i % 5, i * 1021));
    expect(recent.size).toBe(ids.length);
    ids.forEach((id, i) => expect(recent.get(id)).toEqual({ kind: i % 5, size: i * 1021 }));
    for (let i = 0; i < 200; i++) expect(recent.get(Buffer.from(rnd.bytes(32)))).toBeNull();
    // A view into a larger buffer is read at its own offset.
    const inside = Buffer.concat([Buffer.alloc(7), ids[17]!, Buffer.alloc(3)]).subarray(7, 39);
    expect(recent.get(inside)).toEqual({ kind: 2, size: 17 * 1021 });
  });

  it('tells apart ids that share their first 8 bytes (the slot) and differ only later', () => {
    const recent = new RecentItems(1 << 20);
    const twins = Array.from({ length: 50 }, (_, i) => {
      const id = Buffer.from(ids[0]!);
      id[8 + (i % 24)] = (id[8 + (i % 24)]! + 1 + Math.floor(i / 24)) & 0xff;
      return id;
    });
    recent.add(ids[0]!, 1, 1);
    twins.forEach((id, i) => recent.add(id, 3, 100 + i));
    expect(recent.get(ids[0]!)).toEqual({ kind: 1, size: 1 });
    twins.forEach((id, i) => expect(recent.get(id)).toEqual({ kind: 3, size: 100 + i }));
  });

  it('keeps sizes past 4 GiB exactly (a chunked file of any size)', () => {
    const recent = new RecentItems(16);
    recent.add(ids[1]!, 1, 2 ** 40 + 12345);
    expect(recent.get(ids[1]!)).toEqual({ kind: 1, size: 2 ** 40 + 12345 });
  });

  it('starts again empty past its bound, and clear forgets everything', () => {
    const recent = new RecentItems(1000);
    ids.slice(0, 1000).forEach((id) => recent.add(id, 0, 1));
    expect(recent.size).toBe(1000);
    recent.add(ids[1000]!, 4, 9);
    expect(recent.size).toBe(1);
    expect(recent.get(ids[0]!)).toBeNull();
    expect(recent.get(ids[1000]!)).toEqual({ kind: 4, size: 9 });
    recent.clear();
    expect(recent.get(ids[1000]!)).toBeNull();
  });
});
