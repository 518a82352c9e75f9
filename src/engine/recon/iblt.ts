/**
 * Invertible Bloom lookup table over 8-byte keys (the first 8 bytes of an id),
 * with its sizing (how many differences to expect, how many cells for them)
 * and the helpers mapping short ids back to ids.
 *
 * Cells hold a signed count, the XOR of the keys and the XOR of their 32-bit
 * check values. k = 4, partitioned: subtable j (j = 0..3) is the cell range
 * [j*w, (j+1)*w) with w = cells / 4, and a key lands once in each subtable, so
 * it never lands twice in one cell. (With k = 3, two keys sharing all their
 * cells left too many tables that could not be peeled; the rates measured
 * for both are in docs/protocol-recon.md §6.) Positions and the check come from a
 * keyed 32-bit mix (murmur3's fmix32) of the key halves with a per-session
 * salt: this is hashing, not cryptography; the salt only stops a peer from
 * precomputing keys that collide in every cell. The exact functions are in
 * docs/protocol-recon.md so another implementation interoperates.
 */
import { Writer, u32be } from '../codec.js';
import { fmix32 } from '../hash.js';
import { IBLT_K, ReconError, readIbltCells, reconReader, writeIbltCells, type IbltData } from './messages.js';

export { IBLT_K };
export const KEY_BYTES = 8;

/** Hash function `i` (0..3 positions, 4 check) of the key (k0, k1) under salt (s0, s1). */
export function ibltHash(i: number, k0: number, k1: number, s0: number, s1: number): number {
  const h = fmix32((k0 ^ s0 ^ Math.imul(i + 1, 0x9e3779b9)) >>> 0);
  return fmix32((h ^ k1 ^ s1) >>> 0);
}

export interface PeelResult {
  /** True when every cell was emptied: `mine` and `theirs` are the whole difference. */
  ok: boolean;
  /** Keys with a positive count: present in this (minuend) table only. */
  mine: Buffer[];
  /** Keys with a negative count: present in the subtracted table only. */
  theirs: Buffer[];
  /** Cells left non-empty (0 when ok): with the keys found, a hint of the true difference. */
  remaining: number;
}

export class Iblt {
  readonly cells: number;
  private readonly width: number;
  private readonly s0: number;
  private readonly s1: number;
  private readonly d: IbltData;

  constructor(cells: number, salt: Uint8Array, data?: IbltData) {
    if (!Number.isInteger(cells) || cells < IBLT_K || cells % IBLT_K !== 0) {
      throw new ReconError(`iblt size ${cells} is not a positive multiple of ${IBLT_K}`);
    }
    if (salt.length !== 8) throw new ReconError('iblt salt must be 8 bytes');
    this.cells = cells;
    this.width = cells / IBLT_K;
    this.s0 = u32be(salt, 0);
    this.s1 = u32be(salt, 4);
    this.d = data ?? { counts: new Int32Array(cells), keys: new Uint32Array(2 * cells), checks: new Uint32Array(cells) };
    if (this.d.counts.length !== cells) throw new ReconError('iblt data does not match its size');
  }

  /** The cells as carried on the wire (shared, not copied). */
  get data(): IbltData {
    return this.d;
  }

  /** Adds the key made of the first 8 bytes of `key` (an id or a short id). */
  add(key: Uint8Array): void {
    this.toggle(u32be(key, 0), u32be(key, 4), 1, null);
  }

  /** Adds every id of an id block (id-block.ts). */
  addBlock(block: Uint8Array): void {
    for (let at = 0; at < block.length; at += 32) this.toggle(u32be(block, at), u32be(block, at + 4), 1, null);
  }

  /** This table minus `other`, cell by cell (same size and salt required). */
  subtract(other: Iblt): void {
    if (other.cells !== this.cells || other.s0 !== this.s0 || other.s1 !== this.s1) {
      throw new ReconError('iblt: subtracting a table of another size or salt');
    }
    const a = this.d;
    const b = other.d;
    for (let i = 0; i < this.cells; i++) {
      a.counts[i] = (a.counts[i]! - b.counts[i]!) | 0;
      a.keys[2 * i] = (a.keys[2 * i]! ^ b.keys[2 * i]!) >>> 0;
      a.keys[2 * i + 1] = (a.keys[2 * i + 1]! ^ b.keys[2 * i + 1]!) >>> 0;
      a.checks[i] = (a.checks[i]! ^ b.checks[i]!) >>> 0;
    }
  }

  clone(): Iblt {
    const c = this.d;
    return new Iblt(this.cells, this.salt(), {
      counts: c.counts.slice(),
      keys: c.keys.slice(),
      checks: c.checks.slice(),
    });
  }

  /**
   * Recovers the keys of a difference table (the table is left unchanged).
   * Reports ok=false rather than a wrong answer when the table cannot be fully
   * emptied; a key is only taken from a cell whose count is +-1, whose check
   * matches and which is where that key hashes to.
   */
  peel(): PeelResult {
    const t = this.clone();
    const c = t.d;
    const mine: Buffer[] = [];
    const theirs: Buffer[] = [];
    const seen = new Set<string>();
    const queue: number[] = [];
    for (let i = this.cells - 1; i >= 0; i--) queue.push(i);
    let budget = 2 * this.cells;
    while (queue.length > 0) {
      const i = queue.pop()!;
      const sign = c.counts[i]!;
      if (sign !== 1 && sign !== -1) continue;
      const k0 = c.keys[2 * i]!;
      const k1 = c.keys[2 * i + 1]!;
      if (!t.isPureAt(i, k0, k1)) continue;
      const key = Buffer.alloc(KEY_BYTES);
      key.writeUInt32BE(k0, 0);
      key.writeUInt32BE(k1, 4);
      const tag = key.toString('hex');
      if (seen.has(tag) || --budget < 0) return { ok: false, mine, theirs, remaining: t.nonEmpty() };
      seen.add(tag);
      (sign === 1 ? mine : theirs).push(key);
      t.toggle(k0, k1, -sign, queue);
    }
    const remaining = t.nonEmpty();
    return { ok: remaining === 0, mine, theirs, remaining };
  }

