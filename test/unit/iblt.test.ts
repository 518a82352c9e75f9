import { describe, expect, it } from 'vitest';
import { fmix32 } from '../../src/engine/hash.js';
import { Iblt, ibltCellsFor, ibltHash } from '../../src/engine/recon/iblt.js';
import { ReconError } from '../../src/engine/recon/messages.js';
import { mulberry32 } from '../helpers/recon-sim.js';

function randomKeys(n: number, rnd: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const k = Buffer.alloc(8);
    k.writeUInt32BE(Math.floor(rnd() * 2 ** 32), 0);
    k.writeUInt32BE(Math.floor(rnd() * 2 ** 32), 4);
    out.push(k);
  }
  return out;
}

function saltOf(seed: number): Buffer {
  return Buffer.concat(randomKeys(1, mulberry32(seed ^ 0x5a17)));
}

/** A shared part plus onlyA/onlyB keys; returns A - B and the true difference. */
function differenceTable(seed: number, cells: number, shared: number, onlyA: number, onlyB: number) {
  const rnd = mulberry32(seed);
  const salt = saltOf(seed);
  const common = randomKeys(shared, rnd);
  const a = randomKeys(onlyA, rnd);
  const b = randomKeys(onlyB, rnd);
  const ta = new Iblt(cells, salt);
  const tb = new Iblt(cells, salt);
  for (const k of [...common, ...a]) ta.add(k);
  for (const k of [...common, ...b]) tb.add(k);
  ta.subtract(tb);
  return { table: ta, a, b };
}

const hexSet = (xs: Buffer[]): Set<string> => new Set(xs.map((x) => x.toString('hex')));

describe('Iblt hashing (interoperability vectors)', () => {
  it('uses murmur3 fmix32 and the documented keyed mix', () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
    const h = [0, 1, 2, 3, 4].map((i) => ibltHash(i, 0x01234567, 0x89abcdef, 0x0badf00d, 0xfeedface));
    expect(h).toEqual([0xdf565141, 0x6368dfb3, 0xb1cdbd79, 0x5b21643f, 0xeb431918]);
  });

  it('encodes one key into cells 1, 7, 9 and 15 of a 16-cell table', () => {
    const t = new Iblt(16, Buffer.from('0badf00dfeedface', 'hex'));
    t.add(Buffer.from('0123456789abcdef', 'hex'));
    const enc = t.encode();
    expect(enc[0]).toBe(16);
    const cell = (i: number): string => enc.subarray(1 + 13 * i, 14 + 13 * i).toString('hex');
    const full = '02' + '0123456789abcdef' + 'eb431918';
    const empty = '00'.repeat(13);
    for (let i = 0; i < 16; i++) expect(cell(i)).toBe([1, 7, 9, 15].includes(i) ? full : empty);
  });
});

describe('Iblt', () => {
  it('round-trips through encode/decode', () => {
    const rnd = mulberry32(7);
    const t = new Iblt(32, saltOf(7));
    for (const k of randomKeys(500, rnd)) t.add(k);
    const back = Iblt.decode(t.encode(), saltOf(7));
    expect(back.cells).toBe(32);
    expect(back.encode()).toEqual(t.encode());
    // A decoded table subtracts to exactly empty from the original.
    back.subtract(t);
    expect(back.peel()).toEqual({ ok: true, mine: [], theirs: [], remaining: 0 });
  });

  it('rejects malformed encodings with ReconError', () => {
    const t = new Iblt(8, saltOf(1));
    t.add(Buffer.alloc(8, 1));
    const enc = t.encode();
    expect(() => Iblt.decode(enc.subarray(0, enc.length - 1), saltOf(1))).toThrow(ReconError);
    expect(() => Iblt.decode(Buffer.concat([enc, Buffer.of(0)]), saltOf(1))).toThrow(ReconError);
    expect(() => Iblt.decode(Buffer.of(6), saltOf(1))).toThrow(ReconError); // not a multiple of 4
    expect(() => Iblt.decode(Buffer.of(0), saltOf(1))).toThrow(ReconError);
    expect(() => Iblt.decode(Buffer.from([0x83, 0x20]), saltOf(1))).toThrow(/exceeds limit/); // 4099 cells
    expect(() => Iblt.decode(Buffer.from([0xfc, 0x1f]), saltOf(1))).toThrow(ReconError); // 4092 cells, no data
    expect(() => new Iblt(8, Buffer.alloc(8)).subtract(new Iblt(12, Buffer.alloc(8)))).toThrow(ReconError);
    expect(() => new Iblt(8, Buffer.alloc(7))).toThrow(ReconError);
    expect(() => new Iblt(6, Buffer.alloc(8))).toThrow(/multiple of 4/);
  });

  it('recovers random differences of 0..200 exactly, signs included', () => {
    let runs = 0;
    let failures = 0;
    for (const d of [0, 1, 2, 3, 5, 8, 13, 20, 35, 50, 80, 120, 160, 200]) {
      for (let seed = 1; seed <= 40; seed++) {
        const onlyA = Math.floor(mulberry32(seed * 977 + d)() * (d + 1));
        const { table, a, b } = differenceTable(seed * 1000 + d, ibltCellsFor(d), 300, onlyA, d - onlyA);
        const res = table.peel();
        runs++;
        if (!res.ok) {
          failures++;
          continue;
        }
        expect(hexSet(res.mine)).toEqual(hexSet(a));
        expect(hexSet(res.theirs)).toEqual(hexSet(b));
        expect(res.mine.length + res.theirs.length).toBe(d);
      }
    }
    // ibltCellsFor aims at about 0.2% failures; allow noise over 560 runs (k = 3 failed ~1.5%).
    expect(failures / runs).toBeLessThan(0.01);
  });

  it('keeps the peeling failure rate low at the sized difference', () => {
    for (const d of [2, 10, 40, 100]) {
      let failures = 0;
      const trials = 600;
      for (let seed = 1; seed <= trials; seed++) {
        if (!differenceTable(seed * 7919 + d, ibltCellsFor(d), 0, d, 0).table.peel().ok) failures++;
      }
      // About 0.2% (docs/protocol-recon.md §6); k = 3 at the old sizes failed 1.5%, ~9 of 600.
      expect(failures / trials).toBeLessThan(0.01);
    }
  });

  it('reports failure, not a wrong answer, when overloaded', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { table, a, b } = differenceTable(seed, 32, 100, 60, 40);
      const res = table.peel();
      expect(res.ok).toBe(false);
      expect(res.remaining).toBeGreaterThan(0);
      // Whatever was peeled is genuine.
      const aa = hexSet(a);
      const bb = hexSet(b);
      for (const k of res.mine) expect(aa.has(k.toString('hex'))).toBe(true);
      for (const k of res.theirs) expect(bb.has(k.toString('hex'))).toBe(true);
    }
  });

  it('sizes tables in multiples of 4 that grow with the difference', () => {
    let prev = 0;
    for (const d of [0, 1, 2, 5, 10, 50, 100, 500, 1000, 2700]) {
      const c = ibltCellsFor(d);
      expect(c % 4).toBe(0);
      expect(c).toBeGreaterThanOrEqual(Math.max(prev, 1.5 * d));
      prev = c;
    }
    expect(ibltCellsFor(2700)).toBeLessThanOrEqual(4096);
  });
});
