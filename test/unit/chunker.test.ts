/**
 * Content-defined chunking: the cut points follow docs/FORMAT.md exactly (an
 * independent implementation of the text agrees with the engine, and a
 * worked example is frozen), they are content-defined (an insertion changes
 * only the chunk around it), bounded by CHUNK_MAX, and independent of how the
 * input is split into pushes.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_AVG, CHUNK_MIN, Chunker, findCut } from '../../src/engine/items/chunker.js';
import { CHUNK_MAX, encodeChunk, encodeChunkedFile, INLINE_MAX, itemId } from '../../src/engine/items/format.js';
import { pseudoRandomBytes, SeededRandom } from '../helpers/random.js';

// ------------------------------------------------ a second implementation, from docs/FORMAT.md §6 alone

const SPEC = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024, maskSmall: 0xfffff800, maskLarge: 0xffffe000 };

const specGear: number[] = Array.from({ length: 256 }, (_, i) => createHash('sha256').update('netsync/gear/v1').update(Buffer.of(i)).digest().readUInt32BE(0));

/** Chunk lengths of a whole input, by the specification's pseudo-code. */
function specChunkLengths(data: Uint8Array): number[] {
  const out: number[] = [];
  let start = 0;
  while (start < data.length) {
    const remaining = data.length - start;
    let cut = Math.min(remaining, SPEC.max);
    if (remaining > SPEC.min) {
      let h = 0;
      for (let i = SPEC.min; i < Math.min(remaining, SPEC.max); i++) {
        h = (h * 2 + specGear[data[start + i]!]!) % 2 ** 32;
        const mask = i < SPEC.avg ? SPEC.maskSmall : SPEC.maskLarge;
        if ((h & mask) >>> 0 === 0) {
          cut = i + 1;
          break;
        }
      }
    }
    out.push(cut);
    start += cut;
  }
  return out;
}

function chunkAll(data: Uint8Array): Buffer[] {
  const c = new Chunker();
  return [...c.push(data), ...c.end()];
}

function chunkStreaming(data: Uint8Array, sizes: () => number): Buffer[] {
  const c = new Chunker();
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; ) {
    const n = Math.min(sizes(), data.length - off);
    out.push(...c.push(data.subarray(off, off + n)));
    off += n;
  }
  out.push(...c.end());
  return out;
}

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let big: Buffer; // 20 MiB of pseudo-random bytes
beforeAll(() => {
  big = pseudoRandomBytes(20 << 20);
});

describe('chunker parameters', () => {
  it('are the documented ones', () => {
    expect([CHUNK_MIN, CHUNK_AVG, CHUNK_MAX]).toEqual([SPEC.min, SPEC.avg, SPEC.max]);
    expect(INLINE_MAX).toBe(1 << 20);
  });

  it('an independent implementation of docs/FORMAT.md cuts where the engine cuts', () => {
    const inputs = [
      big.subarray(0, 12 << 20),
      Buffer.alloc(9 << 20), // no content cut ever fires: hard cuts at CHUNK_MAX
      Buffer.alloc(CHUNK_MIN + 1, 0x5a),
      big.subarray(0, CHUNK_MIN),
      big.subarray(0, 100),
      new SeededRandom(3).bytes(3 << 20),
    ];
    for (const data of inputs) {
      expect(chunkAll(data).map((c) => c.length)).toEqual(specChunkLengths(data));
    }
  });

  it('worked example (docs/FORMAT.md): 8 MiB of pseudoRandomBytes', () => {
    const data = big.subarray(0, 8 << 20);
    expect(digest(pseudoRandomBytes(64))).toBe(digest(big.subarray(0, 64))); // the prefix property the example relies on
    const chunks = chunkAll(data);
    expect(chunks.map((c) => c.length)).toEqual([1521571, 4194304, 750669, 1080808, 828651, 12605]);
    expect(itemId(encodeChunk(chunks[0]!)).toString('hex')).toBe('055f4f72a6daaef6311b20dcc6c2fc39587a28b41390ee28f4e87647e19116eb');
    const file = encodeChunkedFile(chunks.map((c) => ({ id: itemId(encodeChunk(c)), length: c.length })));
    expect(itemId(file).toString('hex')).toBe('28bb9d00450513124d5695d3c0ad97d95fc5fbb33ccbac9007fe41543ed6ea62');
  });

  it('a run of any one repeated byte value never cuts (the hash settles at 2^32 - gear[b])', () => {
    for (let b = 0; b < 256; b++) {
      let h = 0;
      for (let i = 0; i < 64; i++) {
        h = (h * 2 + specGear[b]!) % 2 ** 32;
        expect((h & SPEC.maskLarge) >>> 0, `byte ${b}, step ${i}`).not.toBe(0); // maskLarge is the weaker condition
      }
      expect(h).toBe(2 ** 32 - specGear[b]!);
    }
    expect(chunkAll(Buffer.alloc(CHUNK_MAX + 10, 0x5a)).map((c) => c.length)).toEqual([CHUNK_MAX, 10]);
  });

  it('findCut asks for more input until it can decide', () => {
    expect(findCut(big.subarray(0, 1000), false)).toBe(-1);
    expect(findCut(big.subarray(0, 1000), true)).toBe(1000);
    expect(findCut(Buffer.alloc(CHUNK_MAX - 1), false)).toBe(-1);
    expect(findCut(Buffer.alloc(CHUNK_MAX), false)).toBe(CHUNK_MAX);
    expect(findCut(Buffer.alloc(CHUNK_MAX + 5), false)).toBe(CHUNK_MAX);
  });
});

