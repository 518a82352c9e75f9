/**
 * Byte-exact fixtures of every frame of docs/PROTOCOL.md §2-3, written by hand
 * from the spec's layout (one line per field), plus the bounds of the
 * decoder: varints, the frame splitter, truncation, trailing bytes, counts and
 * lengths beyond limits, and a seeded fuzz that only ever sees ProtocolError.
 */
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, ItemEncoding, MAX_FRAME, type Message, Stage, decodeMessage, encodeMessage } from '../../src/engine/protocol/frames.js';
import { Writer } from '../../src/engine/codec.js';
import { ProtocolError, wireReader } from '../../src/engine/protocol/wire.js';
import { SeededRandom } from '../helpers/random.js';

/** Joins hex pieces written with spaces and comments stripped by the caller. */
const hex = (...parts: string[]): Buffer => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
const rep = (byte: string, n: number): string => byte.repeat(n);

function expectProtocolError(fn: () => unknown, codes: string[]): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect(codes).toContain((e as ProtocolError).code);
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

interface Fixture {
  name: string;
  message: Message;
  bytes: Buffer;
  /** The payload's tail is opaque (RECON payload, ITEM data): prefixes past the header decode. */
  opaqueFrom?: number;
}

const NONCE = '000102030405060708090a0b0c0d0e0f';
const ROOT_AA = rep('aa', 32);

