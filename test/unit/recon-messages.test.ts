import { describe, expect, it } from 'vitest';
import { Iblt } from '../../src/engine/recon/iblt.js';
import { MemoryTree } from '../helpers/memory-tree.js';
import { Writer } from '../../src/engine/codec.js';
import { MAX_SLOTS, RECON_VERSION, RecordType, ReconError, decodeReconMessage, encodeReconMessage, type ReconRecord } from '../../src/engine/recon/messages.js';
import { Reconciler } from '../../src/engine/recon/reconciler.js';
import { makeIds, makePair, mulberry32 } from '../helpers/recon-sim.js';

const KEY = Buffer.alloc(32, 9);

function sampleRecords(): ReconRecord[] {
  const t = new Iblt(12, Buffer.alloc(8, 3));
  for (const id of makeIds(50, 'cells')) t.add(id);
  const present = Buffer.alloc(2);
  present[0] = 0b1010_0000;
  const shorts = Buffer.concat([Buffer.from('5a00000000000001', 'hex'), Buffer.from('5a00000000000002', 'hex')]);
  return [
    { type: RecordType.Root, slot: 0, count: 1_000_000, fp: Buffer.alloc(16, 7) },
    { type: RecordType.Fps, slot: 1, depth: 2, prefix: 0x5a, span: 1, fpBytes: 4, present, fps: Buffer.alloc(8, 1) },
    { type: RecordType.Iblt, slot: 2, depth: 3, attempt: 1, prefixes: [0, 5, 4095], cells: t.data },
    { type: RecordType.Shorts, slot: 3, depth: 2, prefix: 0x5a, shorts },
    { type: RecordType.Empty, slot: 4, depth: 0, prefix: 0, span: 0, marked: null },
    { type: RecordType.Empty, slot: 5, depth: 1, prefix: 3, span: 2, marked: Buffer.alloc(32, 0x81) },
    { type: RecordType.Plan, slot: 6, depth: 3, attempt: 0, prefixes: [5, 7, 4095], cells: 212 },
  ];
}

/** A message header followed by raw record bytes. */
function raw(records: number, ...bytes: number[]): Buffer {
  const w = new Writer();
  w.u8(RECON_VERSION);
  w.varint(records);
  for (const b of bytes) w.u8(b);
  return w.done();
}

function expectReconError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReconError);
    return;
  }
}

