/**
 * The attacks of issue #18 as small programs against a server's port, each
 * from an attacker's address: another address of 127.0.0.0/8 (127.0.0.2 by
 * default), so a server's per-address budgets work as they do on a network
 * while honest clients connect from 127.0.0.1. Each returns what the server
 * did to it: the ERROR codes it sent, and the connections closed at once.
 * Used by test/reliability/attacks.test.ts and bench/attacks.ts.
 */
import { randomBytes } from 'node:crypto';
import { type Socket, connect as connectTcp } from 'node:net';
import { type TLSSocket, connect as connectTls } from 'node:tls';
import {
  FrameDecoder,
  FrameType,
  decodeMessage,
  HELLO_RECEIVES,
  HELLO_SENDS,
  MAX_FRAME,
  PROTOCOL_VERSION,
  encodeMessage,
} from '../../src/engine/protocol/frames.js';
import { clientTlsOptions } from '../../src/engine/security/tls.js';

export const ATTACKER = '127.0.0.2';

export interface AttackReport {
  /** Connections that completed their TLS handshake. */
  sessions: number;
  /** Connections closed before their TLS handshake ended. */
  closedBeforeTls: number;
  /** ERROR codes the server sent, with how often. */
  errors: Record<number, number>;
  /** The last ERROR message of each code, for reports. */
  messages: Record<number, string>;
}

const emptyReport = (): AttackReport => ({ sessions: 0, closedBeforeTls: 0, errors: {}, messages: {} });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TLS connection from `from`, anonymous; null when the server closed it before the handshake ended. */
function tlsFrom(port: number, from: string): Promise<TLSSocket | null> {
  return new Promise((resolve) => {
    const tcp = connectTcp({ host: '127.0.0.1', port, localAddress: from });
    tcp.on('error', () => undefined);
    const socket = connectTls({ socket: tcp, ...clientTlsOptions(null) });
    socket.on('error', () => undefined);
    socket.once('secureConnect', () => resolve(socket));
    socket.once('close', () => resolve(null));
  });
}

