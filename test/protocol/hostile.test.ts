/**
 * Hostile input against a live server (short limits, passed through
 * startServer's second argument) while a well-behaved client syncs at the
 * same time and must finish correctly. Each offender must get an ERROR frame
 * (parsed from what the server sent back) and a closed connection; bad items
 * must be refused without storing anything bad; the server keeps serving.
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kind, decodeItem, encodeCert, encodeKey, itemId } from '../../src/engine/items/format.js';
import type { RunningServer } from '../../src/engine/protocol/api.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/engine/protocol/connection.js';
import { FrameType, type Message, PROTOCOL_VERSION, Stage, encodeMessage } from '../../src/engine/protocol/frames.js';
import { ReadStore, type WriteStore } from '../../src/engine/store/store.js';
import {
  RawPeer,
  type RawResult,
  aliceSigner,
  allIds,
  bobSigner,
  bruteCollection,
  buildHistory,
  checkClean,
  memberIds,
  newDbPath,
  sleep,
  sorted,
  startFakeServer,
  testClient,
  testServer,
  union,
  waitUntil,
  withStore,
} from '../helpers/net.js';
import { SeededRandom } from '../helpers/random.js';

const LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  handshakeMs: 500,
  idleMs: 1500,
  frameGraceMs: 500,
  minFrameRate: 4096,
  writeStallMs: 3000,
};

let serverDb: string;
let server: RunningServer;
let goodCollection: Set<string>;
let goodRuns = 0;
let hiddenFile: Buffer;
let goodFile: Buffer;

beforeAll(async () => {
  serverDb = newDbPath('netsync-hostile-');
  withStore(serverDb, (s) => {
    buildHistory(s, aliceSigner(), 'org.good.main', { commits: 30, seed: 1 });
    goodCollection = bruteCollection(s, 'org.good.main');
    const hidden = buildHistory(s, aliceSigner(), 'org.hidden', { commits: 1, seed: 2 });
    hiddenFile = hidden.ids.find((id) => s.meta(id)!.kind === Kind.File)!;
    goodFile = [...goodCollection].map((h) => Buffer.from(h, 'hex')).find((id) => s.meta(id)!.kind === Kind.File)!;
  });
  server = await testServer(serverDb, [], { limits: LIMITS, maxSessions: 64 });
});

afterAll(async () => {
  await server?.close(0);
});

/**
 * A well-behaved client: a fresh database with a branch of its own, synced
 * with the server's org.good.main. Both sides must end with the union.
 */
async function goodSync(): Promise<void> {
  const n = ++goodRuns;
  const db = newDbPath('netsync-good-');
  const own = `org.good.c${n}`;
  const mine = withStore(db, (s) => {
    buildHistory(s, bobSigner(), own, { commits: 3, seed: 1000 + n });
    return { all: allIds(s), collection: bruteCollection(s, own) };
  });
  const summary = await testClient({ db, port: server.port, patterns: ['org.good.main', own] });
  expect(summary.itemsReceived).toBe(goodCollection.size);
  const after = withStore(db, (s) => allIds(s));
  expect(sorted(after)).toEqual(sorted(union(mine.all, goodCollection)));
  expect(checkClean(db)).toEqual([]);
  const rs = ReadStore.open(serverDb);
  try {
    expect(sorted(memberIds(rs, own))).toEqual(sorted(mine.collection));
  } finally {
    rs.close();
  }
}

function hello(overrides: Partial<Extract<Message, { type: FrameType.Hello }>['hello']> = {}): Message {
  return {
    type: FrameType.Hello,
    hello: {
      minVersion: PROTOCOL_VERSION,
      maxVersion: PROTOCOL_VERSION,
      flags: 3,
      nonce: randomBytes(16),
      patterns: ['org.good.main'],
      slots: [],
      ...overrides,
    },
  };
}

function errorOf(r: RawResult): { code: number; message: string } {
  const last = r.frames[r.frames.length - 1];
  expect(last, `frames received: ${r.frames.map((f) => f.type).join(',')}`).toBeDefined();
  expect(last!.type).toBe(FrameType.Error);
  const e = last as Extract<Message, { type: FrameType.Error }>;
  return { code: e.code, message: e.message };
}

/** Runs a hostile connection and a good sync together; returns what the hostile peer saw. */
async function alongsideGoodSync(hostile: () => Promise<RawResult>): Promise<RawResult> {
  const [r] = await Promise.all([hostile(), goodSync()]);
  return r;
}