const FIXTURES: Fixture[] = [
  {
    name: 'HELLO (sync, two patterns, one slot)',
    message: {
      type: FrameType.Hello,
      hello: {
        minVersion: 3,
        maxVersion: 3,
        flags: 3,
        nonce: Buffer.from(NONCE, 'hex'),
        patterns: ['org.a.*', '!org.a.secret*'],
        slots: [{ name: 'org.a.main', root: Buffer.from(ROOT_AA, 'hex'), count: 300 }],
      },
    },
    bytes: hex(
      '0000005e', //                           u32 length = 94 (type byte + 93 payload bytes)
      '01', //                                 type HELLO
      '4e53594e', //                           "NSYN"
      '03', //                                 min_version 3
      '03', //                                 max_version 3
      '03', //                                 flags SENDS | RECEIVES
      NONCE, //                                nonce, 16 bytes
      '02', //                                 varint n_patterns = 2
      '07',
      '6f72672e612e2a', //               string "org.a.*"
      '0e',
      '216f72672e612e7365637265742a', // string "!org.a.secret*"
      '01', //                                 varint n_slots = 1
      '0a',
      '6f72672e612e6d61696e', //         string branch "org.a.main"
      ROOT_AA, //                              id root
      'ac02', //                               varint count 300 = 0b10_0101100: 0x2c|0x80, 0x02
    ),
  },
  {
    name: 'HELLO (pull dry run, no pattern, no slot)',
    message: {
      type: FrameType.Hello,
      hello: { minVersion: 3, maxVersion: 3, flags: 2 | 4, nonce: Buffer.alloc(16, 0xff), patterns: [], slots: [] },
    },
    bytes: hex(
      '0000001a', //   length 26 = 1 + 4 + 3 + 16 + 1 + 1
      '01', //         HELLO
      '4e53594e', //   "NSYN"
      '03',
      '03', //   versions 3..3
      '06', //         flags RECEIVES | DRY_RUN
      rep('ff', 16), // nonce
      '00', //         n_patterns 0
      '00', //         n_slots 0
    ),
  },
  {
    name: 'HELLO (pull into an empty database)',
    message: {
      type: FrameType.Hello,
      hello: { minVersion: 3, maxVersion: 3, flags: 2 | 8, nonce: Buffer.alloc(16, 0x5a), patterns: ['org.*'], slots: [] },
    },
    bytes: hex(
      '00000020', //         length 32 = 1 + 4 + 3 + 16 + 1 + 6 + 1
      '01', //               HELLO
      '4e53594e', //         "NSYN"
      '03',
      '03', //         versions 3..3
      '0a', //               flags RECEIVES | EMPTY
      rep('5a', 16), //      nonce
      '01', //               n_patterns 1
      '05',
      '6f72672e2a', // string "org.*"
      '00', //               n_slots 0
    ),
  },
  {
    name: 'WELCOME (one refused slot, one extra branch)',
    message: { type: FrameType.Welcome, welcome: { version: 3, flags: 0, refused: [{ slot: 2, reason: 1 }], extra: ['org.b'] } },
    bytes: hex(
      '00000011', //         length 17
      '02', //               WELCOME
      '4e53594e', //         "NSYN"
      '03', //               version 3
      '00', //               flags: not in sync
      '01', //               varint n_refused 1
      '02',
      '01', //         slot 2, reason NOT_OFFERED
      '01', //               varint n_extra 1
      '05',
      '6f72672e62', // string "org.b"
    ),
  },
  {
    name: 'WELCOME (in sync)',
    message: { type: FrameType.Welcome, welcome: { version: 3, flags: 1, refused: [], extra: [] } },
    bytes: hex(
      '00000009', // length 9
      '02', //       WELCOME
      '4e53594e', // "NSYN"
      '03', //       version 3
      '01', //       flags IN_SYNC
      '00', //       n_refused 0
      '00', //       n_extra 0
    ),
  },
  {
    name: 'RECON',
    message: { type: FrameType.Recon, payload: hex('deadbeef') },
    bytes: hex(
      '00000005', // length 5
      '03', //       RECON
      'deadbeef', // the reconciliation message, opaque at this layer
    ),
    opaqueFrom: 0,
  },
  {
    name: 'RECON_PLAN',
    message: { type: FrameType.ReconPlan, payload: hex('0201060003000305' + '01f71fd001') },
    bytes: hex(
      '0000000e', // length 14
      '0a', //       RECON_PLAN
      '02',
      '01', // reconciliation message version 2, 1 record
      '06',
      '00', // PLAN, slot 0
      '03',
      '00', // depth 3, attempt 0
      '03',
      '05',
      '01',
      'f71f', // 3 nodes: prefixes 5, 7 (gap 1), 4095 (gap 4087)
      'd001', //     208 cells
    ),
    opaqueFrom: 0, // the payload is the reconciliation layer's (test/unit/recon-messages.test.ts; test/unit/docs-examples.test.ts decodes it)
  },
  {
    name: 'OFFER (two records)',
    message: {
      type: FrameType.Offer,
      entries: [
        { slot: 0, short: hex('0102030405060708'), kind: 4, size: 611 },
        { slot: 1, short: hex('f0f1f2f3f4f5f6f7'), kind: 1, size: 3 },
      ],
    },
    bytes: hex(
      '00000019', //         length 25
      '04', //               OFFER
      '02', //               varint n = 2
      '00', //               slot 0
      '0102030405060708', // short id
      '04', //               kind cert
      'e304', //             varint size 611 = 0x263: 0x63|0x80, 0x04
      '01', //               slot 1
      'f0f1f2f3f4f5f6f7', // short id
      '01', //               kind file
      '03', //               size 3
    ),
  },
  {
    name: 'WANT (slot 130 needs a two-byte varint)',
    message: {
      type: FrameType.Want,
      entries: [
        { slot: 0, short: hex('0102030405060708') },
        { slot: 130, short: hex('1112131415161718') },
      ],
    },
    bytes: hex(
      '00000015', //         length 21
      '05', //               WANT
      '02', //               n = 2
      '00', //               slot 0
      '0102030405060708', // short id
      '8201', //             slot 130 = 0x82: 0x02|0x80, 0x01
      '1112131415161718', // short id
    ),
  },
  {
    name: 'ITEM (raw inline file "hi\\n")',
    message: { type: FrameType.Item, id: Buffer.alloc(32, 0x11), encoding: ItemEncoding.Raw, data: hex('010068690a') },
    bytes: hex(
      '00000027', //    length 39 = 1 + 32 + 1 + 5
      '06', //          ITEM
      rep('11', 32), // id (the codec does not check it; the store does)
      '00', //          encoding raw
      '01',
      '00',
      '68690a', // data: kind file, inline layout, "hi\n"
    ),
    opaqueFrom: 33,
  },
  {
    name: 'ITEM (deflated)',
    message: { type: FrameType.Item, id: Buffer.alloc(32, 0x22), encoding: ItemEncoding.DeflateRaw, data: hex('0300') },
    bytes: hex(
      '00000024', //    length 36 = 1 + 32 + 1 + 2
      '06', //          ITEM
      rep('22', 32), // id
      '01', //          encoding deflate
      '0300', //        raw deflate stream of nothing
    ),
    opaqueFrom: 33,
  },
  { name: 'STAGE RECON_DONE', message: { type: FrameType.Stage, stage: Stage.ReconDone }, bytes: hex('00000002', '07', '01') },
  { name: 'STAGE WANTS_DONE', message: { type: FrameType.Stage, stage: Stage.WantsDone }, bytes: hex('00000002', '07', '02') },
  { name: 'STAGE ITEMS_DONE', message: { type: FrameType.Stage, stage: Stage.ItemsDone }, bytes: hex('00000002', '07', '03') },
  {
    name: 'FINAL (a refused slot and a root)',
    message: { type: FrameType.Final, roots: [Buffer.alloc(32), Buffer.alloc(32, 0xab)] },
    bytes: hex(
      '00000042', //    length 66 = 1 + 1 + 2 × 32
      '08', //          FINAL
      '02', //          varint n = 2 slots
      rep('00', 32), // slot 0 refused: 32 zero bytes
      rep('ab', 32), // slot 1 root
    ),
  },
  {
    name: 'WHOLE (slot 1, 300 members)',
    message: { type: FrameType.Whole, slot: 1, count: 300 },
    bytes: hex(
      '00000004', // length 4
      '0b', //       WHOLE
      '01', //       varint slot 1
      'ac02', //     varint count 300
    ),
  },
  {
    name: 'ERROR too-large',
    message: { type: FrameType.Error, code: 3, message: 'too big' },
    bytes: hex(
      '0000000a', //       length 10
      '09', //             ERROR
      '03', //             code 3 too-large
      '07',
      '746f6f20626967', // string "too big"
    ),
  },
];