/** Watches what the server sends (ERROR frames only are kept); resolves when the connection closes. */
function watch(socket: TLSSocket, report: AttackReport): Promise<void> {
  const decoder = new FrameDecoder(MAX_FRAME);
  let broken = false;
  socket.on('data', (chunk: Buffer) => {
    if (broken) return;
    try {
      for (const body of decoder.push(chunk)) {
        if (body[0] !== FrameType.Error) continue; // the WANTs of a flood are not decoded
        const m = decodeMessage(body);
        if (m.type !== FrameType.Error) continue;
        report.errors[m.code] = (report.errors[m.code] ?? 0) + 1;
        report.messages[m.code] = m.message;
      }
    } catch {
      broken = true;
    }
  });
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

function write(socket: Socket, data: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  if (socket.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    // Whichever comes first takes the other listener away: a flood waits for many drains on one socket.
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

export function helloFrame(patterns: string[], slots: string[], flags = HELLO_SENDS | HELLO_RECEIVES): Buffer {
  return encodeMessage({
    type: FrameType.Hello,
    hello: {
      minVersion: PROTOCOL_VERSION,
      maxVersion: PROTOCOL_VERSION,
      flags,
      nonce: randomBytes(16),
      patterns,
      slots: slots.map((name) => ({ name, root: randomBytes(32), count: 1000 })),
    },
  });
}

/** The pattern of issue #18: 20 stars before a `b`, against a slot of 200 `a`s. */
export const BOMB_PATTERN = `${'*a'.repeat(20)}*b`;

/**
 * One anonymous HELLO with the backtracking bomb (and, with `worse`, 64
 * patterns of a 250-character `?` run, the costliest to match, against 800
 * slots of 250 characters):
 * resolves with the milliseconds until the server answered (WELCOME or
 * ERROR) and the ERROR codes.
 */
export async function patternBomb(port: number, worse = false, from = ATTACKER): Promise<{ answeredMs: number; report: AttackReport }> {
  const report = emptyReport();
  const socket = await tlsFrom(port, from);
  if (!socket) return { answeredMs: Number.NaN, report: { ...report, closedBeforeTls: 1 } };
  report.sessions++;
  const patterns = worse ? Array.from({ length: 64 }, (_, i) => `*${'?'.repeat(250)}b${i % 10}*`) : [BOMB_PATTERN];
  const slots = worse ? Array.from({ length: 800 }, (_, i) => `${'a'.repeat(245)}${String(i).padStart(5, '0')}`) : ['a'.repeat(200)];
  const started = Date.now();
  const answered = new Promise<number>((resolve) => socket.once('data', () => resolve(Date.now() - started)));
  const closed = watch(socket, report);
  await write(socket, helloFrame(patterns, slots));
  const answeredMs = await Promise.race([answered, closed.then(() => Date.now() - started)]);
  socket.destroy();
  await closed;
  return { answeredMs, report };
}

/** An OFFER frame of 65,536 random records in slot 0 (kind 1, size 100), written by hand: the encoder's way takes a second. */
function offerFrame(): Buffer {
  const records = 65_536;
  const shorts = randomBytes(records * 8);
  const head = Buffer.from([0, 0, 0, 0, FrameType.Offer, 0x80, 0x80, 0x04]); // varint 65,536
  const body = Buffer.allocUnsafe(records * 11);
  for (let i = 0; i < records; i++) {
    const at = i * 11;
    body[at] = 0; // slot
    shorts.copy(body, at + 1, i * 8, i * 8 + 8);
    body[at + 9] = 1; // kind
    body[at + 10] = 100; // size
  }
  head.writeUInt32BE(head.length - 4 + body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Offers random items as fast as the server reads them, in a branch the
 * anonymous attacker may write (`branch`), over `connections` connections
 * at once, reconnecting whenever the server ends one, for `durationMs`.
 */
export async function offerFlood(port: number, branch: string, connections: number, durationMs: number, from = ATTACKER): Promise<AttackReport> {
  const report = emptyReport();
  const until = Date.now() + durationMs;
  const one = async () => {
    while (Date.now() < until) {
      const socket = await tlsFrom(port, from);
      if (!socket) {
        report.closedBeforeTls++;
        await sleep(200);
        continue;
      }
      report.sessions++;
      const closed = watch(socket, report);
      await write(socket, helloFrame([branch], [branch]));
      while (!socket.destroyed && Date.now() < until) await write(socket, offerFrame()); // new ids each time: each is wanted
      socket.destroy();
      await closed;
    }
  };
  await Promise.all(Array.from({ length: connections }, one));
  return report;
}

/**
 * `connections` connections that each start an 8 MiB frame and send 7 MiB of
 * it, then hold, for `holdMs`: before any HELLO (`afterHello` false), or
 * after a valid one.
 */
export async function bigFrames(port: number, connections: number, afterHello: boolean, holdMs: number, from = ATTACKER): Promise<AttackReport> {
  const report = emptyReport();
  const body = randomBytes(7 << 20);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(MAX_FRAME - 16, 0);
  head[4] = FrameType.Item;
  const one = async () => {
    const socket = await tlsFrom(port, from);
    if (!socket) {
      report.closedBeforeTls++;
      return;
    }
    report.sessions++;
    const closed = watch(socket, report);
    if (afterHello) await write(socket, helloFrame(['org.attack.*'], ['org.attack.big'])); // a slot the server lacks: the session goes on
    await write(socket, head);
    for (let at = 0; at < body.length && !socket.destroyed; at += 1 << 20) await write(socket, body.subarray(at, at + (1 << 20)));
    await Promise.race([closed, sleep(holdMs)]);
    socket.destroy();
    await closed;
  };
  await Promise.all(Array.from({ length: connections }, one));
  return report;
}

/** An OFFER of no records: six bytes, a valid frame that asks nothing. */
const EMPTY_OFFER = Buffer.from('000000020400', 'hex');

/**
 * `connections` anonymous sessions that each send a valid HELLO, then six
 * bytes every `everyMs` (enough to never be idle), for `holdMs`.
 */
export async function slowSessions(port: number, connections: number, everyMs: number, holdMs: number, from = ATTACKER): Promise<AttackReport> {
  const report = emptyReport();
  const until = Date.now() + holdMs;
  const one = async () => {
    const socket = await tlsFrom(port, from);
    if (!socket) {
      report.closedBeforeTls++;
      return;
    }
    report.sessions++;
    const closed = watch(socket, report);
    let open = true;
    void closed.then(() => (open = false));
    await write(socket, helloFrame(['org.attack.*'], ['org.attack.slow'])); // a slot the server lacks: the session goes on
    while (open && Date.now() < until) {
      await Promise.race([closed, sleep(everyMs)]);
      if (open) await write(socket, EMPTY_OFFER);
    }
    socket.destroy();
    await closed;
  };
  // In waves, each once the one before is through its handshake: a burst would meet the
  // per-address budget of connections in their handshake first (bareTcp tests that one).
  const sessions: Promise<void>[] = [];
  for (let i = 0; i < connections; i += 16) {
    const wave = Array.from({ length: Math.min(16, connections - i) }, one);
    sessions.push(...wave);
    await Promise.race([Promise.all(wave), sleep(300)]);
  }
  await Promise.all(sessions);
  return report;
}

/**
 * `connections` bare TCP connections that never start TLS, held for
 * `holdMs` or until the server closes them: how many it closed at once
 * (within `atOnceMs`), and the slowest close.
 */
export async function bareTcp(
  port: number,
  connections: number,
  holdMs: number,
  atOnceMs = 500,
  from = ATTACKER,
): Promise<{ closedAtOnce: number; closedLater: number; held: number }> {
  const out = { closedAtOnce: 0, closedLater: 0, held: 0 };
  const one = () =>
    new Promise<void>((resolve) => {
      const started = Date.now();
      const socket = connectTcp({ host: '127.0.0.1', port, localAddress: from });
      socket.on('error', () => undefined);
      socket.resume();
      const timer = setTimeout(() => {
        out.held++;
        socket.destroy();
      }, holdMs);
      socket.once('close', () => {
        clearTimeout(timer);
        const ms = Date.now() - started;
        if (ms < holdMs) {
          if (ms <= atOnceMs) out.closedAtOnce++;
          else out.closedLater++;
        }
        resolve();
      });
    });
  await Promise.all(Array.from({ length: connections }, one));
  return out;
}