  encode(): Buffer {
    const w = new Writer();
    writeIbltCells(w, this.d);
    return w.done();
  }

  static decode(buf: Buffer, salt: Uint8Array): Iblt {
    const r = reconReader(buf, 'iblt');
    const data = readIbltCells(r);
    r.end();
    return new Iblt(data.counts.length, salt, data);
  }

  private salt(): Buffer {
    const s = Buffer.alloc(8);
    s.writeUInt32BE(this.s0, 0);
    s.writeUInt32BE(this.s1, 4);
    return s;
  }

  private position(j: number, k0: number, k1: number): number {
    return j * this.width + (ibltHash(j, k0, k1, this.s0, this.s1) % this.width);
  }

  private isPureAt(i: number, k0: number, k1: number): boolean {
    if (this.d.checks[i] !== ibltHash(IBLT_K, k0, k1, this.s0, this.s1)) return false;
    return this.position(Math.floor(i / this.width), k0, k1) === i;
  }

  /** Adds (delta 1) or removes (delta -1) a key; pushes the cells touched to `touched`. */
  private toggle(k0: number, k1: number, delta: number, touched: number[] | null): void {
    const c = this.d;
    const check = ibltHash(IBLT_K, k0, k1, this.s0, this.s1);
    for (let j = 0; j < IBLT_K; j++) {
      const i = this.position(j, k0, k1);
      c.counts[i] = (c.counts[i]! + delta) | 0;
      c.keys[2 * i] = (c.keys[2 * i]! ^ k0) >>> 0;
      c.keys[2 * i + 1] = (c.keys[2 * i + 1]! ^ k1) >>> 0;
      c.checks[i] = (c.checks[i]! ^ check) >>> 0;
      touched?.push(i);
    }
  }

  private nonEmpty(): number {
    const c = this.d;
    let n = 0;
    for (let i = 0; i < this.cells; i++) {
      if (c.counts[i] !== 0 || c.keys[2 * i] !== 0 || c.keys[2 * i + 1] !== 0 || c.checks[i] !== 0) n++;
    }
    return n;
  }
}

// ---------------------------------------------------------------- sizing

/** Largest acceptable chance that two differences share all four cells (which no peeling undoes). */
const PAIR_FAILURE = 0.002;

/**
 * Cells for a table expected to hold `diffs` differences. Two bounds: about
 * 1.5 cells per difference keeps large tables above the peeling threshold
 * (1.30 for k = 4), and each subtable must be wide enough that no two of the
 * differences land on the same four cells: P ~ C(d,2) / w^4, which dominates
 * for d below a hundred or so. Measured failure rates are in
 * docs/protocol-recon.md.
 */
export function ibltCellsFor(diffs: number): number {
  const d = Math.max(0, diffs);
  const linear = Math.ceil((1.5 * d + 8) / IBLT_K);
  const pairs = Math.ceil(Math.sqrt(Math.sqrt((d * (d - 1)) / 2 / PAIR_FAILURE)));
  return IBLT_K * Math.max(3, linear, pairs);
}

/** Fewer equal siblings than this leave the difference rate unknown: descend instead. */
const MIN_EQUAL_SIBLINGS = 2;

export interface Estimate {
  saturated: boolean;
  /** Expected differences under a mismatched node. */
  perNode: number;
}

/**
 * From `m` mismatched of `k` compared sibling nodes: differences fall on nodes
 * like a Poisson process, so P(node equal) = exp(-lambda). The mismatch count is
 * raised by z standard deviations to size IBLTs on the safe side; when almost
 * every node mismatches there is no estimate (saturated).
 */
export function estimateDiffs(k: number, m: number, z: number): Estimate {
  if (m === 0) return { saturated: false, perNode: 0 };
  if (k - m < MIN_EQUAL_SIBLINGS) return { saturated: true, perNode: Infinity };
  const up = Math.min(m + z * Math.sqrt((m * (k - m)) / k) + 0.5, k - 0.5);
  const lambda = -Math.log(1 - up / k);
  return { saturated: false, perNode: lambda / -Math.expm1(-lambda) };
}

// ---------------------------------------------------------------- short ids
// The 8-byte keys are short ids: the first 8 bytes of 32-byte ids.

/** Two ids sharing their first 8 bytes give one short; the list must be strictly ascending. */
export function dedupeShorts(shorts: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < shorts.length; i += KEY_BYTES) {
    const s = shorts.subarray(i, i + KEY_BYTES);
    if (out.length === 0 || !out[out.length - 1]!.equals(s)) out.push(s);
  }
  return Buffer.concat(out);
}

/** Whether an ascending list of shorts holds `short`. */
export function hasShort(shorts: Buffer[], short: Buffer): boolean {
  let lo = 0;
  let hi = shorts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = Buffer.compare(shorts[mid]!, short);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
