/**
 * Reading items by row number in batches (how a sender reads what it
 * serves): a batch returns exactly the rows asked for, each once, equal to
 * the items read by id, whatever the batch's size and repeats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeInlineFile, encodeKey } from '../../src/engine/items/format.js';
import { RID_BATCH, type WriteStore } from '../../src/engine/store/store.js';
import { newStore } from '../helpers/store.js';

const open: WriteStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('getManyByRid', () => {
  it('returns each asked row once, as reading it by id does, for 1 to RID_BATCH rows', () => {
    const { store } = newStore();
    open.push(store);
    store.batch(() => {
      for (let i = 0; i < 200; i++) {
        // Sizes from 0 to ~3 KiB, and a key every 10 items: kinds and lengths differ from row to row.
        store.put(encodeInlineFile(Buffer.alloc((i * 37) % 3000, `file ${i}`)));
        if (i % 10 === 0) store.put(encodeKey(`key${i}@example.org`, Buffer.alloc(32, i)));
      }
    });
    const rows = (store.db.prepare('SELECT rid, id FROM items ORDER BY rid').raw().all() as [number, Buffer][]).slice(0, 150);
    const rids = rows.map(([rid]) => rid);
    const idOf = new Map(rows);
    for (const n of [1, 2, 17, RID_BATCH]) {
      const asked = rids.filter((_, i) => i % 2 === 0).slice(0, n).reverse();
      const got = store.getManyByRid(asked);
      expect([...got.keys()].sort((a, b) => a - b)).toEqual([...asked].sort((a, b) => a - b));
      for (const rid of asked) expect(got.get(rid)).toEqual(store.get(idOf.get(rid)!));
    }
    // A row number with no item is simply absent; repeats are returned once.
    const missing = store.getManyByRid([rids[0]!, 999_999, rids[0]!]);
    expect([...missing.keys()]).toEqual([rids[0]]);
    expect(store.getManyByRid([999_998, 999_999]).size).toBe(0);
    expect(() => store.getManyByRid([])).toThrow();
    expect(() => store.getManyByRid(Array.from({ length: RID_BATCH + 1 }, (_, i) => rids[i]!))).toThrow();
  });
});
