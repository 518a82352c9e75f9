/**
 * Slow and silent peers (docs/RELIABILITY.md §Slow and silent peers), all at
 * once against one live server with short limits, while well-behaved
 * clients sync through it:
 *   - TCP connections that never start TLS, and TLS connections that never
 *     send a frame (the handshake timeouts);
 *   - clients that stop in the middle of a frame, and clients that send a
 *     frame a few bytes at a time (the slow-frame rule);
 *   - clients that ask for a big transfer and then never read the socket
 *     (the write-stall rule: the server must not buffer the transfer for them).
 * Each is shed within its limit; every good client reaches the union; no
 * session, socket or file descriptor is left behind.
 */
import { randomBytes } from 'node:crypto';
import { type Socket, connect as connectTcp } from 'node:net';
import { type TLSSocket, connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInlineFile } from '../../src/engine/items/format.js';
import type { RunningServer, ServerEvent } from '../../src/engine/protocol/api.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/engine/protocol/connection.js';
import { FrameType, HELLO_EMPTY, HELLO_RECEIVES, type Message, PROTOCOL_VERSION, encodeMessage } from '../../src/engine/protocol/frames.js';
import { clientTlsOptions } from '../../src/engine/security/tls.js';
import {
  aliceSigner,
  allIds,
  bobSigner,
  bruteCollection,
  checkClean,
  memberIds,
  newDbPath,
  sorted,
  testClient,
  testServer,
  union,
  waitUntil,
  withStore,
} from '../helpers/net.js';
import { putCert, putManifest } from '../helpers/store.js';
import { envNumber, mib, openFds, putRevisions, range } from './helpers.js';

const LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  handshakeMs: 800,
  idleMs: 4000,
  frameGraceMs: 500,
  minFrameRate: 4096,
  writeStallMs: 1000,
};
/** Slack on top of a limit: the timers tick every half a limit at most, and the machine is shared. */
const SLACK_MS = 1500;

const SILENT_TCP = envNumber('NETSYNC_SLOW_SILENT', 20, 100);
const SILENT_TLS = envNumber('NETSYNC_SLOW_SILENT', 20, 100);
const STALLED = envNumber('NETSYNC_SLOW_STALLED', 5, 25);
const TRICKLING = envNumber('NETSYNC_SLOW_STALLED', 5, 25);
const NON_READERS = envNumber('NETSYNC_SLOW_NONREADERS', 3, 10);
const GOOD = envNumber('NETSYNC_SLOW_GOOD', 6, 20);
const BIG_FILES = 48;
const BIG_FILE_BYTES = 512 << 10;

let serverDb: string;
let server: RunningServer;
let smallCollection: Set<string>;
let bigCollection: Set<string>;
let bigFiles: Buffer[];
const events: ServerEvent[] = [];

beforeAll(async () => {
  serverDb = newDbPath('netsync-slow-');
  withStore(serverDb, (s) => {
    putRevisions(s, aliceSigner(), 'org.slow.small', range(0, 5), 10, 64, 1);
    // Incompressible files, larger in total than what the loopback's socket buffers hold.
    bigFiles = s.batch(() => Array.from({ length: BIG_FILES }, () => s.put(encodeInlineFile(randomBytes(BIG_FILE_BYTES))).id));
    const files: Record<string, Buffer> = {};
    bigFiles.forEach((f, i) => (files[`big/${i}`] = f));
    putCert(s, aliceSigner(), putManifest(s, files), 'branch', 'org.slow.big');
    smallCollection = bruteCollection(s, 'org.slow.small');
    bigCollection = bruteCollection(s, 'org.slow.big');
  });
  // Offenders and good clients share 127.0.0.1 here: this suite tests the timeouts, so the per-address
  // budgets and penalties are lifted (test/reliability/attacks.test.ts tests those, from 127.0.0.2).
  const perAddress = { penaltyMs: 0, perSourceStartups: 10_000, perSourceAnonymousSessions: 10_000 };
  server = await testServer(serverDb, [], { limits: LIMITS, maxSessions: 256, budgets: perAddress }, { onEvent: (e) => events.push(e) });
}, 60_000);