describe('hostile peers against a live server', () => {
  it('random bytes inside the channel: ERROR and close (three seeds, raw and framed)', async () => {
    const rnd = new SeededRandom(4242);
    for (let i = 0; i < 3; i++) {
      const junk = rnd.bytes(64);
      const raw = await alongsideGoodSync(async () => {
        const p = new RawPeer(server.port);
        await p.send(junk);
        return p.closed;
      });
      expect([1, 3, 5]).toContain(errorOf(raw).code);
      expect(raw.closedAfterMs).toBeLessThan(1000); // refused on the bytes, not by a timer

      // A well-framed first frame of random content that is not a HELLO.
      const body = Buffer.concat([Buffer.of(rnd.between(2, 9)), rnd.bytes(40)]);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      const framed = await alongsideGoodSync(async () => {
        const p = new RawPeer(server.port);
        await p.send(Buffer.concat([head, body]));
        return p.closed;
      });
      expect([1, 5]).toContain(errorOf(framed).code);
      expect(framed.closedAfterMs).toBeLessThan(1000);
    }
  });

  it('random bytes and silence below the secure channel: the TLS listener drops them, no session starts', async () => {
    const rnd = new SeededRandom(99);
    const before = server.stats().sessions;
    const junk = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port, { tcp: true });
      await p.send(rnd.bytes(300));
      return p.closed;
    });
    expect(junk.frames).toHaveLength(0);
    expect(junk.closedAfterMs).toBeLessThan(1000);
    const silent = await alongsideGoodSync(async () => new RawPeer(server.port, { tcp: true }).closed);
    expect(silent.frames).toHaveLength(0);
    expect(silent.closedAfterMs).toBeGreaterThanOrEqual(LIMITS.handshakeMs - 50); // TLS handshake timeout
    expect(silent.closedAfterMs).toBeLessThan(LIMITS.handshakeMs + 1500);
    expect(server.stats().sessions - before).toBe(2); // only the two good clients became sessions
  });

  it('a HELLO with a version the server does not speak: ERROR version (2), close', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello({ minVersion: PROTOCOL_VERSION + 1, maxVersion: PROTOCOL_VERSION + 2 }));
      return p.closed;
    });
    expect(errorOf(r)).toMatchObject({ code: 2 });
    expect(r.frames).toHaveLength(1); // no WELCOME
    expect(r.closedAfterMs).toBeLessThan(1000);
  });

  it('a version-3 client (before format v4) is refused at HELLO in one line saying to upgrade', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello({ minVersion: 3, maxVersion: 3 }));
      return p.closed;
    });
    expect(r.frames).toHaveLength(1); // no WELCOME
    expect(errorOf(r).code).toBe(2);
    expect(errorOf(r).message).toMatch(/^the client speaks protocol version 3, this server 4 .*; upgrade Netsync on the client$/);
  });

  it('frame types 64-127 are extensions a version-4 peer skips; an unknown type below 64 is malformed', async () => {
    const frame = (type: number, payload: Buffer) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(1 + payload.length);
      head[4] = type;
      return Buffer.concat([head, payload]);
    };
    const skipped = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(frame(64, Buffer.from('a later addition')));
      await p.send(frame(127, Buffer.alloc(0)));
      await p.send(hello());
      await p.waitFor((m) => m.type === FrameType.Welcome);
      p.destroy();
      return p.closed;
    });
    expect(skipped.frames[0]!.type).toBe(FrameType.Welcome);
    const refused = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(frame(63, Buffer.from('not an extension')));
      return p.closed;
    });
    expect(refused.frames).toHaveLength(1);
    expect(errorOf(refused)).toMatchObject({ code: 1, message: expect.stringMatching(/unknown frame type 63/) });
  });

  it('a 4 GB length field: ERROR too-large (3) at once, close', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(Buffer.from('ffffffff', 'hex'));
      return p.closed;
    });
    expect(errorOf(r).code).toBe(3);
    expect(r.closedAfterMs).toBeLessThan(400);
  });

  it('a truncated frame, then silence: closed by a timeout (6)', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      const full = encodeMessage(hello());
      await p.send(full.subarray(0, 20)); // the length says more is coming; it never does
      return p.closed;
    });
    expect(errorOf(r).code).toBe(6);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(LIMITS.frameGraceMs - 50);
    expect(r.closedAfterMs).toBeLessThan(LIMITS.idleMs + 1500);
  });

  it('a valid HELLO, then an ITEM never wanted: ERROR unexpected (5)', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello());
      await p.waitFor((m) => m.type === FrameType.Welcome);
      const data = Buffer.from('01006576696c', 'hex'); // an inline file "evil"
      await p.send({ type: FrameType.Item, id: itemId(data), encoding: 0, data });
      return p.closed;
    });
    expect(r.frames[0]!.type).toBe(FrameType.Welcome);
    expect(errorOf(r)).toMatchObject({ code: 5 });
    expect(withStore(serverDb, (s) => s.has(itemId(Buffer.from('01006576696c', 'hex'))))).toBe(false);
  });

  it("frames not allowed in the state: a first frame that is not HELLO, WANTS_DONE before RECON_DONE, ITEMS_DONE before the server's WANTS_DONE, a second HELLO", async () => {
    const first = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send({ type: FrameType.Stage, stage: Stage.ItemsDone });
      return p.closed;
    });
    expect(errorOf(first).code).toBe(5);
    const early = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello());
      await p.waitFor((m) => m.type === FrameType.Welcome);
      await p.send({ type: FrameType.Stage, stage: Stage.WantsDone });
      return p.closed;
    });
    expect(errorOf(early).code).toBe(5);
    const itemsDone = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello());
      await p.waitFor((m) => m.type === FrameType.Welcome);
      await p.send({ type: FrameType.Stage, stage: Stage.ItemsDone });
      return p.closed;
    });
    expect(errorOf(itemsDone)).toMatchObject({ code: 5, message: expect.stringMatching(/ITEMS_DONE before our WANTS_DONE/) });
    const twice = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello());
      await p.waitFor((m) => m.type === FrameType.Welcome);
      await p.send(hello());
      return p.closed;
    });
    expect(errorOf(twice).code).toBe(5);
  });

  it('a RECON_PLAN before any reconciliation, or one that is not a plan: ERROR malformed (1)', async () => {
    // A well-formed plan (docs/PROTOCOL.md §3 RECON_PLAN), sent before the client's first RECON.
    const plan = Buffer.from('0101060003000305' + '01f71fd201', 'hex');
    for (const payload of [plan, Buffer.from('deadbeef', 'hex')]) {
      const r = await alongsideGoodSync(async () => {
        const p = new RawPeer(server.port);
        await p.send(hello());
        await p.waitFor((m) => m.type === FrameType.Welcome);
        await p.send({ type: FrameType.ReconPlan, payload });
        return p.closed;
      });
      expect(errorOf(r)).toMatchObject({ code: 1 });
    }
  });

  it("a WANT for an item outside the session's collections is ignored: nothing of it leaks", async () => {
    const hiddenShort = hiddenFile.subarray(0, 8);
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello({ flags: 2 })); // RECEIVES; org.good.main is an extra slot (slot 0)
      await p.waitFor((m) => m.type === FrameType.Welcome);
      await p.send({
        type: FrameType.Want,
        entries: [
          { slot: 0, short: goodFile.subarray(0, 8) },
          { slot: 0, short: hiddenShort },
        ],
      });
      // Not allowed yet: ends the session, after the WANT before it was handled (the stream is ordered).
      await p.send({ type: FrameType.Stage, stage: Stage.WantsDone });
      return p.closed;
    });
    expect(errorOf(r).code).toBe(5);
    // The control: the wanted item of the collection was sent at once.
    expect(r.frames.some((m) => m.type === FrameType.Item && m.id.equals(goodFile))).toBe(true);
    for (const m of r.frames) {
      if (m.type === FrameType.Offer) for (const e of m.entries) expect(e.short.equals(hiddenShort)).toBe(false);
      if (m.type === FrameType.Item) expect(m.id.equals(hiddenFile)).toBe(false);
    }
    expect(r.bytes.includes(hiddenShort)).toBe(false);
  });

  it('a HELLO with a pattern that is not a branch glob: ERROR, close', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello({ patterns: ['org/../etc'] }));
      return p.closed;
    });
    expect(errorOf(r).code).toBe(1);
  });

  it('a frame sent one byte per second: closed by the slow-frame rule (6)', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello());
      await p.waitFor((m) => m.type === FrameType.Welcome);
      const slow = encodeMessage({ type: FrameType.Want, entries: [{ slot: 0, short: Buffer.alloc(8, 1) }] });
      const started = Date.now();
      for (const byte of slow) {
        if (p.socket.destroyed || p.socket.readableEnded) break;
        await p.send(Buffer.of(byte));
        await Promise.race([sleep(1000), p.closed]);
      }
      const res = await p.closed;
      return { ...res, closedAfterMs: Date.now() - started };
    });
    const e = errorOf(r);
    expect(e.code).toBe(6);
    expect(e.message).toMatch(/slow/);
    expect(r.closedAfterMs).toBeLessThan(LIMITS.frameGraceMs + 1500);
  });

  it('a connection that never speaks: handshake timeout (6)', async () => {
    const r = await alongsideGoodSync(async () => new RawPeer(server.port).closed);
    const e = errorOf(r);
    expect(e.code).toBe(6);
    expect(e.message).toMatch(/handshake/);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(LIMITS.handshakeMs - 50);
    expect(r.closedAfterMs).toBeLessThan(LIMITS.handshakeMs + 1500);
  });

  it('silent after a valid HELLO: idle timeout (6)', async () => {
    const r = await alongsideGoodSync(async () => {
      const p = new RawPeer(server.port);
      await p.send(hello());
      return p.closed;
    });
    const e = errorOf(r);
    expect(e.code).toBe(6);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(LIMITS.idleMs - 50);
    expect(r.closedAfterMs).toBeLessThan(LIMITS.idleMs + 1500);
  });

  it('everything at once: eight offenders and three good clients concurrently', async () => {
    const offenders: Promise<RawResult>[] = [];
    for (let i = 0; i < 8; i++) {
      const p = new RawPeer(server.port);
      offenders.push(
        (async () => {
          if (i % 4 === 0) await p.send(Buffer.from('ffffffff', 'hex'));
          else if (i % 4 === 1) await p.send(hello({ maxVersion: 0, minVersion: 0 }));
          else if (i % 4 === 2) await p.send(encodeMessage(hello()).subarray(0, 9));
          // i % 4 === 3: never speaks
          return p.closed;
        })(),
      );
    }
    const [results] = await Promise.all([Promise.all(offenders), goodSync(), goodSync(), goodSync()]);
    for (const r of results) {
      expect([2, 3, 6]).toContain(errorOf(r).code);
      expect(r.closedAfterMs).toBeLessThan(5000);
    }
  });
});

