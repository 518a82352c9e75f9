/**
 * The one bounded reader and writer (src/engine/codec.ts) that items, wire
 * frames and reconciliation messages share: every read is checked against
 * what is left before anything is sliced or allocated, limits are checked as
 * a varint is read, and whatever is wrong reaches the caller's own error type.
 */
import { describe, expect, it } from 'vitest';
import { type ReadProblem, Reader, Writer, u32be } from '../../src/engine/codec.js';

class TestError extends Error {
  constructor(
    readonly problem: ReadProblem,
    message: string,
  ) {
    super(message);
  }
}

function reader(hex: string, what = 'thing'): Reader {
  return new Reader(Buffer.from(hex, 'hex'), what, (problem, message) => {
    throw new TestError(problem, message);
  });
}

/** The problem `f` raised through the injected function (and nothing else). */
function problemOf(f: () => unknown): { problem: ReadProblem; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TestError);
    return { problem: (e as TestError).problem, message: (e as TestError).message };
  }
  throw new Error('expected a read problem, got none');
}

describe('Reader: bounds', () => {
  it('each fixed-size read refuses a buffer one byte short, naming the encoding and the field', () => {
    const reads: [number, (r: Reader) => unknown][] = [
      [1, (r) => r.u8('kind')],
      [2, (r) => r.u16('kind')],
      [4, (r) => r.u32('kind')],
      [8, (r) => r.u64('kind')],
      [5, (r) => r.bytes(5, 'kind')],
      [5, (r) => r.copy(5, 'kind')],
    ];
    for (const [size, read] of reads) {
      const short = reader('ab'.repeat(size - 1));
      expect(problemOf(() => read(short))).toEqual({ problem: 'malformed', message: `thing kind: truncated (needs ${size} bytes, ${size - 1} left)` });
      expect(short.remaining).toBe(size - 1); // nothing consumed by a refused read
      expect(() => read(reader('00'.repeat(size)))).not.toThrow();
    }
  });

  it('a forged length is refused before anything is sliced, however large', () => {
    const r = reader('0102');
    for (const n of [3, 2 ** 31, Number.MAX_SAFE_INTEGER]) expect(problemOf(() => r.bytes(n)).problem).toBe('malformed');
    expect(r.bytes(2)).toEqual(Buffer.of(1, 2));
  });

  it('bytes() is a view of the buffer read, copy() a copy of its own', () => {
    const buf = Buffer.from('0102030405', 'hex');
    const r = new Reader(buf, 'x', () => {
      throw new Error('unexpected');
    });
    const view = r.bytes(2);
    const own = r.copy(2);
    buf.fill(0);
    expect(view).toEqual(Buffer.of(0, 0));
    expect(own).toEqual(Buffer.of(3, 4));
  });

  it('end() refuses trailing bytes; rest() takes them all', () => {
    expect(problemOf(() => reader('0000').end())).toEqual({ problem: 'malformed', message: 'thing: 2 trailing bytes' });
    const r = reader('010203');
    r.u8();
    expect(r.rest()).toEqual(Buffer.of(2, 3));
    r.end();
  });

  it('a 64-bit value must fit in 53 bits', () => {
    expect(reader('001fffffffffffff').u64()).toBe(Number.MAX_SAFE_INTEGER);
    expect(problemOf(() => reader('0020000000000000').u64()).problem).toBe('malformed');
  });
});

