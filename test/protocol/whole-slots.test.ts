/**
 * A client whose database is empty says so (HELLO EMPTY) and gets whole
 * slots without offers (docs/PROTOCOL.md §4.6): a WHOLE frame, then every
 * item of the slot in an order it can verify on arrival. Checked on the
 * wire (no OFFER, items verifiable in arrival order, WHOLE first, an item of
 * two slots sent once) and end to end (exactly the branches, the diff by
 * branch and kind as the offers would have given it, progress totals, a
 * dry run still offering, a sync converging). A server that sends WHOLE to
 * a client that did not ask, or a bad item after WHOLE, gets an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/engine/hash.js';
import { KIND_NAMES, type Kind, countedBytes, encodeInlineFile, itemId } from '../../src/engine/items/format.js';
import type { RunningServer } from '../../src/engine/protocol/api.js';
import { FrameType, HELLO_EMPTY, HELLO_RECEIVES, type Message, PROTOCOL_VERSION, Stage, WELCOME_EMPTY } from '../../src/engine/protocol/frames.js';
import { sessionKey } from '../../src/engine/protocol/slots.js';
import { Reconciler } from '../../src/engine/recon/reconciler.js';
import type { ProgressEvent } from '../../src/shared/sync.js';
import {
  RawPeer,
  addBranchCerts,
  aliceSigner,
  bruteCollection,
  buildHistory,
  checkClean,
  memberIds,
  newDbPath,
  serverConfig,
  sorted,
  startFakeServer,
  testClient,
  testServer,
  union,
  withStore,
} from '../helpers/net.js';
import { newStore, putCert, putChunkedFile, putManifest } from '../helpers/store.js';
import { pseudoRandomBytes } from '../helpers/random.js';

const BRANCHES = ['org.example.a', 'org.example.b'];
let serverDb: string;
let server: RunningServer;
/** Every member of each branch on the server (hex ids). */
let members: Map<string, Set<string>>;

beforeAll(async () => {
  serverDb = newDbPath('netsync-whole-s-');
  withStore(serverDb, (s) => {
    const signer = aliceSigner();
    // a: 40 commits of small files, plus files too large to be read with the listing
    // (WHOLE_DATA_MAX) and a chunked file (sent after its chunks, in the second class).
    const a = buildHistory(s, signer, 'org.example.a', { commits: 40, filesPerCommit: 6, fileSize: 200, seed: 3 });
    const big = { big1: s.put(encodeInlineFile(pseudoRandomBytes(20_000, 'big1'))).id, big2: s.put(encodeInlineFile(pseudoRandomBytes(9_000, 'big2'))).id };
    const chunked = putChunkedFile(s, [pseudoRandomBytes(300_000, 'c1'), pseudoRandomBytes(400_000, 'c2'), pseudoRandomBytes(500_000, 'c3')]);
    const m = putManifest(s, { ...big, 'huge/file': chunked });
    putCert(s, signer, m, 'branch', 'org.example.a');
    // b shares a's first ten revisions (their files, manifests, older certs) and has its own.
    addBranchCerts(s, signer, a.manifests.slice(0, 10), 'org.example.b');
    buildHistory(s, signer, 'org.example.b', { commits: 15, filesPerCommit: 3, fileSize: 100, seed: 4 });
    members = new Map(BRANCHES.map((b) => [b, bruteCollection(s, b)]));
  });
  server = await testServer(serverDb);
});

afterAll(async () => {
  await server.close();
});