describe('message codec', () => {
  it('round-trips every record type', () => {
    const recs = sampleRecords();
    const msg = encodeReconMessage(recs);
    const back = decodeReconMessage(msg);
    expect(back).toEqual(recs);
    expect(encodeReconMessage(back)).toEqual(msg);
  });

  it('encodes an empty message in two bytes', () => {
    expect(encodeReconMessage([])).toEqual(Buffer.of(2, 0));
    expect(decodeReconMessage(Buffer.of(2, 0))).toEqual([]);
  });

  it('rejects every truncation and any trailing byte', () => {
    const msg = encodeReconMessage(sampleRecords());
    for (let n = 0; n < msg.length; n++) {
      expect(() => decodeReconMessage(msg.subarray(0, n))).toThrow(ReconError);
    }
    expect(() => decodeReconMessage(Buffer.concat([msg, Buffer.of(0)]))).toThrow(/trailing/);
  });

  it('refuses huge counts before allocating anything', () => {
    // 2^40 records, 70000 records, 65537 shorts, 4097 and 2^30 IBLT cells, 2^20 IBLT nodes.
    expect(() => decodeReconMessage(raw(0, ...[]).subarray(0, 1))).toThrow(ReconError);
    const big = (v: number): number[] => {
      const out: number[] = [];
      let x = v;
      while (x >= 0x80) {
        out.push((x % 0x80) | 0x80);
        x = Math.floor(x / 0x80);
      }
      out.push(x);
      return out;
    };
    expect(() => decodeReconMessage(Buffer.from([RECON_VERSION, ...big(2 ** 40)]))).toThrow(/exceeds limit/);
    expect(() => decodeReconMessage(Buffer.from([RECON_VERSION, ...big(70_000)]))).toThrow(/exceeds limit/);
    expect(() => decodeReconMessage(Buffer.from([RECON_VERSION, ...big(60_000)]))).toThrow(/truncated/);
    expect(() => decodeReconMessage(raw(1, RecordType.Shorts, 0, 0, 0, ...big(65_537)))).toThrow(/exceeds limit/);
    expect(() => decodeReconMessage(raw(1, RecordType.Shorts, 0, 0, 0, ...big(65_536)))).toThrow(/truncated/);
    expect(() => decodeReconMessage(raw(1, RecordType.Iblt, 0, 1, 0, 1, 0, ...big(4097)))).toThrow(/exceeds limit/);
    expect(() => decodeReconMessage(raw(1, RecordType.Iblt, 0, 1, 0, 1, 0, ...big(2 ** 30)))).toThrow(/exceeds limit/);
    expect(() => decodeReconMessage(raw(1, RecordType.Iblt, 0, 1, 0, 1, 0, ...big(4092)))).toThrow(/truncated/);
    expect(() => decodeReconMessage(raw(1, RecordType.Iblt, 0, 5, 0, ...big(2 ** 20)))).toThrow(/truncated|exceeds/);
    expect(() => decodeReconMessage(raw(1, RecordType.Root, ...big(2 ** 17)))).toThrow(/slot/);
  });

  it('holds slot numbers to the protocol limit of 4096 slots a session (MAX_SLOTS, as HELLO does)', () => {
    const root = (slot: number) => encodeReconMessage([{ type: RecordType.Root, slot, count: 1, fp: Buffer.alloc(16) }]);
    expect(MAX_SLOTS).toBe(4096);
    expect(decodeReconMessage(root(MAX_SLOTS - 1))[0]!.slot).toBe(4095);
    expect(() => decodeReconMessage(root(MAX_SLOTS))).toThrow(/slot: 4096 exceeds limit 4095/);
  });

  it('rejects out-of-range fields', () => {
    const cases: [string, Buffer][] = [
      ['version', Buffer.of(1, 0)], // version 1 hashed into 3 cells
      ['type', raw(1, 9, 0)],
      ['depth', raw(1, RecordType.Empty, 0, 13, 0, 0)],
      ['prefix', raw(1, RecordType.Empty, 0, 1, 16, 0)],
      ['span', raw(1, RecordType.Empty, 0, 11, 0, 2)],
      ['fps span 0', raw(1, RecordType.Fps, 0, 0, 0, 0x40)],
      ['fps width', raw(1, RecordType.Fps, 0, 0, 0, 0x21, 0, 0)],
      ['non-minimal varint', raw(1, RecordType.Empty, 0, 1, 0x81, 0x00, 0)],
      ['attempt', raw(1, RecordType.Iblt, 0, 1, 2, 1, 0, 4)],
      ['no nodes', raw(1, RecordType.Iblt, 0, 1, 0, 0)],
      ['node beyond depth', raw(1, RecordType.Iblt, 0, 1, 0, 2, 10, 10)],
      ['shorts outside node', raw(1, RecordType.Shorts, 0, 1, 1, 1, 0x20, 0, 0, 0, 0, 0, 0, 0)],
      ['shorts not ascending', raw(1, RecordType.Shorts, 0, 0, 0, 2, ...Array(8).fill(1), ...Array(8).fill(1))],
      ['plan cells not a multiple of 4', raw(1, RecordType.Plan, 0, 1, 0, 1, 0, 6)],
      ['plan without cells', raw(1, RecordType.Plan, 0, 1, 0, 1, 0, 0)],
      ['plan cells over the limit', raw(1, RecordType.Plan, 0, 1, 0, 1, 0, 0x83, 0x20)],
      ['plan without nodes', raw(1, RecordType.Plan, 0, 1, 0, 0, 4)],
      ['zigzag count too large', raw(1, RecordType.Iblt, 0, 0, 0, 1, 0, 4, 0xff, 0xff, 0xff, 0xff, 0x7f)],
    ];
    for (const [what, msg] of cases) {
      expect(() => decodeReconMessage(msg), what).toThrow(ReconError);
    }
  });

  it('throws only ReconError on random bytes and on mutated messages', () => {
    const valid = encodeReconMessage(sampleRecords());
    for (let seed = 1; seed <= 3000; seed++) {
      const rnd = mulberry32(seed);
      let msg: Buffer;
      if (seed % 2) {
        msg = Buffer.alloc(Math.floor(rnd() * 64));
        for (let i = 0; i < msg.length; i++) msg[i] = Math.floor(rnd() * 256);
        if (msg.length > 0 && seed % 4 === 1) msg[0] = 1;
      } else {
        msg = Buffer.from(valid);
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) msg[Math.floor(rnd() * msg.length)] = Math.floor(rnd() * 256);
      }
      expectReconError(() => decodeReconMessage(msg));
    }
  });
});

