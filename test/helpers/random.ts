/**
 * Deterministic randomness for tests: a failure reproduces from its seed.
 *
 * `pseudoRandomBytes` is also the input of the chunker's worked example in
 * docs/FORMAT.md, so it is defined simply enough for another implementation
 * to regenerate: SHA-256(label || u32be(0)) || SHA-256(label || u32be(1)) || ...
 * truncated to `length` bytes.
 */
import { createHash } from 'node:crypto';

export function pseudoRandomBytes(length: number, label = 'netsync/test/v1'): Buffer {
  const out = Buffer.allocUnsafe(length);
  const tag = Buffer.from(label, 'utf8');
  const counter = Buffer.alloc(4);
  for (let i = 0, off = 0; off < length; i++, off += 32) {
    counter.writeUInt32BE(i >>> 0);
    const block = createHash('sha256').update(tag).update(counter).digest();
    block.copy(out, off, 0, Math.min(32, length - off));
  }
  return out;
}

/** A small seeded generator (mulberry32) for sizes, orders and picks. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Splits `items` into consecutive batches of random sizes in [1, maxBatch]. */
  batches<T>(items: readonly T[], maxBatch: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; ) {
      const n = this.between(1, maxBatch);
      out.push(items.slice(i, i + n));
      i += n;
    }
    return out;
  }
}
