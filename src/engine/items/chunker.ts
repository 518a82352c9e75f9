/**
 * Content-defined chunking (FastCDC-style gear hash with normalised chunk
 * sizes), so that an edit in a big file changes only the chunks around it and
 * a sync moves only those. Parameters are in docs/FORMAT.md: two
 * implementations that follow them cut the same file at the same places and
 * so give it the same id.
 */
import { sha256 } from '../hash.js';
import { CHUNK_MAX } from './format.js';

export const CHUNK_MIN = 256 << 10;
export const CHUNK_AVG = 1 << 20;

/**
 * gear[i] = first 4 bytes (big-endian) of SHA-256("netsync/gear/v1" || u8 i).
 * Made on first use: every command loads this module, few chunk anything.
 */
let GEAR: Uint32Array | null = null;

function gear(): Uint32Array {
  if (!GEAR) {
    GEAR = new Uint32Array(256);
    for (let i = 0; i < 256; i++) GEAR[i] = sha256(Buffer.from('netsync/gear/v1'), Buffer.of(i)).readUInt32BE(0);
  }
  return GEAR;
}

// Cut when the top bits of the rolling hash are zero: 21 bits before the
// average size (harder), 19 bits after it (easier), as FastCDC's normalisation.
const MASK_SMALL = 0xfffff800 >>> 0;
const MASK_LARGE = 0xffffe000 >>> 0;

/**
 * Returns the length of the first chunk of `data` (data.length if no cut is
 * found and `final`, or -1 if more input is needed to decide).
 */
export function findCut(data: Uint8Array, final: boolean): number {
  const n = data.length;
  if (n <= CHUNK_MIN) return final ? n : -1;
  const normal = Math.min(n, CHUNK_AVG);
  const limit = Math.min(n, CHUNK_MAX);
  const g = gear();
  let h = 0;
  let i = CHUNK_MIN;
  for (; i < normal; i++) {
    h = ((h << 1) + g[data[i]!]!) >>> 0;
    if ((h & MASK_SMALL) === 0) return i + 1;
  }
  for (; i < limit; i++) {
    h = ((h << 1) + g[data[i]!]!) >>> 0;
    if ((h & MASK_LARGE) === 0) return i + 1;
  }
  if (limit === CHUNK_MAX) return CHUNK_MAX;
  return final ? n : -1;
}

/**
 * Streams chunks out of pushed input while holding at most CHUNK_MAX plus one
 * input block in memory.
 */
export class Chunker {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds input; returns the chunks it completes (copies, safe to keep). */
  push(block: Uint8Array): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, block]) : Buffer.from(block);
    return this.drain(false);
  }

  /** Flushes the tail. */
  end(): Buffer[] {
    return this.drain(true);
  }

  private drain(final: boolean): Buffer[] {
    const out: Buffer[] = [];
    while (this.pending.length > 0) {
      const cut = findCut(this.pending, final);
      if (cut < 0) break;
      out.push(Buffer.from(this.pending.subarray(0, cut)));
      this.pending = this.pending.subarray(cut);
    }
    if (this.pending.length > 0 && this.pending.byteOffset > 0 && !final) this.pending = Buffer.from(this.pending);
    return out;
  }
}