/** The frames a hand-made client gets when it pulls org.example.* with these HELLO flags, to the server's ITEMS_DONE. */
async function rawPull(flags: number): Promise<Message[]> {
  const peer = new RawPeer(server.port);
  const nonce = Buffer.alloc(16, 9);
  const recon = new Reconciler({ role: 'initiator', slots: [], sessionKey: sessionKey(nonce) });
  await peer.send({
    type: FrameType.Hello,
    hello: { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags, nonce, patterns: ['org.example.*'], slots: [] },
  });
  await peer.send({ type: FrameType.Recon, payload: recon.initiate() });
  await peer.waitFor((m) => m.type === FrameType.Stage && m.stage === Stage.ReconDone, 10_000);
  await peer.send({ type: FrameType.Stage, stage: Stage.ReconDone });
  // What a real client wants is every offered item: answer offers the way it would.
  const wanted = new Set<string>();
  const answerOffers = (): Promise<void> => {
    const entries = peer.frames.flatMap((m) => (m.type === FrameType.Offer ? m.entries : [])).filter((e) => !wanted.has(e.short.toString('hex')));
    for (const e of entries) wanted.add(e.short.toString('hex'));
    return entries.length ? peer.send({ type: FrameType.Want, entries: entries.map((e) => ({ slot: e.slot, short: e.short })) }) : Promise.resolve();
  };
  await answerOffers();
  await peer.send({ type: FrameType.Stage, stage: Stage.WantsDone });
  await peer.waitFor((m) => m.type === FrameType.Stage && m.stage === Stage.ItemsDone, 20_000);
  peer.destroy();
  return peer.frames;
}

describe('whole slots on the wire', () => {
  it('with EMPTY: no OFFER, a WHOLE before each slot, every member once, verifiable in arrival order', async () => {
    const frames = await rawPull(HELLO_RECEIVES | HELLO_EMPTY);
    expect(frames.filter((m) => m.type === FrameType.Offer)).toEqual([]);
    const welcome = frames.find((m) => m.type === FrameType.Welcome);
    expect(welcome?.type === FrameType.Welcome && welcome.welcome.extra).toEqual(BRANCHES);

    // Items in arrival order, each attributed to the last WHOLE before it.
    const got = new Map<string, Set<string>>(BRANCHES.map((b) => [b, new Set()]));
    const wholes: { slot: number; count: number }[] = [];
    let slot = -1;
    const { store } = newStore();
    try {
      for (const m of frames) {
        if (m.type === FrameType.Whole) {
          wholes.push({ slot: m.slot, count: m.count });
          slot = m.slot;
        } else if (m.type === FrameType.Item) {
          expect(slot, 'an item before any WHOLE').toBeGreaterThanOrEqual(0);
          got.get(BRANCHES[slot]!)!.add(toHex(m.id));
          // Everything it names has arrived before it: a local put verifies it.
          expect(store.put(m.data, m.id).inserted).toBe(true);
        }
      }
    } finally {
      store.close();
    }
    expect(wholes).toEqual(BRANCHES.map((b, i) => ({ slot: i, count: members.get(b)!.size })));
    // a: all of it; b: what a did not already bring (the shared revisions went once, with a).
    const [a, b] = BRANCHES.map((name) => members.get(name)!);
    expect(sorted(got.get('org.example.a')!)).toEqual(sorted(a!));
    expect(sorted(got.get('org.example.b')!)).toEqual(sorted([...b!].filter((id) => !a!.has(id))));
    expect(got.get('org.example.b')!.size).toBeLessThan(b!.size);
  });

  it('without EMPTY: the same branches are offered, and nothing comes unasked', async () => {
    const frames = await rawPull(HELLO_RECEIVES);
    expect(frames.filter((m) => m.type === FrameType.Whole)).toEqual([]);
    const offered = frames.flatMap((m) => (m.type === FrameType.Offer ? m.entries : []));
    expect(offered.length).toBe(union(...members.values()).size);
  });
});

