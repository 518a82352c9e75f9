/**
 * The framed connection (src/engine/protocol/connection.ts) over an in-memory
 * stream, where the test decides exactly how the bytes are cut into chunks:
 * the timing rules of docs/PROTOCOL.md §6 (slow frame, handshake, write
 * stall) and the frame limit.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BURST_BYTES, Connection, DEFAULT_LIMITS, type Limits } from '../../src/engine/protocol/connection.js';
import { FrameType, type Message, encodeMessage } from '../../src/engine/protocol/frames.js';
import { sleep } from '../helpers/net.js';

interface Harness {
  stream: Duplex;
  conn: Connection;
  messages: Message[];
  /** Resolves with the close reason (null: a clean close). */
  closed: Promise<{ code: string | null; message: string | null; ms: number }>;
  written: Buffer[];
}

function harness(limits: Partial<Limits>, opts: { reads?: boolean } = {}): Harness {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    // A peer that does not read never calls back: the write buffer fills and stays full.
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      if (opts.reads !== false) cb();
    },
    writableHighWaterMark: 64,
  });
  const messages: Message[] = [];
  const started = Date.now();
  let resolveClosed!: (v: { code: string | null; message: string | null; ms: number }) => void;
  const closed = new Promise<{ code: string | null; message: string | null; ms: number }>((r) => (resolveClosed = r));
  const conn = new Connection(
    stream,
    { ...DEFAULT_LIMITS, ...limits },
    {
      onMessage: (m) => messages.push(m),
      onClose: (e) => resolveClosed({ code: e?.code ?? null, message: e?.message ?? null, ms: Date.now() - started }),
    },
  );
  return { stream, conn, messages, closed, written };
}

const recon = (n: number): Buffer => encodeMessage({ type: FrameType.Recon, payload: Buffer.alloc(n - 5, 7) });

describe('Connection: the slow-frame rule', () => {
  it('does not kill a fast stream whose chunks never end on a frame boundary (the clock restarts at each completed frame)', async () => {
    const h = harness({ frameGraceMs: 300, minFrameRate: 4096, handshakeMs: 5000, idleMs: 5000 });
    // 100-byte frames cut into 101-byte chunks every 10 ms: ~10 KB/s, a frame completes every ~10 ms,
    // and a chunk ends on a frame boundary only once per 100 chunks (1 s, far beyond the grace period).
    const bytes = Buffer.concat(Array.from({ length: 120 }, () => recon(100)));
    for (let off = 0; off < bytes.length; off += 101) {
      h.stream.push(bytes.subarray(off, off + 101));
      await sleep(10);
    }
    expect(h.conn.closed).toBe(false);
    expect(h.messages).toHaveLength(120);
    h.conn.destroy();
    expect((await h.closed).code).toBeNull();
  });

  it('still closes a frame that trickles in (1 byte every 10 ms) once the grace period is over', async () => {
    const h = harness({ frameGraceMs: 300, minFrameRate: 4096, handshakeMs: 5000, idleMs: 5000 });
    h.stream.push(recon(20)); // a first complete frame: the handshake rule is satisfied
    const slow = recon(1000);
    for (let i = 0; i < slow.length && !h.conn.closed; i++) {
      h.stream.push(slow.subarray(i, i + 1));
      await sleep(10);
    }
    const c = await h.closed;
    expect(c.code).toBe('timeout');
    expect(c.message).toMatch(/slowly/);
    expect(c.ms).toBeGreaterThanOrEqual(300);
    expect(c.ms).toBeLessThan(2000);
    // The ERROR frame went out before the close: type 9, code 6.
    const out = Buffer.concat(h.written);
    expect(out[4]).toBe(FrameType.Error);
    expect(out[5]).toBe(6);
  });
});

describe('Connection: other limits', () => {
  it('closes a peer that never sends its first frame (handshake timeout)', async () => {
    const h = harness({ handshakeMs: 300, idleMs: 5000 });
    const c = await h.closed;
    expect(c.code).toBe('timeout');
    expect(c.message).toMatch(/handshake/);
    expect(c.ms).toBeGreaterThanOrEqual(300);
  });

  it('refuses a frame length over the limit at once, without buffering it', async () => {
    const h = harness({ handshakeMs: 5000, idleMs: 5000 });
    const head = Buffer.alloc(4);
    head.writeUInt32BE(DEFAULT_LIMITS.maxFrame + 1);
    h.stream.push(head);
    const c = await h.closed;
    expect(c.code).toBe('too-large');
    expect(c.ms).toBeLessThan(200);
  });

  it('closes a peer that does not read (a write that cannot drain)', async () => {
    const h = harness({ handshakeMs: 400, idleMs: 5000, writeStallMs: 300 }, { reads: false });
    h.stream.push(recon(20)); // keeps the handshake rule quiet
    h.conn.send({ type: FrameType.Recon, payload: Buffer.alloc(200) });
    h.conn.send({ type: FrameType.Recon, payload: Buffer.alloc(200) });
    expect(h.conn.congested).toBe(true);
    const keepAlive = setInterval(() => h.stream.push(recon(20)), 100); // the peer talks, it just never reads
    const c = await h.closed;
    clearInterval(keepAlive);
    expect(c.code).toBe('timeout');
    expect(c.message).toMatch(/not read/);
  });
});

describe('Connection: corked writes', () => {
  const item = (n: number): Message => ({ type: FrameType.Item, id: Buffer.alloc(32, n), encoding: 0, data: Buffer.alloc(1026, n) });

  it('writes what is sent while corked in whole BURST_BYTES buffers (full TLS records), the rest at uncork, in order', () => {
    const h = harness({ handshakeMs: 5000, idleMs: 5000 });
    const sent = Array.from({ length: 150 }, (_, i) => item(i)); // 150 x 1,064 bytes: two full buffers and a part
    h.conn.cork();
    for (const m of sent) h.conn.send(m);
    expect(h.written.map((w) => w.length)).toEqual([BURST_BYTES, BURST_BYTES]);
    h.conn.uncork();
    expect(h.written.map((w) => w.length)).toEqual([BURST_BYTES, BURST_BYTES, 150 * 1064 - 2 * BURST_BYTES]);
    expect(Buffer.concat(h.written).equals(Buffer.concat(sent.map(encodeMessage)))).toBe(true);
    // Uncorked, each frame is written as it is sent.
    h.conn.send(item(7));
    expect(h.written).toHaveLength(4);
    h.conn.destroy();
  });

  it('writes what was staged before an ERROR frame when the session fails while corked', () => {
    const h = harness({ handshakeMs: 5000, idleMs: 5000 });
    h.conn.cork();
    h.conn.send(item(1));
    expect(h.written).toHaveLength(0);
    h.conn.fail('internal', 'our database failed');
    expect(h.written[0]!.equals(encodeMessage(item(1)))).toBe(true);
    expect(h.written[1]![4]).toBe(FrameType.Error);
  });
});