describe('frames: byte-exact fixtures (docs/PROTOCOL.md §3)', () => {
  for (const f of FIXTURES) {
    it(`${f.name}: encodes to the spec's bytes and decodes back`, () => {
      const encoded = encodeMessage(f.message);
      expect(encoded.toString('hex')).toBe(f.bytes.toString('hex'));
      expect(f.bytes.readUInt32BE(0)).toBe(f.bytes.length - 4);
      const frames = new FrameDecoder().push(f.bytes);
      expect(frames).toHaveLength(1);
      expect(decodeMessage(frames[0]!)).toEqual(f.message);
    });
  }

  it('every frame type of the table is covered', () => {
    expect(new Set(FIXTURES.map((f) => f.message.type))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  });
});

describe('varints (unsigned LEB128, minimal, at most 8 bytes, < 2^53)', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16_383, 'ff7f'],
    [16_384, '808001'],
    [2 ** 32, '8080808010'],
    [2 ** 53 - 1, 'ffffffffffffff0f'],
  ];
  for (const [value, bytes] of cases) {
    it(`${value} <-> ${bytes}`, () => {
      expect(new Writer().varint(value).done().toString('hex')).toBe(bytes);
      const r = wireReader(Buffer.from(bytes, 'hex'), 't');
      expect(r.varint()).toBe(value);
      r.end();
    });
  }

  const bad: [string, string][] = [
    ['8000', 'non-minimal: a trailing 0x80 0x00'],
    ['ff00', 'non-minimal: a zero last group'],
    ['808000', 'non-minimal, three bytes'],
    ['808080808080808001', 'nine bytes'],
    ['8080808080808080', 'eight bytes all with the continuation bit'],
    ['ffffffffffffff10', '2^53 exactly (eighth byte carries bits 49..55)'],
    ['ffffffffffffff7f', '2^56 - 1'],
    ['80', 'truncated'],
    ['', 'empty'],
  ];
  for (const [bytes, why] of bad) {
    it(`rejects ${bytes || '(nothing)'}: ${why}`, () => {
      expectProtocolError(() => wireReader(Buffer.from(bytes, 'hex'), 't').varint(), ['malformed']);
    });
  }
});