describe('a first clone end to end', () => {
  const kindOf = (store: { get(id: Buffer): { kind: Kind } | null }, hex: string) => KIND_NAMES[store.get(Buffer.from(hex, 'hex'))!.kind];

  it('gets exactly the branches, with the diff by branch and kind and the progress totals the offers would have given', async () => {
    const db = newDbPath('netsync-whole-c-');
    let totalAtFirstItem = -1;
    let last: ProgressEvent | null = null;
    const summary = await testClient({
      db,
      port: server.port,
      patterns: ['org.example.*'],
      direction: 'pull',
      onProgress: (e) => {
        if (totalAtFirstItem < 0 && e.received.items > 0) totalAtFirstItem = e.received.totalItems;
        last = e;
      },
    });
    const all = union(...members.values());
    expect(summary.itemsReceived).toBe(all.size);
    for (const b of BRANCHES) expect(withStore(db, (s) => sorted(memberIds(s, b)))).toEqual(sorted(members.get(b)!));
    expect(checkClean(db)).toEqual([]);
    // No offers: the reconciliation bytes are the handshake's and the WHOLE frames', not 19 per item.
    expect(summary.reconBytesReceived).toBeLessThan(200);

    // What we lacked: each item once, under the first branch that brought it, by kind, with sizes.
    const expected = new Map<string, { count: number; bytes: number }>();
    withStore(serverDb, (s) => {
      const seen = new Set<string>();
      for (const b of BRANCHES) {
        for (const hex of sorted(members.get(b)!)) {
          if (seen.has(hex)) continue;
          seen.add(hex);
          const item = s.get(Buffer.from(hex, 'hex'))!;
          const key = `${b} ${kindOf(s, hex)}`;
          const g = expected.get(key) ?? { count: 0, bytes: 0 };
          g.count++;
          g.bytes += countedBytes(item.kind, item.size);
          expected.set(key, g);
        }
      }
    });
    const groups = new Map(summary.weLack.groups.map((g) => [`${g.branch} ${g.kind}`, { count: g.count, bytes: g.bytes }]));
    expect(groups).toEqual(expected);
    expect(summary.weLack.count).toBe(all.size);
    expect(summary.weLack.items.map((i) => i.id).sort()).toEqual(sorted([...all].map((hex) => hex.slice(0, 16))));
    const chunked = summary.weLack.items.find((i) => i.size === 1_200_000);
    expect(chunked?.kind).toBe('file');
    // Its content is counted once, through its chunks: the bytes we lacked are the content bytes, not 2.4 MB.
    const chunkBytes = summary.weLack.groups.filter((g) => g.kind === 'chunk').reduce((n, g) => n + g.bytes, 0);
    expect(chunkBytes).toBeGreaterThanOrEqual(1_200_000);
    expect(summary.weLack.bytes).toBeLessThan(chunkBytes + 1_200_000);

    // Progress: a total was known with the first item (the first WHOLE's count; the events of a
    // session this small may come after both), and at the end the totals are what came.
    expect(totalAtFirstItem).toBeGreaterThanOrEqual(members.get('org.example.a')!.size);
    expect(last!.received).toMatchObject({ items: all.size, totalItems: all.size, totalBytes: last!.received.bytes });
  });

  it('a dry run into an empty database still lists what it lacks (offers), and moves nothing', async () => {
    const db = newDbPath('netsync-whole-dry-');
    const summary = await testClient({ db, port: server.port, patterns: ['org.example.*'], direction: 'pull', dryRun: true });
    expect(summary.itemsReceived).toBe(0);
    expect(summary.weLack.count).toBe(union(...members.values()).size);
    expect(withStore(db, (s) => s.itemCount())).toBe(0);
  });

  it('a sync from an empty database converges on the union', async () => {
    const db = newDbPath('netsync-whole-sync-');
    const summary = await testClient({ db, port: server.port, patterns: ['org.example.*'], direction: 'sync' });
    expect(summary.converged).toBe(true);
    expect(summary.itemsSent).toBe(0);
    for (const b of BRANCHES) expect(withStore(db, (s) => sorted(memberIds(s, b)))).toEqual(sorted(members.get(b)!));
  });
});

