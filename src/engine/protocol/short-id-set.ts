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
import type { Kind } from '../items/format.js';
import { u32be as u32 } from '../codec.js';
import { fmix32 } from '../hash.js';

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

/** What a whole-slot offer said of an item, kept until the peer wants it. */
export interface OfferedMeta {
  slot: number;
  rid: number;
  kind: Kind;
  size: number;
}

/**
 * Short ids mapped to what we offered of them (OfferedMeta), in typed arrays
 * with the same keyed open addressing as ShortIdSet: no hex string, object or
 * Map entry per item. A first clone's sender offers every item and is asked
 * for each one back, so three strings, an object and a Map entry per item
 * were a visible share of its CPU (docs/PERFORMANCE.md, "What was offered,
 * in typed arrays"). Entries are taken out when wanted (backward-shift deletion keeps the
 * probe chains whole), so the table holds only what is offered and not yet
 * asked for.
 */
export class OfferedTable {
  private hi = new Uint32Array(FIRST_CAPACITY);
  private lo = new Uint32Array(FIRST_CAPACITY);
  private used = new Uint8Array(FIRST_CAPACITY);
  private slots = new Uint32Array(FIRST_CAPACITY);
  private kinds = new Uint8Array(FIRST_CAPACITY);
  private rids = new Float64Array(FIRST_CAPACITY);
  private sizes = new Float64Array(FIRST_CAPACITY);
  private readonly salt = randomBytes(4).readUInt32BE(0);
  size = 0;

  /** Records the item; an id already present keeps its first entry. */
  set(id: Uint8Array, slot: number, rid: number, kind: Kind, size: number): void {
    const h = u32(id, 0);
    const l = u32(id, 4);
    if (this.find(h, l) >= 0) return;
    if (2 * (this.size + 1) > this.used.length) this.grow();
    this.place(h, l, slot, rid, kind, size);
    this.size++;
  }

  /** Removes and returns the entry of a short id, or null. */
  take(id: Uint8Array): OfferedMeta | null {
    let i = this.find(u32(id, 0), u32(id, 4));
    if (i < 0) return null;
    const meta: OfferedMeta = { slot: this.slots[i]!, rid: this.rids[i]!, kind: this.kinds[i]! as Kind, size: this.sizes[i]! };
    this.used[i] = 0;
    this.size--;
    // Backward shift: move later entries of the chain into the hole if their home is at or before it.
    const mask = this.used.length - 1;
    for (let j = (i + 1) & mask; this.used[j] === 1; j = (j + 1) & mask) {
      const home = this.home(this.hi[j]!, this.lo[j]!);
      if (((j - home) & mask) < ((j - i) & mask)) continue;
      this.move(j, i);
      i = j;
    }
    return meta;
  }

  private home(h: number, l: number): number {
    return fmix32((l ^ Math.imul(h, 0x9e3779b9) ^ this.salt) >>> 0) & (this.used.length - 1);
  }

  private find(h: number, l: number): number {
    const mask = this.used.length - 1;
    for (let i = this.home(h, l); this.used[i] === 1; i = (i + 1) & mask) {
      if (this.hi[i] === h && this.lo[i] === l) return i;
    }
    return -1;
  }

  private place(h: number, l: number, slot: number, rid: number, kind: number, size: number): void {
    const mask = this.used.length - 1;
    let i = this.home(h, l);
    while (this.used[i] === 1) i = (i + 1) & mask;
    this.used[i] = 1;
    this.hi[i] = h;
    this.lo[i] = l;
    this.slots[i] = slot;
    this.rids[i] = rid;
    this.kinds[i] = kind;
    this.sizes[i] = size;
  }

  private move(from: number, to: number): void {
    this.used[to] = 1;
    this.hi[to] = this.hi[from]!;
    this.lo[to] = this.lo[from]!;
    this.slots[to] = this.slots[from]!;
    this.rids[to] = this.rids[from]!;
    this.kinds[to] = this.kinds[from]!;
    this.sizes[to] = this.sizes[from]!;
    this.used[from] = 0;
  }

  private grow(): void {
    const old = { hi: this.hi, lo: this.lo, used: this.used, slots: this.slots, kinds: this.kinds, rids: this.rids, sizes: this.sizes };
    const n = 2 * old.used.length;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.used = new Uint8Array(n);
    this.slots = new Uint32Array(n);
    this.kinds = new Uint8Array(n);
    this.rids = new Float64Array(n);
    this.sizes = new Float64Array(n);
    for (let i = 0; i < old.used.length; i++) {
      if (old.used[i] === 1) this.place(old.hi[i]!, old.lo[i]!, old.slots[i]!, old.rids[i]!, old.kinds[i]!, old.sizes[i]!);
    }
  }
}