describe('FrameDecoder', () => {
  const stream = Buffer.concat(FIXTURES.map((f) => f.bytes));
  const bodies = FIXTURES.map((f) => f.bytes.subarray(4).toString('hex'));

  it('gives the same frames whatever the split point', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(out.map((b) => b.toString('hex'))).toEqual(bodies);
      expect(d.pending).toBe(0);
    }
  });

  it('gives the same frames fed one byte at a time, and two cuts at random (seeded)', () => {
    const d = new FrameDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)));
    expect(out.map((b) => b.toString('hex'))).toEqual(bodies);
    const rnd = new SeededRandom(7);
    for (let n = 0; n < 500; n++) {
      const [a, b] = [rnd.int(stream.length + 1), rnd.int(stream.length + 1)].sort((x, y) => x - y) as [number, number];
      const e = new FrameDecoder();
      const got = [...e.push(stream.subarray(0, a)), ...e.push(stream.subarray(a, b)), ...e.push(stream.subarray(b))];
      expect(got.map((x) => x.toString('hex'))).toEqual(bodies);
    }
  });

  it('gives the frames within one chunk as views of it, not copies (a transfer decodes ~100 items per TLS record)', () => {
    const d = new FrameDecoder();
    const out = d.push(stream);
    expect(out.map((b) => b.toString('hex'))).toEqual(bodies);
    for (const body of out) expect(body.buffer).toBe(stream.buffer);
    // An ITEM's id and bytes are views too.
    const item = out.map(decodeMessage).find((m) => m.type === FrameType.Item) as Extract<Message, { type: FrameType.Item }>;
    expect(item.data.buffer).toBe(stream.buffer);
    expect(item.id.buffer).toBe(stream.buffer);
  });

  it('refuses a 0xFFFFFFFF length at once, before any further byte arrives', () => {
    const d = new FrameDecoder();
    expect(d.push(hex('ffff'))).toEqual([]);
    expect(d.push(hex('ff'))).toEqual([]);
    expect(expectProtocolError(() => d.push(hex('ff')), ['too-large']).message).toMatch(/4294967295/);
    expectProtocolError(() => new FrameDecoder().push(hex('ffffffff')), ['too-large']);
  });

  it('accepts a length of exactly MAX_FRAME (it waits for it) and refuses MAX_FRAME + 1', () => {
    const ok = Buffer.alloc(4);
    ok.writeUInt32BE(MAX_FRAME);
    expect(new FrameDecoder().push(ok)).toEqual([]);
    const big = Buffer.alloc(4);
    big.writeUInt32BE(MAX_FRAME + 1);
    expectProtocolError(() => new FrameDecoder().push(big), ['too-large']);
    expect(MAX_FRAME).toBe(8_389_632);
  });

  it('refuses a zero length', () => {
    expectProtocolError(() => new FrameDecoder().push(hex('00000000')), ['malformed']);
    // also behind a good frame in the same chunk
    expectProtocolError(() => new FrameDecoder().push(hex('00000002', '0701', '00000000')), ['malformed']);
  });

  it('holds a partial frame as pending until it completes', () => {
    const d = new FrameDecoder();
    expect(d.push(hex('0000000a', '09', '03'))).toEqual([]);
    expect(d.pending).toBe(6);
  });
});