describe('a first push to an empty server', () => {
  it('goes whole (WELCOME EMPTY): the server gets exactly the branches, in 1 round trip, without offers', async () => {
    const empty = newDbPath('netsync-whole-push-s-');
    withStore(empty, () => undefined);
    const target = await testServer(empty);
    try {
      const summary = await testClient({ db: serverDb, port: target.port, patterns: ['org.example.*'], direction: 'push' });
      const all = union(...members.values());
      expect(summary.itemsSent).toBe(all.size);
      expect(summary.theyLack.count).toBe(all.size);
      expect(summary.roundTrips).toBe(1);
      // Offers would be ~12 bytes an item; the reconciliation and WHOLE frames are a few hundred.
      expect(summary.reconBytesSent).toBeLessThan(1000);
      for (const b of BRANCHES) expect(withStore(empty, (s) => sorted(memberIds(s, b)))).toEqual(sorted(members.get(b)!));
      expect(checkClean(empty)).toEqual([]);
    } finally {
      await target.close();
    }
  });

  it('sends nothing whole that the client may not write, and a WHOLE for such a slot is refused (permission)', async () => {
    const empty = newDbPath('netsync-whole-push-ro-');
    withStore(empty, () => undefined);
    // Anyone may read both branches; only org.example.a may be written.
    const target = await testServer(
      empty,
      [],
      {},
      serverConfig('read * org.example.*\nwrite * org.example.a\nread anonymous org.example.*\nwrite anonymous org.example.a\n'),
    );
    try {
      const outcome = await testClient({ db: serverDb, port: target.port, patterns: ['org.example.*'], direction: 'push' }).then(
        (summary) => summary.refused,
        (e: Error) => e.message,
      );
      expect(outcome).toEqual([{ branch: 'org.example.b', reason: 'read-only' }]);
      expect(withStore(empty, (s) => sorted(memberIds(s, 'org.example.a')))).toEqual(sorted(members.get('org.example.a')!));
      expect(withStore(empty, (s) => s.branchId('org.example.b'))).toBeNull();

      // A hand-made client that sends the read-only slot whole anyway: permission, nothing of it stored.
      const fresh = newDbPath('netsync-whole-push-ro2-');
      withStore(fresh, () => undefined);
      const other = await testServer(fresh, [], {}, serverConfig('read anonymous org.example.*\nwrite anonymous org.example.a\n'));
      try {
        const peer = new RawPeer(other.port);
        const nonce = Buffer.alloc(16, 4);
        const slots = BRANCHES.map((name) => withStore(serverDb, (s) => ({ name, ...s.root(name) })));
        await peer.send({
          type: FrameType.Hello,
          hello: {
            minVersion: PROTOCOL_VERSION,
            maxVersion: PROTOCOL_VERSION,
            flags: 1,
            nonce,
            patterns: ['org.example.*'],
            slots: slots.map((r) => ({ name: r.name, root: r.hash, count: r.count })),
          },
        });
        const w = await peer.waitFor((m) => m.type === FrameType.Welcome);
        expect(w.type === FrameType.Welcome && w.welcome.flags & WELCOME_EMPTY).toBe(WELCOME_EMPTY);
        await peer.send({ type: FrameType.Whole, slot: 1, count: 1 });
        const { frames } = await peer.closed;
        expect(frames.at(-1)).toMatchObject({ type: FrameType.Error, code: 7 });
        expect(withStore(fresh, (s) => s.itemCount())).toBe(0);
      } finally {
        await other.close();
      }
    } finally {
      await target.close();
    }
  });
});