/** Writes an item straight into the table and the index, skipping verification: a hostile peer's database. */
function injectUnverified(store: WriteStore, bytes: Buffer): Buffer {
  const id = itemId(bytes);
  const item = decodeItem(bytes);
  store.db.transaction(() => {
    store.db.prepare('INSERT INTO items (id, kind, size, data) VALUES (?, ?, ?, ?)').run(id, item.kind, bytes.length, bytes);
    store.indexer.indexItem(id, item);
    store.indexer.flush();
  })();
  return id;
}

/** A database whose branch holds a file whose stored bytes no longer hash to its id. */
function tamperedFileDb(branch: string): { db: string; bad: Buffer } {
  const db = newDbPath('netsync-evil-');
  const bad = withStore(db, (s) => {
    const h = buildHistory(s, bobSigner(), branch, { commits: 2, seed: 77 });
    const manifest = decodeItem(s.get(h.manifests[1]!)!.data);
    if (manifest.kind !== Kind.Manifest) throw new Error('not a manifest');
    const file = manifest.entries.find((e) => e.file)!.file!;
    const data = Buffer.from(s.get(file)!.data);
    data[data.length - 1]! ^= 0xff;
    s.db.prepare('UPDATE items SET data = ? WHERE id = ?').run(data, file);
    return file;
  });
  return { db, bad };
}