describe('bounded decoding: truncation, trailing bytes, counts and lengths', () => {
  for (const f of FIXTURES) {
    const body = f.bytes.subarray(4);
    it(`${f.name}: every truncation throws ProtocolError (where the layout is not opaque)`, () => {
      const end = f.opaqueFrom === undefined ? body.length : 1 + f.opaqueFrom;
      for (let n = 0; n < end; n++) expectProtocolError(() => decodeMessage(body.subarray(0, n)), ['malformed']);
    });
    if (f.opaqueFrom === undefined) {
      it(`${f.name}: trailing bytes are malformed`, () => {
        expectProtocolError(() => decodeMessage(Buffer.concat([body, hex('00')])), ['malformed']);
      });
    }
  }

  it('unknown frame types, stages and item encodings are malformed', () => {
    for (const t of [0, 12, 42, 255]) expectProtocolError(() => decodeMessage(Buffer.of(t)), ['malformed']);
    for (const s of [0, 4, 255]) expectProtocolError(() => decodeMessage(hex('07', s.toString(16).padStart(2, '0'))), ['malformed']);
    expectProtocolError(() => decodeMessage(hex('06', rep('00', 32), '02', 'aa')), ['malformed']);
  });

  it('a HELLO or WELCOME without the magic is malformed', () => {
    expectProtocolError(() => decodeMessage(hex('01', '4e53594f', '0101', '03', NONCE, '00', '00')), ['malformed']);
    expectProtocolError(() => decodeMessage(hex('02', '00000000', '01', '00', '00', '00')), ['malformed']);
  });

  it('counts larger than the frame holds are malformed; counts over the limit are too-large', () => {
    // OFFER says 5 records, holds 1
    expectProtocolError(() => decodeMessage(hex('04', '05', '00', '0102030405060708', '01', '03')), ['malformed']);
    // OFFER and WANT say 65,537 records (0x010001 = 81 80 04)
    expectProtocolError(() => decodeMessage(hex('04', '818004')), ['too-large']);
    expectProtocolError(() => decodeMessage(hex('05', '818004')), ['too-large']);
    // WANT says 2^53 - 1 records
    expectProtocolError(() => decodeMessage(hex('05', 'ffffffffffffff0f')), ['too-large']);
    // WANT says 2 records and holds 1
    expectProtocolError(() => decodeMessage(hex('05', '02', '00', '0102030405060708')), ['malformed']);
    // FINAL says 2 roots, holds 1
    expectProtocolError(() => decodeMessage(hex('08', '02', rep('00', 32))), ['malformed']);
    // FINAL says 4097 slots (0x1001 = 81 20)
    expectProtocolError(() => decodeMessage(hex('08', '8120')), ['too-large']);
    // HELLO with 65 patterns
    expectProtocolError(() => decodeMessage(hex('01', '4e53594e', '0101', '03', NONCE, '41')), ['too-large']);
    // HELLO with 3 patterns announced and room for 1
    expectProtocolError(() => decodeMessage(hex('01', '4e53594e', '0101', '03', NONCE, '03', '01', '61')), ['malformed']);
    // HELLO with 4097 slots
    expectProtocolError(() => decodeMessage(hex('01', '4e53594e', '0101', '03', NONCE, '00', '8120')), ['too-large']);
    // WELCOME refusing 3 slots, holding 1
    expectProtocolError(() => decodeMessage(hex('02', '4e53594e', '01', '00', '03', '0001', '00')), ['malformed']);
  });

  it('strings over their limit are too-large; invalid UTF-8 is malformed', () => {
    const longPattern = Buffer.alloc(257, 0x61).toString('hex');
    expectProtocolError(() => decodeMessage(hex('01', '4e53594e', '0101', '03', NONCE, '01', '8102', longPattern, '00')), ['too-large']);
    const okPattern = Buffer.alloc(256, 0x61).toString('hex');
    expect(decodeMessage(hex('01', '4e53594e', '0101', '03', NONCE, '01', '8002', okPattern, '00')).type).toBe(FrameType.Hello);
    // ERROR message of 4097 bytes (0x1001 = 81 20)
    expectProtocolError(() => decodeMessage(hex('09', '01', '8120', rep('61', 4097))), ['too-large']);
    // slot branch names are at most 255 bytes
    expectProtocolError(() => decodeMessage(hex('01', '4e53594e', '0101', '03', NONCE, '00', '01', '8002', rep('61', 256), ROOT_AA, '00')), ['too-large']);
    // invalid UTF-8 (a lone continuation byte) in a pattern and in an ERROR
    expectProtocolError(() => decodeMessage(hex('01', '4e53594e', '0101', '03', NONCE, '01', '01', '80', '00')), ['malformed']);
    expectProtocolError(() => decodeMessage(hex('09', '01', '02', 'c328')), ['malformed']);
  });

  it('a RECON payload over 4 MiB is too-large; exactly 4 MiB decodes', () => {
    expect(decodeMessage(Buffer.concat([hex('03'), Buffer.alloc(4 << 20)])).type).toBe(FrameType.Recon);
    expectProtocolError(() => decodeMessage(Buffer.concat([hex('03'), Buffer.alloc((4 << 20) + 1)])), ['too-large']);
  });

  it('an ERROR message is sent with at most 1000 bytes, cut on a character boundary', () => {
    for (const ch of ['a', 'é', '€', '😀']) {
      const m = decodeMessage(encodeMessage({ type: FrameType.Error, code: 9, message: ch.repeat(3000) }).subarray(4));
      expect(m.type).toBe(FrameType.Error);
      const text = (m as { message: string }).message;
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1000);
      expect(Buffer.byteLength(text)).toBeGreaterThan(990);
      expect(text).toBe(ch.repeat(text.length / ch.length)); // no broken character
    }
  });
});