describe('hostile servers and whole slots', () => {
  const welcome = (extra: string[]): Message => ({ type: FrameType.Welcome, welcome: { version: PROTOCOL_VERSION, flags: 0, refused: [], extra } });

  it('WHOLE to a client that did not say its database is empty: unexpected, nothing stored', async () => {
    const fake = await startFakeServer(async (peer) => {
      const hello = await peer.waitFor((m) => m.type === FrameType.Hello);
      expect(hello.type === FrameType.Hello && hello.hello.flags & HELLO_EMPTY).toBe(0);
      await peer.send(welcome(['org.fake']));
      await peer.send({ type: FrameType.Whole, slot: 0, count: 1 });
    });
    const db = newDbPath('netsync-whole-v1-');
    const existing = withStore(db, (s) => s.put(encodeInlineFile(Buffer.from('already here'))).id);
    try {
      const error = await testClient({ db, port: fake.port, patterns: ['org.*'], direction: 'pull' }).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/WHOLE/);
      const sent = await fake.peers[0]!.closed;
      expect(sent.frames.at(-1)).toMatchObject({ type: FrameType.Error, code: 5 });
      expect(withStore(db, (s) => [s.itemCount(), s.has(existing)])).toEqual([1, true]);
    } finally {
      await fake.close();
    }
  });

  it('a bad item after WHOLE: bad-item; the good items before it are kept, the database clean', async () => {
    const good = [encodeInlineFile(Buffer.from('good one')), encodeInlineFile(Buffer.from('good two'))];
    const fake = await startFakeServer(async (peer) => {
      const hello = await peer.waitFor((m) => m.type === FrameType.Hello);
      expect(hello.type === FrameType.Hello && hello.hello.flags & HELLO_EMPTY).toBe(HELLO_EMPTY);
      await peer.send(welcome(['org.fake']));
      await peer.send({ type: FrameType.Whole, slot: 0, count: 3 });
      for (const data of good) await peer.send({ type: FrameType.Item, id: itemId(data), encoding: 0, data });
      const bad = encodeInlineFile(Buffer.from('bad'));
      await peer.send({ type: FrameType.Item, id: itemId(Buffer.from('something else')), encoding: 0, data: bad });
    });
    const db = newDbPath('netsync-whole-v2-');
    try {
      const error = await testClient({ db, port: fake.port, patterns: ['org.*'], direction: 'pull' }).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/bad item/);
      const sent = await fake.peers[0]!.closed;
      expect(sent.frames.at(-1)).toMatchObject({ type: FrameType.Error, code: 4 });
      expect(withStore(db, (s) => good.map((g) => s.has(itemId(g))))).toEqual([true, true]);
      expect(withStore(db, (s) => s.itemCount())).toBe(2);
      expect(checkClean(db)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('WHOLE sent to a server (only a server sends it): unexpected, and the server serves on', async () => {
    const peer = new RawPeer(server.port);
    const nonce = Buffer.alloc(16, 3);
    await peer.send({
      type: FrameType.Hello,
      hello: { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags: 1, nonce, patterns: ['org.example.*'], slots: [] },
    });
    await peer.send({ type: FrameType.Recon, payload: new Reconciler({ role: 'initiator', slots: [], sessionKey: sessionKey(nonce) }).initiate() });
    await peer.send({ type: FrameType.Whole, slot: 0, count: 1 });
    const { frames } = await peer.closed;
    expect(frames.at(-1)).toMatchObject({ type: FrameType.Error, code: 5 });
    const db = newDbPath('netsync-whole-after-');
    expect((await testClient({ db, port: server.port, patterns: ['org.example.*'], direction: 'pull' })).itemsReceived).toBe(union(...members.values()).size);
  });

  it('WHOLE for a slot that does not exist: malformed', async () => {
    const fake = await startFakeServer(async (peer) => {
      await peer.waitFor((m) => m.type === FrameType.Hello);
      await peer.send(welcome(['org.fake']));
      await peer.send({ type: FrameType.Whole, slot: 5, count: 1 });
    });
    const db = newDbPath('netsync-whole-v3-');
    try {
      const error = await testClient({ db, port: fake.port, patterns: ['org.*'], direction: 'pull' }).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/slot 5/);
      expect((await fake.peers[0]!.closed).frames.at(-1)).toMatchObject({ type: FrameType.Error, code: 1 });
      expect(withStore(db, (s) => s.itemCount())).toBe(0);
    } finally {
      await fake.close();
    }
  });
});
