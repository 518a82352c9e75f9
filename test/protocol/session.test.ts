/**
 * Whole sessions in-process: `startServer` on 127.0.0.1 port 0 and
 * `runClientSession` against two databases built through the engine API.
 * Every assertion is item by item against brute force: the collections are
 * recomputed by decoding every stored item (test/helpers/net.ts), never read
 * from the index the protocol uses.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProgressEvent, SessionSummary } from '../../src/shared/sync.js';
import { toHex } from '../../src/engine/hash.js';
import { countedBytes } from '../../src/engine/items/format.js';
import type { ClientOptions, RunningServer } from '../../src/engine/protocol/api.js';
import { ReadStore } from '../../src/engine/store/store.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';
import {
  addBranchCerts,
  aliceSigner,
  allIds,
  bobSigner,
  bruteCollection,
  bruteSelection,
  buildHistory,
  checkClean,
  copyItems,
  memberIds,
  minus,
  newDbPath,
  selector,
  snapshotDb,
  sorted,
  testClient,
  testServer,
  union,
  withStore,
} from '../helpers/net.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close(0);
});

async function serve(db: string, patterns: string[] = []): Promise<RunningServer> {
  const s = await testServer(db, patterns);
  servers.push(s);
  return s;
}

function client(db: string, server: RunningServer, patterns: string[], extra: Partial<ClientOptions> = {}): Promise<SessionSummary> {
  return testClient({ db, port: server.port, patterns, ...extra });
}

/**
 * Server A (alice) and client B (bob) sharing the start of org.a.main, then
 * diverging; each also has branches of its own; A has a chunked file.
 */