/** A database whose branch holds a cert with a signature that does not verify. */
function forgedCertDb(branch: string): { db: string; bad: Buffer } {
  const db = newDbPath('netsync-forged-');
  const bad = withStore(db, (s) => {
    const bob = bobSigner();
    const h = buildHistory(s, bob, branch, { commits: 2, seed: 78 });
    const keyId = itemId(encodeKey(bob.name, bob.pair.publicKey));
    const signature = Buffer.alloc(64, 0x5a);
    return injectUnverified(s, encodeCert(h.manifests[0]!, keyId, 'changelog', Buffer.from('forged'), signature));
  });
  expect(checkClean(db).join('\n')).toMatch(/signature/);
  return { db, bad };
}

describe('bad items are refused, nothing bad is stored, the server keeps serving', () => {
  for (const [what, make] of [
    ['bytes that do not hash to the id', tamperedFileDb],
    ['a cert whose signature does not verify', forgedCertDb],
  ] as const) {
    it(`a client pushes ${what}`, async () => {
      const branch = `org.evil.${what.length}`;
      const { db, bad } = make(branch);
      const push = testClient({ db, port: server.port, patterns: [branch], direction: 'push' });
      const [outcome] = await Promise.all([
        push.then(
          () => 'resolved',
          (e: Error) => e.message,
        ),
        goodSync(),
      ]);
      expect(outcome).toMatch(/bad item|does not verify|hash/);
      const rs = ReadStore.open(serverDb);
      try {
        expect(rs.has(bad)).toBe(false);
      } finally {
        rs.close();
      }
      expect(checkClean(serverDb)).toEqual([]);
      await goodSync(); // still serving
    });

    it(`a server offers ${what} to a pulling client: the client refuses and stays clean`, async () => {
      const branch = `org.evil.pull${what.length}`;
      const { db: evilDb, bad } = make(branch);
      const evil = await testServer(evilDb, [], { limits: LIMITS });
      try {
        const victim = newDbPath('netsync-victim-');
        const outcome = await testClient({ db: victim, port: evil.port, patterns: [branch], direction: 'pull' }).then(
          () => 'resolved',
          (e: Error) => e.message,
        );
        expect(outcome).toMatch(/bad item|does not verify|hash/);
        expect(withStore(victim, (s) => s.has(bad))).toBe(false);
        expect(checkClean(victim)).toEqual([]);
      } finally {
        await evil.close(0);
      }
    });
  }
});