describe('fuzz (seeded): nothing but ProtocolError ever escapes', () => {
  function decodeAll(bytes: Buffer): void {
    for (const body of new FrameDecoder().push(bytes)) decodeMessage(body);
  }
  function onlyProtocolErrors(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      if (e instanceof ProtocolError) return false;
      throw e;
    }
  }

  it('10,000 random byte strings through decodeMessage and FrameDecoder', () => {
    const rnd = new SeededRandom(0x5eed);
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const body = rnd.bytes(rnd.between(0, 80));
      // Bias the type byte to the real types so the decoders get past the first byte.
      if (body.length > 0 && rnd.next() < 0.8) body[0] = rnd.between(1, 9);
      if (onlyProtocolErrors(() => decodeMessage(body))) decoded++;
      onlyProtocolErrors(() => decodeAll(body));
      const framed = Buffer.alloc(4);
      framed.writeUInt32BE(body.length);
      onlyProtocolErrors(() => decodeAll(Buffer.concat([framed, body])));
    }
    expect(decoded).toBeGreaterThan(0); // some random bodies are valid frames (RECON, ITEM, STAGE...)
  });

  it('10,000 mutations of the fixtures (flips, cuts, insertions)', () => {
    const rnd = new SeededRandom(0xf00d);
    for (let i = 0; i < 10_000; i++) {
      const f = FIXTURES[rnd.int(FIXTURES.length)]!;
      const bytes = Buffer.from(f.bytes);
      const op = rnd.int(3);
      let mutated: Buffer;
      if (op === 0) {
        for (let k = rnd.between(1, 3); k > 0; k--) bytes[rnd.int(bytes.length)] = rnd.int(256);
        mutated = bytes;
      } else if (op === 1) {
        mutated = bytes.subarray(0, rnd.int(bytes.length));
      } else {
        const at = rnd.int(bytes.length);
        mutated = Buffer.concat([bytes.subarray(0, at), rnd.bytes(rnd.between(1, 4)), bytes.subarray(at)]);
      }
      onlyProtocolErrors(() => decodeAll(mutated));
      onlyProtocolErrors(() => decodeMessage(mutated.subarray(4)));
    }
  });
});