afterAll(async () => {
  await server?.close(0);
});

function hello(flags: number, patterns: string[]): Buffer {
  const m: Message = {
    type: FrameType.Hello,
    hello: { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags, nonce: randomBytes(16), patterns, slots: [] },
  };
  return encodeMessage(m);
}

interface Shed {
  what: string;
  /** Milliseconds from connecting until the server closed it (Infinity: never, within the bound). */
  ms: number;
  bound: number;
}

/** Resolves when the socket closes, or with Infinity after `timeoutMs`. */
function closedWithin(socket: Socket, started: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Infinity), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

function tls(): { socket: TLSSocket; started: number; ready: Promise<void> } {
  const started = Date.now();
  const socket = connectTls({ host: '127.0.0.1', port: server.port, ...clientTlsOptions(null) });
  socket.on('error', () => undefined);
  const ready = new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
  return { socket, started, ready };
}

async function silentTcp(): Promise<Shed> {
  const started = Date.now();
  const socket = connectTcp({ host: '127.0.0.1', port: server.port });
  socket.resume();
  const bound = LIMITS.handshakeMs + SLACK_MS;
  return { what: 'TCP, never starts TLS', ms: await closedWithin(socket, started, bound + 5000), bound };
}

async function silentTls(): Promise<Shed> {
  const { socket, started } = tls();
  socket.resume();
  const bound = LIMITS.handshakeMs + SLACK_MS;
  return { what: 'TLS, never sends a frame', ms: await closedWithin(socket, started, bound + 5000), bound };
}

async function stalledMidFrame(): Promise<Shed> {
  const { socket, started, ready } = tls();
  socket.resume();
  await ready;
  socket.write(hello(3, ['org.slow.small']).subarray(0, 20)); // the length announces more; it never comes
  const bound = LIMITS.frameGraceMs + SLACK_MS;
  return { what: 'stops in the middle of a frame', ms: await closedWithin(socket, started, bound + 5000), bound };
}

async function trickling(): Promise<Shed> {
  const { socket, started, ready } = tls();
  socket.resume();
  await ready;
  const frame = Buffer.concat([
    hello(3, ['org.slow.small']),
    encodeMessage({ type: FrameType.Want, entries: Array.from({ length: 200 }, () => ({ slot: 0, short: randomBytes(8) })) }),
  ]);
  const closed = closedWithin(socket, started, LIMITS.frameGraceMs + SLACK_MS + 5000);
  let done = false;
  void closed.then(() => (done = true));
  // 16 bytes every 100 ms: 160 bytes/s, far below the 4 KiB/s the slow-frame rule asks for.
  for (let at = 0; at < frame.length && !done && !socket.destroyed; at += 16) {
    socket.write(frame.subarray(at, at + 16));
    await new Promise((r) => setTimeout(r, 100));
  }
  return { what: 'sends a frame 160 bytes/s', ms: await closed, bound: LIMITS.frameGraceMs + SLACK_MS };
}

/**
 * Asks for every big file (24 MiB), then never reads: the server must give up on it, not buffer it all.
 * The first says its database is empty (HELLO EMPTY: the whole branch comes without offers), the others WANT.
 */
async function nonReader(_: unknown, n: number): Promise<{ shed: Shed; remote: string }> {
  const { socket, started, ready } = tls();
  await ready; // no 'data' listener, no resume(): nothing is ever read
  const remote = `${socket.localAddress}:${socket.localPort}`;
  const empty = n === 0;
  socket.write(hello(empty ? HELLO_RECEIVES | HELLO_EMPTY : HELLO_RECEIVES, ['org.slow.big'])); // org.slow.big becomes the server's extra slot 0
  if (!empty) socket.write(encodeMessage({ type: FrameType.Want, entries: bigFiles.map((id) => ({ slot: 0, short: id.subarray(0, 8) })) }));
  const bound = LIMITS.writeStallMs + SLACK_MS + 1000; // the stall starts once the socket buffers are full
  const ended = await waitUntil(() => events.some((e) => e.type === 'session-end' && e.remote === remote), bound + 5000, 20);
  const ms = ended ? Date.now() - started : Infinity;
  socket.destroy();
  return { shed: { what: `asks for 24 MiB${empty ? ' (EMPTY)' : ''}, never reads`, ms, bound }, remote };
}