describe('hostile servers against a client', () => {
  const welcomeWith = (extra: string[]): Message => ({ type: FrameType.Welcome, welcome: { version: PROTOCOL_VERSION, flags: 0, refused: [], extra } });

  /** Runs a pull from an empty database against a scripted server; returns the client's error and what it sent. */
  async function pullFrom(script: (peer: RawPeer) => Promise<void>): Promise<{ error: Error | null; ms: number; sent: Message[]; db: string }> {
    const fake = await startFakeServer(script);
    const db = newDbPath('netsync-victim2-');
    const started = Date.now();
    try {
      const error = await testClient({ db, port: fake.port, patterns: ['org.*'], direction: 'pull' }, LIMITS).then(
        () => null,
        (e: Error) => e,
      );
      const ms = Date.now() - started;
      await fake.peers[0]?.closed;
      expect(checkClean(db)).toEqual([]);
      expect(withStore(db, (s) => s.itemCount())).toBe(0);
      return { error, ms, sent: fake.peers[0]?.frames ?? [], db };
    } finally {
      await fake.close();
    }
  }

  const lastSent = (sent: Message[]) => sent[sent.length - 1] as Extract<Message, { type: FrameType.Error }>;

  it('a deflate bomb (an ITEM inflating past 8 MiB): refused as malformed, nothing stored', async () => {
    const short = Buffer.alloc(8, 0x42);
    const r = await pullFrom(async (peer) => {
      await peer.waitFor((m) => m.type === FrameType.Hello);
      await peer.send(welcomeWith(['org.fake']));
      await peer.send({ type: FrameType.Offer, entries: [{ slot: 0, short, kind: 1, size: 9 << 20 }] });
      await peer.waitFor((m) => m.type === FrameType.Want);
      const bomb = deflateRawSync(Buffer.alloc(9 << 20));
      expect(bomb.length).toBeLessThan(64 * 1024);
      await peer.send({ type: FrameType.Item, id: Buffer.concat([short, Buffer.alloc(24)]), encoding: 1, data: bomb });
    });
    expect(r.error?.message).toMatch(/decompress/);
    expect(lastSent(r.sent)).toMatchObject({ type: FrameType.Error, code: 1 });
  });

  it('an ITEM the client never wanted: unexpected (5)', async () => {
    const r = await pullFrom(async (peer) => {
      await peer.waitFor((m) => m.type === FrameType.Hello);
      await peer.send(welcomeWith(['org.fake']));
      const data = Buffer.from('01006576696c', 'hex');
      await peer.send({ type: FrameType.Item, id: itemId(data), encoding: 0, data });
    });
    expect(r.error?.message).toMatch(/not asked for/);
    expect(lastSent(r.sent)).toMatchObject({ type: FrameType.Error, code: 5 });
  });

  it('a WELCOME adding a branch the client did not ask for: malformed (1)', async () => {
    const r = await pullFrom(async (peer) => {
      await peer.waitFor((m) => m.type === FrameType.Hello);
      await peer.send(welcomeWith(['com.unasked']));
    });
    expect(r.error?.message).toMatch(/did not ask for/);
    expect(lastSent(r.sent)).toMatchObject({ type: FrameType.Error, code: 1 });
  });

  it('a 4 GB length from the server: too-large (3) at once', async () => {
    const r = await pullFrom(async (peer) => {
      await peer.waitFor((m) => m.type === FrameType.Hello);
      await peer.send(Buffer.from('ffffffff', 'hex'));
    });
    expect(r.error?.message).toMatch(/exceeds/);
    expect(lastSent(r.sent)).toMatchObject({ type: FrameType.Error, code: 3 });
    expect(r.ms).toBeLessThan(2000);
  });

  it('a server that never answers the HELLO: the client gives up at its handshake timeout', async () => {
    const r = await pullFrom(async (peer) => {
      await peer.waitFor((m) => m.type === FrameType.Hello);
    });
    expect(r.error?.message).toMatch(/handshake/);
    expect(r.ms).toBeGreaterThanOrEqual(LIMITS.handshakeMs - 50);
    expect(r.ms).toBeLessThan(LIMITS.handshakeMs + 2000);
  });

  it('a server that goes silent mid-session: the client gives up at its idle timeout', async () => {
    const r = await pullFrom(async (peer) => {
      await peer.waitFor((m) => m.type === FrameType.Hello);
      await peer.send(welcomeWith(['org.fake']));
      await peer.send({ type: FrameType.Offer, entries: [{ slot: 0, short: Buffer.alloc(8, 7), kind: 1, size: 10 }] });
    });
    expect(r.error?.message).toMatch(/silent/);
    expect(lastSent(r.sent)).toMatchObject({ type: FrameType.Error, code: 6 });
    expect(r.ms).toBeLessThan(LIMITS.idleMs + 2000);
  });
});