async function buildPair(): Promise<{ a: string; b: string }> {
  const a = newDbPath('netsync-a-');
  const b = newDbPath('netsync-b-');
  const alice = aliceSigner();
  const bob = bobSigner();
  let baseHead: Buffer | undefined;
  withStore(a, (sa) => {
    const base = buildHistory(sa, alice, 'org.a.main', { commits: 12, seed: 1 });
    baseHead = base.manifests[11];
    withStore(b, (sb) => copyItems(sa, sb)); // the shared start of history
    buildHistory(sa, alice, 'org.a.main', { commits: 6, seed: 2, parent: baseHead });
    buildHistory(sa, alice, 'org.a.secret', { commits: 4, seed: 3 });
    buildHistory(sa, alice, 'org.b.lib', { commits: 5, seed: 4 });
  });
  // A tree with a file above INLINE_MAX: chunks, a chunked file, nested folders.
  const dir = tempDir('netsync-tree-');
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'big.bin'), pseudoRandomBytes((1 << 20) + 300_000, 'session/big'));
  writeFileSync(join(dir, 'src', 'deep', 'a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'README'), 'readme\n');
  const sa = WriteStore.open(a);
  try {
    await commitDirectory(sa, dir, { branch: 'org.a.big', signer: alice, message: 'big', date: new Date(Date.UTC(2004, 5, 1)) });
    const chunks = [...sa.iterate()].filter((r) => r.kind === 2).length;
    expect(chunks).toBeGreaterThan(1);
  } finally {
    sa.close();
  }
  withStore(b, (sb) => {
    expect(sb.manifestsIn('org.a.main').length).toBe(12);
    buildHistory(sb, bob, 'org.a.main', { commits: 5, seed: 5, parent: baseHead }); // diverges from A
    buildHistory(sb, bob, 'org.c.own', { commits: 4, seed: 6 });
  });
  return { a, b };
}

interface Expectation {
  /** Items the client lacks: the server's selected collections minus everything the client holds. */
  weLack: Set<string>;
  /** Items the server lacks. */
  theyLack: Set<string>;
  a: ReturnType<typeof snapshotDb>;
  b: ReturnType<typeof snapshotDb>;
  selected: string[];
}

/** Brute-force expectations of a session between A (server) and B (client). */
function expectFor(a: string, b: string, clientPatterns: string[], serverPatterns: string[]): Expectation {
  const sel = selector(clientPatterns, serverPatterns);
  const ra = ReadStore.open(a);
  const rb = ReadStore.open(b);
  try {
    const aAll = allIds(ra);
    const bAll = allIds(rb);
    const selected = sorted(new Set([...ra.branches(), ...rb.branches()].map((x) => x.name).filter(sel)));
    return {
      weLack: minus(bruteSelection(ra, sel), bAll),
      theyLack: minus(bruteSelection(rb, sel), aAll),
      a: snapshotDb(a),
      b: snapshotDb(b),
      selected,
    };
  } finally {
    ra.close();
    rb.close();
  }
}

/** The index of each branch equals its brute-force collection, and both databases pass `db check`. */
function expectConsistent(path: string): void {
  expect(checkClean(path)).toEqual([]);
  const s = ReadStore.open(path);
  try {
    for (const br of s.branches()) expect(sorted(memberIds(s, br.name)), `${path} ${br.name}`).toEqual(sorted(bruteCollection(s, br.name)));
  } finally {
    s.close();
  }
}

const shortsOf = (ids: Iterable<string>): string[] => sorted([...ids].map((h) => h.slice(0, 16)));

function bytesOf(path: string, ids: Iterable<string>): number {
  const s = ReadStore.open(path);
  try {
    let n = 0;
    for (const id of ids) {
      const meta = s.meta(Buffer.from(id, 'hex'))!;
      n += countedBytes(meta.kind, meta.size);
    }
    return n;
  } finally {
    s.close();
  }
}

describe('sessions in-process', () => {
  it('sync brings both databases to the union of the selected collections, item by item', async () => {
    const { a, b } = await buildPair();
    const server = await serve(a);
    const exp = expectFor(a, b, ['org.*'], []);
    expect(exp.weLack.size).toBeGreaterThan(50);
    expect(exp.theyLack.size).toBeGreaterThan(50);

    const s = await client(b, server, ['org.*']);
    expect(s.itemsReceived).toBe(exp.weLack.size);
    expect(s.itemsSent).toBe(exp.theyLack.size);
    expect(s.weLack.count).toBe(exp.weLack.size);
    expect(s.theyLack.count).toBe(exp.theyLack.size);

    const a2 = snapshotDb(a);
    const b2 = snapshotDb(b);
    expect(sorted(a2.all)).toEqual(sorted(union(exp.a.all, exp.theyLack)));
    expect(sorted(b2.all)).toEqual(sorted(union(exp.b.all, exp.weLack)));
    // Every selected branch: the same members on both sides, equal to the union of the two collections before.
    for (const br of exp.selected) {
      const before = union(exp.a.branches.get(br) ?? [], exp.b.branches.get(br) ?? []);
      expect(sorted(a2.branches.get(br)!), br).toEqual(sorted(before));
      expect(sorted(b2.branches.get(br)!), br).toEqual(sorted(before));
    }
    expectConsistent(a);
    expectConsistent(b);
    const ra = ReadStore.open(a);
    const rb = ReadStore.open(b);
    for (const br of exp.selected) expect(rb.root(br).hash.equals(ra.root(br).hash), br).toBe(true);
    ra.close();
    rb.close();

    // Up to date: one round trip, nothing moves.
    const again = await client(b, server, ['org.*']);
    expect(again.roundTrips).toBe(1);
    expect([again.itemsSent, again.itemsReceived, again.weLack.count, again.theyLack.count]).toEqual([0, 0, 0, 0]);
    expect(sorted(snapshotDb(b).all)).toEqual(sorted(b2.all));
  });

  it('push changes only the server; pull changes only the client', async () => {
    const { a, b } = await buildPair();
    const server = await serve(a);
    const exp = expectFor(a, b, ['org.*'], []);

    const pushed = await client(b, server, ['org.*'], { direction: 'push' });
    expect(pushed.itemsSent).toBe(exp.theyLack.size);
    expect(pushed.itemsReceived).toBe(0);
    expect(sorted(snapshotDb(a).all)).toEqual(sorted(union(exp.a.all, exp.theyLack)));
    expect(sorted(snapshotDb(b).all)).toEqual(sorted(exp.b.all));
    expectConsistent(a);
    expectConsistent(b);

    const pulled = await client(b, server, ['org.*'], { direction: 'pull' });
    expect(pulled.itemsReceived).toBe(exp.weLack.size);
    expect(pulled.itemsSent).toBe(0);
    expect(sorted(snapshotDb(b).all)).toEqual(sorted(union(exp.b.all, exp.weLack)));
    expect(sorted(snapshotDb(a).all)).toEqual(sorted(union(exp.a.all, exp.theyLack)));
    expectConsistent(a);
    expectConsistent(b);

    // Now both hold the union: in sync in one round trip.
    expect((await client(b, server, ['org.*'])).roundTrips).toBe(1);
  });

  it('pull alone into an empty database is a full clone of the selection', async () => {
    const { a } = await buildPair();
    const empty = newDbPath('netsync-clone-');
    const server = await serve(a);
    const s = await client(empty, server, ['org.a.*'], { direction: 'pull' });
    const expected = withStore(a, (sa) => bruteSelection(sa, selector(['org.a.*'])));
    expect(s.itemsReceived).toBe(expected.size);
    expect(sorted(snapshotDb(empty).all)).toEqual(sorted(expected));
    expectConsistent(empty);
  });

  for (const direction of ['sync', 'push', 'pull'] as const) {
    it(`dry run (${direction}) moves nothing and reports the exact difference both ways`, async () => {
      const { a, b } = await buildPair();
      const server = await serve(a);
      const exp = expectFor(a, b, ['org.*'], []);
      const s = await client(b, server, ['org.*'], { direction, dryRun: true });
      expect(s.dryRun).toBe(true);
      expect([s.itemsSent, s.itemsReceived]).toEqual([0, 0]);
      expect(s.weLack.count).toBe(exp.weLack.size);
      expect(s.theyLack.count).toBe(exp.theyLack.size);
      expect(shortsOf(s.weLack.items.map((i) => i.id))).toEqual(shortsOf(exp.weLack));
      expect(shortsOf(s.theyLack.items.map((i) => i.id))).toEqual(shortsOf(exp.theyLack));
      expect(s.weLack.bytes).toBe(bytesOf(a, exp.weLack));
      expect(s.theyLack.bytes).toBe(bytesOf(b, exp.theyLack));
      expect(s.weLack.groups.reduce((n, g) => n + g.count, 0)).toBe(exp.weLack.size);
      // Nothing moved, on either side.
      expect(sorted(snapshotDb(a).all)).toEqual(sorted(exp.a.all));
      expect(sorted(snapshotDb(b).all)).toEqual(sorted(exp.b.all));
      expectConsistent(a);
      expectConsistent(b);
    });
  }

  it('include and exclude patterns, intersected with what the server offers', async () => {
    const { a, b } = await buildPair();
    const clientPatterns = ['org.a.*', '!org.a.secret*'];
    const serverPatterns = ['org.*', '!org.b.*'];
    const server = await serve(a, serverPatterns);
    const exp = expectFor(a, b, clientPatterns, serverPatterns);
    expect(exp.selected).toEqual(['org.a.big', 'org.a.main']);
    const s = await client(b, server, clientPatterns);
    expect(s.itemsReceived).toBe(exp.weLack.size);
    expect(s.itemsSent).toBe(exp.theyLack.size);
    const a2 = snapshotDb(a);
    const b2 = snapshotDb(b);
    expect(sorted(a2.all)).toEqual(sorted(union(exp.a.all, exp.theyLack)));
    expect(sorted(b2.all)).toEqual(sorted(union(exp.b.all, exp.weLack)));
    expect(b2.branches.has('org.a.secret')).toBe(false);
    expect(b2.branches.has('org.b.lib')).toBe(false);
    expect(a2.branches.has('org.c.own')).toBe(false);
    expectConsistent(a);
    expectConsistent(b);

    // A branch the client announces but the server does not offer is refused: nothing of it moves either way.
    const narrow = await serve(a, ['org.a.m*']);
    const exp2 = expectFor(a, b, ['org.*'], ['org.a.m*']);
    expect(exp2.selected).toEqual(['org.a.main']);
    const s2 = await client(b, narrow, ['org.*']);
    expect(s2.itemsReceived).toBe(exp2.weLack.size);
    expect(s2.itemsSent).toBe(exp2.theyLack.size); // 0: org.a.main is already the union
    expect(s2.itemsSent + s2.itemsReceived).toBe(0);
    expect(snapshotDb(a).branches.has('org.c.own')).toBe(false);
    expect(snapshotDb(b).branches.has('org.b.lib')).toBe(false);
    const d = await client(b, narrow, ['org.*'], { dryRun: true });
    for (const g of [...d.weLack.groups, ...d.theyLack.groups]) expect(g.branch).toBe('org.a.main');
  });

  it('a client with nothing selected and a server with nothing to offer: in sync, one round trip', async () => {
    const { a } = await buildPair();
    const empty = newDbPath('netsync-empty-');
    const server = await serve(a);
    const s = await client(empty, server, ['nothing.matches.*']);
    expect(s.roundTrips).toBe(1);
    expect([s.itemsSent, s.itemsReceived]).toEqual([0, 0]);
    expect(snapshotDb(empty).all.size).toBe(0);
  });

  it('progress events: seq 1, 2, 3, ..., phases in order, ends in done with the totals reached, items and bytes', async () => {
    const { a, b } = await buildPair();
    const server = await serve(a);
    const events: ProgressEvent[] = [];
    const s = await client(b, server, ['org.*'], { onProgress: (e) => events.push(structuredClone(e)) });
    expect(events.length).toBeGreaterThan(2);
    events.forEach((e, i) => expect(e.seq).toBe(i + 1));
    expect(new Set(events.map((e) => e.sessionId)).size).toBe(1);
    const order = ['connecting', 'handshake', 'refining', 'transferring', 'done'];
    const ranks = events.map((e) => order.indexOf(e.phase));
    expect(ranks.every((r) => r >= 0)).toBe(true);
    for (let i = 1; i < ranks.length; i++) expect(ranks[i]!).toBeGreaterThanOrEqual(ranks[i - 1]!);
    const last = events[events.length - 1]!;
    expect(last.phase).toBe('done');
    expect(last.received.items).toBe(s.itemsReceived);
    expect(last.received.totalItems).toBe(s.itemsReceived);
    expect(last.sent.items).toBe(s.itemsSent);
    expect(last.sent.totalItems).toBe(s.itemsSent);
    // The bar ends at 100%: bytes moved and their totals count the same thing (content, a chunked file once).
    expect(last.received.bytes).toBeGreaterThan(0);
    expect(last.received.bytes).toBe(last.received.totalBytes);
    expect(last.sent.bytes).toBe(last.sent.totalBytes);
    // Reconciliation bytes and round trips grow in the events while the session runs, and end as the summary's.
    expect(events.some((e) => e.phase !== 'done' && e.reconBytesSent > 0 && e.roundTrips > 0)).toBe(true);
    expect([last.reconBytesSent, last.reconBytesReceived, last.roundTrips]).toEqual([s.reconBytesSent, s.reconBytesReceived, s.roundTrips]);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.received.items).toBeGreaterThanOrEqual(events[i - 1]!.received.items);
      expect(events[i]!.elapsedMs).toBeGreaterThanOrEqual(events[i - 1]!.elapsedMs);
    }
  });
});