describe('reconciler input checks', () => {
  const { a, b } = makePair('checks', 300, 5, 7);
  const ta = new MemoryTree(a);
  const tb = new MemoryTree(b);

  it('feeds hostile messages to a live session: only ReconError escapes', () => {
    const init = new Reconciler({ role: 'initiator', slots: [ta], sessionKey: KEY });
    const first = init.initiate();
    for (let seed = 1; seed <= 400; seed++) {
      const rnd = mulberry32(seed);
      // A responder on its first message, and an initiator expecting a reply.
      const resp = new Reconciler({ role: 'responder', slots: [tb], sessionKey: KEY });
      const msg = Buffer.from(first);
      msg[Math.floor(rnd() * msg.length)] = Math.floor(rnd() * 256);
      expectReconError(() => resp.step(msg));
      const again = new Reconciler({ role: 'initiator', slots: [ta], sessionKey: KEY });
      again.initiate();
      const reply = new Reconciler({ role: 'responder', slots: [tb], sessionKey: KEY }).step(first).reply!;
      const bad = Buffer.from(reply);
      for (let k = 0; k < 3; k++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
      expectReconError(() => again.step(bad));
    }
  });

  it('bounds the work a message can cause', () => {
    const init = new Reconciler({ role: 'initiator', slots: [new MemoryTree(makeIds(1000, 'work'))], sessionKey: KEY });
    init.initiate();
    const empty: ReconRecord = { type: RecordType.Empty, slot: 0, depth: 0, prefix: 0, span: 0, marked: null };
    expect(() => init.step(encodeReconMessage(Array(3000).fill(empty)))).toThrow(/more work/);
  });

  it('answers repeated records without producing a malformed reply', () => {
    const resp = new Reconciler({ role: 'responder', slots: [tb], sessionKey: KEY });
    const init = new Reconciler({ role: 'initiator', slots: [ta], sessionKey: KEY });
    const fps = decodeReconMessage(resp.step(init.initiate()).reply!);
    const reply = init.step(encodeReconMessage([...fps, ...fps])).reply!;
    expect(() => decodeReconMessage(reply)).not.toThrow();
  });

  it('enforces the session structure', () => {
    const resp = (): Reconciler => new Reconciler({ role: 'responder', slots: [tb], sessionKey: KEY });
    const init = new Reconciler({ role: 'initiator', slots: [ta], sessionKey: KEY });
    const first = init.initiate();
    expect(() => init.initiate()).toThrow(ReconError);
    expect(() => resp().initiate()).toThrow(ReconError);
    // Slot count mismatch, duplicate roots, roots later, non-roots first.
    expect(() => new Reconciler({ role: 'responder', slots: [tb, tb], sessionKey: KEY }).step(first)).toThrow(/slot count/);
    const root = decodeReconMessage(first);
    expect(() => resp().step(encodeReconMessage([...root, ...root]))).toThrow(/duplicate/);
    expect(() => init.step(first)).toThrow(/unexpected root/);
    expect(() => resp().step(encodeReconMessage([{ type: RecordType.Empty, slot: 0, depth: 0, prefix: 0, span: 0, marked: null }]))).toThrow(/only roots/);
    expect(() => resp().step(encodeReconMessage([{ ...root[0]!, slot: 3 } as ReconRecord]))).toThrow(/out of range/);
    // A side that is done accepts no more messages.
    const same = new Reconciler({ role: 'responder', slots: [ta], sessionKey: KEY });
    expect(same.step(first).reply).toEqual(Buffer.of(2, 0));
    expect(same.done).toBe(true);
    expect(() => same.step(first)).toThrow(/unexpected message/);
    expect(() => new Reconciler({ role: 'initiator', slots: [], sessionKey: Buffer.alloc(16) })).toThrow(/32 bytes/);
  });
});