async function goodClient(n: number): Promise<number> {
  const started = Date.now();
  const db = newDbPath('netsync-slow-good-');
  const own = `org.slow.good${n}`;
  const pullBig = n === 0; // one good client moves the 24 MiB too, while the non-readers hold theirs
  const mine = withStore(db, (s) => {
    putRevisions(s, bobSigner(), own, range(0, 2), 5, 64, 50 + n);
    return { all: allIds(s), collection: bruteCollection(s, own) };
  });
  const patterns = ['org.slow.small', own, ...(pullBig ? ['org.slow.big'] : [])];
  const summary = await testClient({ db, port: server.port, patterns }, LIMITS);
  const expected = union(mine.all, smallCollection, pullBig ? bigCollection : []);
  expect(sorted(withStore(db, (s) => allIds(s))), `good client ${n}`).toEqual(sorted(expected));
  expect(summary.itemsReceived).toBe(expected.size - mine.all.size);
  expect(sorted(withStore(serverDb, (s) => memberIds(s, own)))).toEqual(sorted(mine.collection));
  expect(checkClean(db)).toEqual([]);
  return Date.now() - started;
}

describe('slow and silent peers are shed by their limits while good clients finish', () => {
  it(`${SILENT_TCP} + ${SILENT_TLS} silent, ${STALLED} stalled, ${TRICKLING} trickling, ${NON_READERS} non-reading peers and ${GOOD} good clients at once`, async () => {
    const fdsBefore = openFds(process.pid)!;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const started = Date.now();
    try {
      const offenders: Promise<Shed>[] = [
        ...Array.from({ length: SILENT_TCP }, silentTcp),
        ...Array.from({ length: SILENT_TLS }, silentTls),
        ...Array.from({ length: STALLED }, stalledMidFrame),
        ...Array.from({ length: TRICKLING }, trickling),
      ];
      const readers = Array.from({ length: NON_READERS }, nonReader);
      // The good clients start once the offenders hold their connections.
      await new Promise((r) => setTimeout(r, 200));
      const goodMs = await Promise.all(Array.from({ length: GOOD }, (_, n) => goodClient(n)));
      const shed = await Promise.all(offenders);
      const nonReaders = await Promise.all(readers);
      for (const s of [...shed, ...nonReaders.map((r) => r.shed)]) expect(s.ms, `${s.what}: closed after ${s.ms} ms`).toBeLessThan(s.bound);
      for (const r of nonReaders) {
        const end = events.find((e) => e.type === 'session-end' && e.remote === r.remote) as Extract<ServerEvent, { type: 'session-end' }>;
        expect(end.error, 'the write-stall rule shed it').toMatch(/has not read/);
        expect(end.itemsSent, 'it was not sent the whole transfer').toBeLessThan(BIG_FILES);
      }
      expect(await waitUntil(() => server.stats().connected === 0, 5000), 'no session left open').toBe(true);
      // Sockets are released (a second to let the destroy timers of failed sessions run).
      expect(await waitUntil(() => openFds(process.pid)! <= fdsBefore + 4, 5000, 100), `fds ${fdsBefore} -> ${openFds(process.pid)}`).toBe(true);
      expect(checkClean(serverDb)).toEqual([]);
      console.log(
        `[reliability] slow peers: ${shed.length + nonReaders.length} offenders shed ` +
          `(slowest ${Math.max(...shed.map((s) => s.ms), ...nonReaders.map((r) => r.shed.ms))} ms), ` +
          `${GOOD} good clients finished (max ${Math.max(...goodMs)} ms), total ${Date.now() - started} ms; ` +
          `process RSS ${mib(rssBefore)} -> peak ${mib(rssPeak)}; fds ${fdsBefore} -> ${openFds(process.pid)}`,
      );
    } finally {
      clearInterval(sampler);
    }
  }, 60_000);
});