describe('a manifest on two branches, only one of them synced', () => {
  /**
   * A holds m on org.x (with alice's certs); B holds the same m (its files and
   * the manifest, none of A's certs) on org.y, by bob. Syncing org.y gives A
   * bob's org.y cert, and then A's org.y collection also holds A's own certs
   * on m (a collection has every cert on its manifests, but the `branch` certs
   * naming other branches): something B lacks, found only once the first
   * transfer is done. The FINAL roots differ (docs/PROTOCOL.md §4.4) and a
   * second sync finishes the job.
   */
  it('the first session leaves different roots, so the client runs a second at once that reaches the union', async () => {
    const a = newDbPath('netsync-two-a-');
    const b = newDbPath('netsync-two-b-');
    withStore(a, (sa) => {
      const h = buildHistory(sa, aliceSigner(), 'org.x', { commits: 1, seed: 31 });
      const m = h.manifests[0]!;
      const closure = new Set([toHex(m), ...h.ids.filter((id) => sa.meta(id)!.kind === 1).map(toHex)]);
      withStore(b, (sb) => {
        copyItems(sa, sb, closure);
        addBranchCerts(sb, bobSigner(), [m], 'org.y');
      });
    });
    const server = await serve(a);
    const first = await client(b, server, ['org.y']);
    // Session 1 sends bob's key and his org.y cert; A's org.y collection then also holds
    // alice's key and her date and author certs on m, which B lacks: the roots differ, and
    // session 2 brings those 3. Her org.x branch cert is not in org.y's collection: B,
    // which asked for org.y only, never learns the name org.x.
    expect(first.sessions).toBe(2);
    expect(first.converged).toBe(true);
    expect(first.itemsSent).toBe(2);
    expect(first.itemsReceived).toBe(3);
    expect(withStore(b, (s) => s.branches().map((br) => br.name))).toEqual(['org.y']);
    const ra = withStore(a, (s) => memberIds(s, 'org.y'));
    const rb = withStore(b, (s) => memberIds(s, 'org.y'));
    expect(sorted(rb)).toEqual(sorted(ra));
    expect((await client(b, server, ['org.y'])).roundTrips).toBe(1);
    expectConsistent(a);
    expectConsistent(b);
  });
});

