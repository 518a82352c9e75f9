/**
 * A set of 8-byte short ids (frames.ts SHORT_ID) kept in two typed arrays,
 * open addressing with linear probing: 16-32 bytes per id, where a Set of hex
 * strings took about 90. A session remembers every id it offered and every
 * id the peer asked for, so that nothing is offered or sent twice; at a
 * million items those two sets were most of a server's memory
 * (docs/PERFORMANCE.md). Positions are keyed with a per-set random salt, so
 * no peer can aim ids at one probe chain.
 */
import { randomBytes } from 'node:crypto';
import { fmix32, u32be as u32 } from '../recon/iblt.js';

const FIRST_CAPACITY = 1024; // a power of two

export class ShortIdSet {
  private hi = new Uint32Array(FIRST_CAPACITY);
  private lo = new Uint32Array(FIRST_CAPACITY);
  /** The all-zero id lives outside the table, where (0, 0) marks an empty slot. */
  private hasZero = false;
  private readonly salt = randomBytes(4).readUInt32BE(0);
  size = 0;

  has(id: Uint8Array): boolean {
    const h = u32(id, 0);
    const l = u32(id, 4);
    if (h === 0 && l === 0) return this.hasZero;
    return this.find(h, l) >= 0;
  }

  /** Adds the id (its first 8 bytes); false when it was already there. */
  add(id: Uint8Array): boolean {
    const h = u32(id, 0);
    const l = u32(id, 4);
    if (h === 0 && l === 0) {
      if (this.hasZero) return false;
      this.hasZero = true;
      this.size++;
      return true;
    }
    if (this.find(h, l) >= 0) return false;
    if (2 * (this.size + 1) > this.hi.length) this.grow();
    this.place(h, l);
    this.size++;
    return true;
  }

  private slot(h: number, l: number): number {
    return fmix32((l ^ Math.imul(h, 0x9e3779b9) ^ this.salt) >>> 0) & (this.hi.length - 1);
  }

  private find(h: number, l: number): number {
    const mask = this.hi.length - 1;
    for (let i = this.slot(h, l); ; i = (i + 1) & mask) {
      const sh = this.hi[i]!;
      const sl = this.lo[i]!;
      if (sh === h && sl === l) return i;
      if (sh === 0 && sl === 0) return -1;
    }
  }

  private place(h: number, l: number): void {
    const mask = this.hi.length - 1;
    let i = this.slot(h, l);
    while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & mask;
    this.hi[i] = h;
    this.lo[i] = l;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(2 * oldHi.length);
    this.lo = new Uint32Array(2 * oldLo.length);
    for (let i = 0; i < oldHi.length; i++) if (oldHi[i] !== 0 || oldLo[i] !== 0) this.place(oldHi[i]!, oldLo[i]!);
  }
}
