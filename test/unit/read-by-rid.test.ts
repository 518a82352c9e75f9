/**
 * How a sender reads what it offers and serves. Items by row number in
 * batches: a batch returns exactly the rows asked for, each once, equal to
 * the items read by id, whatever the batch's size and repeats. A branch's
 * members with their row numbers, kinds and sizes, in pages: every member
 * once, ascending, as the plain join gives them, whatever the page size.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeInlineFile, encodeKey } from '../../src/engine/items/format.js';
import { RID_BATCH, type WriteStore } from '../../src/engine/store/store.js';
import { SeededRandom } from '../helpers/random.js';
import { fixedSigner, newStore, putRandomRevision } from '../helpers/store.js';

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
      const asked = rids
        .filter((_, i) => i % 2 === 0)
        .slice(0, n)
        .reverse();
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

describe('membersWithMeta', () => {
  it('gives every member once, ascending, with the row number, kind and size the items table holds, across pages', () => {
    const { store } = newStore();
    open.push(store);
    const signer = fixedSigner();
    const rnd = new SeededRandom(5);
    for (let r = 0; r < 12; r++)
      putRandomRevision(
        store,
        signer,
        'org.example.meta',
        Array.from({ length: 20 }, () => rnd.bytes(rnd.between(0, 300))),
      );
    const bid = store.branchId('org.example.meta')!;
    const expected = store.db
      .prepare('SELECT m.id, i.rid, i.kind, i.size FROM members m JOIN items i ON i.id = m.id WHERE m.bid = ? ORDER BY m.id')
      .all(bid) as { id: Buffer; rid: number; kind: number; size: number }[];
    expect(expected.length).toBeGreaterThan(100);
    for (const page of [1, 7, 64, 4096]) {
      const got = [...store.membersWithMeta(bid, page)].map((m) => ({ id: Buffer.from(m.id), rid: m.rid, kind: m.kind, size: m.size }));
      expect(got, `page ${page}`).toEqual(expected);
    }
    expect([...store.membersWithMeta(bid + 1000)]).toEqual([]);
  });

  it('with dataMax, gives the bytes of exactly the members no larger than it (a first clone reads them once)', () => {
    const { store } = newStore();
    open.push(store);
    const rnd = new SeededRandom(6);
    for (let r = 0; r < 6; r++)
      putRandomRevision(
        store,
        fixedSigner(),
        'org.example.data',
        Array.from({ length: 30 }, () => rnd.bytes(rnd.between(0, 400))),
      );
    const bid = store.branchId('org.example.data')!;
    const plain = [...store.membersWithMeta(bid)];
    expect(plain.every((m) => m.data === null)).toBe(true);
    for (const [page, dataMax] of [
      [1, 200],
      [13, 200],
      [4096, 0],
      [4096, 1 << 20],
    ] as const) {
      const got = [...store.membersWithMeta(bid, page, dataMax)];
      expect(got.map((m) => m.id.toString('hex'))).toEqual(plain.map((m) => m.id.toString('hex')));
      let withData = 0;
      for (const m of got) {
        const stored = store.get(m.id)!;
        expect([m.rid, m.kind, m.size]).toEqual([plain.find((p) => p.id.equals(m.id))!.rid, stored.kind, stored.size]);
        if (stored.data.length <= dataMax) {
          expect(m.data?.equals(stored.data), `page ${page}, dataMax ${dataMax}`).toBe(true);
          withData++;
        } else expect(m.data).toBeNull();
      }
      // Some members of each kind of answer, except at the extremes.
      if (dataMax === 200) expect(withData).toBeGreaterThan(0);
      if (dataMax === 200) expect(withData).toBeLessThan(got.length);
      if (dataMax === 1 << 20) expect(withData).toBe(got.length);
    }
  });
});
