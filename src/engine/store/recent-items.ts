/**
 * The kind and size of items a WriteStore inserted lately, by id: a manifest
 * names up to hundreds of thousands of files stored just before it, and its
 * check (every reference exists, with the right kind) asks for each. A Map
 * keyed by each id as a string made a string to fill and to ask per item, and
 * three objects per entry for the garbage collector (docs/PERFORMANCE.md,
 * "Recent items in typed arrays"); this keeps the ids in one byte array, the kinds and sizes in typed arrays, and an open-
 * addressing table of positions (linear probing, positions salted per table
 * so that no peer can aim ids at one probe chain, as in ShortIdSet).
 */
import { randomBytes } from 'node:crypto';
import { u32be as u32 } from '../codec.js';
import { ID_BYTES, fmix32 } from '../hash.js';

const FIRST_ENTRIES = 1024; // a power of two

export class RecentItems {
  private ids = new Uint8Array(FIRST_ENTRIES * ID_BYTES);
  private kinds = new Uint8Array(FIRST_ENTRIES);
  private sizes = new Float64Array(FIRST_ENTRIES);
  /** Entry number + 1 per slot, 0 for an empty slot; twice as many slots as entries. */
  private slots = new Int32Array(2 * FIRST_ENTRIES);
  private readonly salt = randomBytes(4).readUInt32BE(0);
  size = 0;

  /** @param max entries kept; past it the table starts again empty (a cache, not a record). */
  constructor(private readonly max: number) {}

  /** Remembers an item just inserted (each id once: the store inserts an id once). */
  add(id: Uint8Array, kind: number, size: number): void {
    if (this.size >= this.max) this.clear();
    if (this.size === this.kinds.length) this.grow();
    const n = this.size++;
    this.ids.set(id.subarray(0, ID_BYTES), n * ID_BYTES);
    this.kinds[n] = kind;
    this.sizes[n] = size;
    this.place(this.ids, n * ID_BYTES, n);
  }

  /** The kind and size of `id`, if it is one of the items remembered. */
  get(id: Uint8Array): { kind: number; size: number } | null {
    const mask = this.slots.length - 1;
    for (let i = this.slot(id, 0); ; i = (i + 1) & mask) {
      const entry = this.slots[i]! - 1;
      if (entry < 0) return null;
      if (this.matches(entry, id)) return { kind: this.kinds[entry]!, size: this.sizes[entry]! };
    }
  }

  clear(): void {
    if (this.size === 0) return;
    this.size = 0;
    this.slots.fill(0);
  }

  /** The first slot of the id at `bytes[at..]`. */
  private slot(bytes: Uint8Array, at: number): number {
    return fmix32((u32(bytes, at + 4) ^ Math.imul(u32(bytes, at), 0x9e3779b9) ^ this.salt) >>> 0) & (this.slots.length - 1);
  }

  private matches(entry: number, id: Uint8Array): boolean {
    const at = entry * ID_BYTES;
    for (let k = ID_BYTES - 1; k >= 0; k--) if (this.ids[at + k] !== id[k]) return false;
    return true;
  }

  private place(bytes: Uint8Array, at: number, entry: number): void {
    const mask = this.slots.length - 1;
    let i = this.slot(bytes, at);
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = entry + 1;
  }

  private grow(): void {
    const entries = 2 * this.kinds.length;
    const ids = new Uint8Array(entries * ID_BYTES);
    ids.set(this.ids);
    this.ids = ids;
    const kinds = new Uint8Array(entries);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const sizes = new Float64Array(entries);
    sizes.set(this.sizes);
    this.sizes = sizes;
    this.slots = new Int32Array(2 * entries);
    for (let n = 0; n < this.size; n++) this.place(ids, n * ID_BYTES, n);
  }
}