/**
 * monotone issue 166: pulling a branch whose manifests the client already
 * holds through another branch must not resend them. Monotone's report had
 * 30,000 items; CI uses 300 manifests / ~3,000 items (NETSYNC_STRESS=1:
 * 3,000 manifests / ~30,000 items).
 */
describe('monotone issue 166: nothing held through another branch is sent again', () => {
  const commits = process.env.NETSYNC_STRESS === '1' ? 3000 : 300;

  function build(clientHasPartOfY: number): { server: string; clientDb: string; expected: Set<string>; before: Set<string> } {
    const serverDb = newDbPath('netsync-166s-');
    const clientDb = newDbPath('netsync-166c-');
    const alice = aliceSigner();
    withStore(serverDb, (ss) => {
      const x = buildHistory(ss, alice, 'org.x', { commits, seed: 166 });
      expect(x.ids.length).toBe(1 + commits * 10 - 1);
      withStore(clientDb, (sc) => copyItems(ss, sc)); // the client holds X's whole history
      const yCerts = addBranchCerts(ss, alice, x.manifests, 'org.y'); // the same manifests, also on Y
      buildHistory(ss, alice, 'org.y', { commits: 5, seed: 167, parent: x.manifests[x.manifests.length - 1] });
      if (clientHasPartOfY > 0) {
        withStore(clientDb, (sc) => copyItems(ss, sc, new Set(yCerts.slice(0, clientHasPartOfY).map(toHex))));
      }
    });
    const sc = ReadStore.open(clientDb);
    const ss = ReadStore.open(serverDb);
    const before = allIds(sc);
    const expected = minus(bruteCollection(ss, 'org.y'), before);
    sc.close();
    ss.close();
    return { server: serverDb, clientDb, expected, before };
  }

  for (const partial of [0, 100]) {
    it(`pulling Y receives exactly the Y certs and the new revisions (client holds ${partial} of Y's certs)`, async () => {
      const { server: serverDb, clientDb, expected, before } = build(partial);
      // commits - partial branch certs, 5 new revisions of 5 files + manifest + 4 certs (the key is held).
      expect(expected.size).toBe(commits - partial + 5 * 10);
      const server = await serve(serverDb);
      const s = await client(clientDb, server, ['org.y'], { direction: 'pull' });
      expect(s.itemsReceived).toBe(expected.size);
      expect(s.weLack.count).toBe(expected.size);
      const after = snapshotDb(clientDb).all;
      // Everything received was new: the set grew by exactly what arrived, and by exactly the expectation.
      expect(sorted(minus(after, before))).toEqual(sorted(expected));
      expect(after.size - before.size).toBe(s.itemsReceived);
      expectConsistent(clientDb);
      const sc = ReadStore.open(clientDb);
      const ss = ReadStore.open(serverDb);
      expect(sc.root('org.y').hash.equals(ss.root('org.y').hash)).toBe(true);
      sc.close();
      ss.close();
      // Item bytes moved are those of the new items only (each ITEM frame is at least its 32-byte id + 38 bytes).
      expect(s.bytesReceived - s.reconBytesReceived).toBeLessThan(expected.size * 400);
    });
  }
});