describe('Reader: varints, counts, strings', () => {
  it('a varint over the caller limit is too-large, found before the rest of it is read', () => {
    expect(reader('7f').varint(127)).toBe(127);
    // 0x7f then a continuation byte whose group already passes 127: no third byte is needed to refuse it.
    expect(problemOf(() => reader('ff01').varint(127, 'slot'))).toEqual({ problem: 'too-large', message: 'thing slot: 255 exceeds limit 127' });
    expect(problemOf(() => reader('ff7f').varint(16_000)).problem).toBe('too-large');
  });

  it('without a limit, 2^53 and more is malformed, as are long, non-minimal and cut varints', () => {
    expect(reader('ffffffffffffff0f').varint()).toBe(Number.MAX_SAFE_INTEGER);
    for (const hex of ['ffffffffffffff10', '8080808080808080', '808080808080808001', '8000', '80', '']) {
      expect(problemOf(() => reader(hex).varint()).problem, hex).toBe('malformed');
    }
  });

  it('zigzag reads signed values within -max-1..max', () => {
    const w = new Writer();
    for (const v of [0, -1, 1, -2, 2, 2 ** 31 - 1, -(2 ** 31)]) w.zigzag(v);
    const r = new Reader(w.done(), 'z', () => {
      throw new Error('unexpected');
    });
    expect([0, 1, 2, 3, 4, 5, 6].map(() => r.zigzag(2 ** 31))).toEqual([0, -1, 1, -2, 2, 2 ** 31 - 1, -(2 ** 31)]);
    const zigzag = (v: number) => reader(new Writer().zigzag(v).done().toString('hex')).zigzag(5);
    expect(zigzag(-6)).toBe(-6);
    expect(problemOf(() => zigzag(-7)).problem).toBe('too-large');
    expect(problemOf(() => zigzag(6)).problem).toBe('too-large');
  });

  it('a count over its limit is too-large; one the bytes left cannot hold is malformed', () => {
    expect(reader('02aabbccdd').count(2, 10)).toBe(2);
    expect(problemOf(() => reader('0b').count(0, 10)).problem).toBe('too-large');
    expect(problemOf(() => reader('03aabbccdd').count(2, 10))).toEqual({ problem: 'malformed', message: 'thing: count 3 larger than the bytes left hold' });
  });

  it('a string over its limit is too-large; invalid UTF-8 is malformed', () => {
    expect(reader('03c3a961').string(3)).toBe('éa');
    expect(problemOf(() => reader('03616161').string(2)).problem).toBe('too-large');
    expect(problemOf(() => reader('02c328').string(10)).problem).toBe('malformed');
    expect(problemOf(() => reader('05616161').string(10)).problem).toBe('malformed');
  });
});

describe('Writer', () => {
  it('writes every field the reader reads, across its internal buffers', () => {
    const w = new Writer();
    const big = Buffer.alloc(5000, 7);
    for (let i = 0; i < 300; i++)
      w.u8(i & 0xff)
        .u16(i)
        .u32(i * 70_000)
        .u64(i * 2 ** 40)
        .varint(i * 1000)
        .string(`n${i}`);
    w.bytes(big).bytes(Buffer.of(9));
    const out = w.done();
    expect(out.length).toBe(w.length);
    const r = new Reader(out, 'w', () => {
      throw new Error('unexpected');
    });
    for (let i = 0; i < 300; i++) {
      expect([r.u8(), r.u16(), r.u32(), r.u64(), r.varint(), r.string(100)]).toEqual([i & 0xff, i, i * 70_000, i * 2 ** 40, i * 1000, `n${i}`]);
    }
    expect(r.bytes(5000)).toEqual(big);
    expect(r.u8()).toBe(9);
    r.end();
  });

  it('refuses a varint of a negative or unsafe number', () => {
    expect(() => new Writer().varint(-1)).toThrow(RangeError);
    expect(() => new Writer().varint(2 ** 53)).toThrow(RangeError);
  });

  it('done() is a buffer of its own, not a view of the writer or of the bytes given', () => {
    const content = Buffer.alloc(4096, 1);
    const out = new Writer().u8(2).bytes(content).done();
    content.fill(0);
    expect(out.subarray(1)).toEqual(Buffer.alloc(4096, 1));
  });
});

it('u32be reads a big-endian word at any offset', () => {
  expect(u32be(Buffer.from('00fffefdfc', 'hex'), 1)).toBe(0xfffefdfc);
});