describe('chunker behaviour', () => {
  it('cut points are content-defined: 100 bytes inserted near the start leave the later chunks identical', () => {
    const before = chunkAll(big);
    const edited = Buffer.concat([big.subarray(0, 1000), Buffer.alloc(100, 0xee), big.subarray(1000)]);
    const after = chunkAll(edited);
    expect(before.length).toBeGreaterThan(10);
    const beforeIds = new Set(before.map(digest));
    const shared = after.filter((c) => beforeIds.has(digest(c))).length;
    expect(shared).toBeGreaterThanOrEqual(before.length - 2);
    // Specifically: everything after the first chunk is unchanged.
    expect(after.slice(1).map(digest)).toEqual(before.slice(1).map(digest));
    expect(after[0]!.length).toBe(before[0]!.length + 100);
  });

  it('a deletion in the middle changes at most the chunks around it', () => {
    const before = chunkAll(big);
    const at = 10 << 20;
    const edited = Buffer.concat([big.subarray(0, at), big.subarray(at + 100)]);
    const after = chunkAll(edited);
    const beforeIds = new Set(before.map(digest));
    const changed = after.filter((c) => !beforeIds.has(digest(c))).length;
    expect(changed).toBeLessThanOrEqual(2);
    expect(after.length).toBeGreaterThanOrEqual(before.length - 1);
  });

  it('no chunk exceeds CHUNK_MAX, and only the last is shorter than CHUNK_MIN + 1', () => {
    for (const data of [big, Buffer.alloc(10 << 20), Buffer.alloc(10 << 20, 0xff)]) {
      const chunks = chunkAll(data);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      for (const c of chunks) expect(c.length).toBeLessThanOrEqual(CHUNK_MAX);
      for (const c of chunks.slice(0, -1)) expect(c.length).toBeGreaterThan(CHUNK_MIN);
    }
    expect(chunkAll(Buffer.alloc(10 << 20)).map((c) => c.length)).toEqual([CHUNK_MAX, CHUNK_MAX, (10 << 20) - 2 * CHUNK_MAX]);
  });

  it('streaming pushes of odd sizes give the same chunks as one push', () => {
    const data = big.subarray(0, 9 << 20);
    const whole = chunkAll(data).map(digest);
    const rng = new SeededRandom(42);
    const patterns: [string, () => number][] = [
      ['65537', () => 65537],
      ['1000003', () => 1000003],
      ['CHUNK_MAX + 1', () => CHUNK_MAX + 1],
      ['random 1..300000', () => rng.between(1, 300_000)],
    ];
    for (const [name, sizes] of patterns) {
      expect(chunkStreaming(data, sizes).map(digest), name).toEqual(whole);
    }
    // Tiny pushes at the start (each below CHUNK_MIN), then big ones.
    let pushed = 0;
    const tinyThenBig = () => (pushed++ < 2000 ? rng.between(1, 50) : 777_777);
    expect(chunkStreaming(data, tinyThenBig).map(digest)).toEqual(whole);
  });

  it('chunks returned by push are copies: later pushes do not change them', () => {
    const c = new Chunker();
    const block = Buffer.from(big.subarray(0, 6 << 20));
    const first = c.push(block);
    const saved = first.map(digest);
    block.fill(0);
    c.push(block);
    c.end();
    expect(first.map(digest)).toEqual(saved);
  });
});