describe('session limit', () => {
  it('connections beyond maxSessions get ERROR over-budget at once; the others are unaffected', async () => {
    const small = await testServer(serverDb, [], { limits: LIMITS, maxSessions: 2 });
    try {
      const a = new RawPeer(small.port);
      const b = new RawPeer(small.port);
      await Promise.all([a.ready(), b.ready()]);
      expect(await waitUntil(() => small.stats().connected === 2, 2000)).toBe(true);
      const third = await new RawPeer(small.port).closed;
      expect(third.closedAfterMs).toBeLessThan(1500);
      expect(third.frames).toHaveLength(1);
      expect(third.frames[0]).toMatchObject({ type: FrameType.Error, code: 10 });
      expect((third.frames[0] as Extract<Message, { type: FrameType.Error }>).message).toMatch(/maxSessions/);
      expect(small.stats().connected).toBe(2);
      a.destroy();
      b.destroy();
      expect(await waitUntil(() => small.stats().connected === 0, 2000)).toBe(true);
    } finally {
      await small.close(0);
    }
  });

  it('silent TCP connections are dropped after the handshake timeout; their address is then penalised, others are served', async () => {
    const small = await testServer(serverDb, [], { limits: LIMITS, maxSessions: 2 });
    try {
      // From 127.0.0.2: 22 failed handshakes are 22 s of penalty, past the 15 s threshold.
      const silent = Array.from({ length: 22 }, () => new RawPeer(small.port, { tcp: true, timeoutMs: 5000, localAddress: '127.0.0.2' }));
      const results = await Promise.all(silent.map((p) => p.closed));
      for (const r of results) expect(r.closedAfterMs).toBeLessThan(LIMITS.handshakeMs + 1500);
      const again = await new RawPeer(small.port, { tcp: true, timeoutMs: 5000, localAddress: '127.0.0.2' }).closed;
      expect(again.closedAfterMs, 'the penalised address is closed at once').toBeLessThan(LIMITS.handshakeMs);
      const db = newDbPath('netsync-after-silent-');
      const s = await testClient({ db, port: small.port, patterns: ['org.good.main'], direction: 'pull' });
      expect(s.itemsReceived).toBe(goodCollection.size);
    } finally {
      await small.close(0);
    }
  });
});

describe('after all of it', () => {
  it('no session is left open on the server, and its database is clean', async () => {
    expect(await waitUntil(() => server.stats().connected === 0, 3000)).toBe(true);
    expect(checkClean(serverDb)).toEqual([]);
    withStore(serverDb, (s) => expect(sorted(bruteCollection(s, 'org.good.main'))).toEqual(sorted(goodCollection)));
  });
});
