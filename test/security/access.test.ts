/**
 * Permissions enforced by a live server (docs/SECURITY.md §Permissions):
 * who may read and write which branches, checked on what actually crosses
 * the connection (the decrypted stream, recorded on the client side) and on
 * what the server's database holds afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/engine/hash.js';
import { EMPTY_NODE } from '../../src/engine/index/trie-rules.js';
import { Kind, certSignedBytes, decodeItem, encodeCert, encodeInlineFile, encodeKey, itemId } from '../../src/engine/items/format.js';
import { signBytes } from '../../src/engine/keys/ed25519.js';
import { credentialsFor } from '../../src/engine/security/certificate.js';
import type { NetsyncError } from '../../src/engine/errors.js';
import { FrameType, HELLO_SENDS, type Message, PROTOCOL_VERSION } from '../../src/engine/protocol/frames.js';
import { ReadStore } from '../../src/engine/store/store.js';
import { signCert } from '../../src/engine/workspace/commit.js';
import { RawPeer, addBranchCerts, buildHistory, copyItems, memberIds, newDbPath, snapshotDb, sorted, withStore } from '../helpers/net.js';
import { type Captured, type SecureServer, contains, fp, newCapture, secureClient, secureServer, signer } from './helpers.js';

const owner = signer('server@example.org');
const reader = signer('reader@example.org');
const writer = signer('writer@example.org');
const stranger = signer('stranger@example.org');

const basePermissions = () => `# test permissions
read  ${fp(reader)} a.*
read  ${fp(writer)} a.*
write ${fp(writer)} a.*   # the writer may push into a.*, nothing else
read  anonymous pub.*
`;

let serverDb: string;
let srv: SecureServer;
/** What a reader of a.* must never see: ids only in b.y's collection, and every hash of b.y's index trie. */
let secretIds: Buffer[];
let secretHashes: Buffer[];
let aIds: Buffer[];
/** A manifest the owner put into both a.x and b.y (the same tree committed to both), and its branch=b.y cert. */
let shared: Buffer;
let sharedB: Buffer;

beforeAll(async () => {
  serverDb = newDbPath('netsync-sec-access-');
  withStore(serverDb, (s) => {
    const a = buildHistory(s, owner, 'a.x', { commits: 3, seed: 1 });
    buildHistory(s, owner, 'b.y', { commits: 3, seed: 2 });
    buildHistory(s, owner, 'pub.x', { commits: 2, seed: 3 });
    // Its branch=b.y cert is in b.y's collection only: a reader of a.x gets the manifest, not that name.
    shared = a.manifests.at(-1)!;
    [sharedB] = addBranchCerts(s, owner, [shared], 'b.y') as [Buffer];
  });
  const store = ReadStore.open(serverDb);
  const a = memberIds(store, 'a.x');
  const pub = memberIds(store, 'pub.x');
  secretIds = [...memberIds(store, 'b.y')].filter((id) => !a.has(id) && !pub.has(id)).map((h) => Buffer.from(h, 'hex'));
  aIds = [...a].map((h) => Buffer.from(h, 'hex'));
  secretHashes = store.db
    .prepare<[number], { hash: Buffer }>('SELECT hash FROM trie WHERE bid = ?')
    .all(store.branchId('b.y')!)
    .map((r) => r.hash);
  store.close();
  expect(secretIds.length).toBeGreaterThan(10);
  expect(secretIds.some((id) => id.equals(sharedB))).toBe(true); // a.x's collection does not hold it
  srv = await secureServer(serverDb, owner, basePermissions());
});

afterAll(async () => {
  await srv?.server.close(1000);
});

/** Asserts that nothing of b.y (name, ids, id prefixes, index hashes) is in the bytes. */
function expectNothingOfB(bytes: Buffer): void {
  expect(contains(bytes, Buffer.from('b.y')), 'the name b.y').toBe(false);
  for (const id of secretIds) {
    expect(contains(bytes, id.subarray(0, 8)), `id ${toHex(id)} (or its short form)`).toBe(false);
  }
  for (const h of secretHashes) {
    expect(contains(bytes, h.subarray(0, 8)), `index hash ${toHex(h)}`).toBe(false);
  }
}

describe('reading', () => {
  it('a reader of a.* that asks for everything receives a.x and nothing of b.y: no name, no id, no index hash', async () => {
    const db = newDbPath('netsync-sec-reader-');
    const cap: Captured = newCapture();
    const s = await secureClient({ db, port: srv.port, patterns: ['*'], direction: 'pull' }, reader, cap);
    expect(s.itemsReceived).toBe(aIds.length);
    expect(sorted(snapshotDb(db).branches.keys())).toEqual(['a.x']);
    const received = Buffer.concat(cap.received);
    // Positive control: a.x's ids did cross, in the same stream the checks below search.
    expect(aIds.every((id) => contains(received, id.subarray(0, 8)))).toBe(true);
    expect(snapshotDb(db).all.has(toHex(shared))).toBe(true); // the manifest a.x shares with b.y came
    expect(snapshotDb(db).all.has(toHex(sharedB))).toBe(false); // its branch=b.y cert did not
    expectNothingOfB(received);
    expect(contains(received, Buffer.from('pub.x'))).toBe(false);
  });

  it("a reader that announces a b.y of its own gets it refused, learns nothing of the server's b.y, and gives nothing of its own", async () => {
    const db = newDbPath('netsync-sec-reader2-');
    withStore(db, (s) => buildHistory(s, reader, 'b.y', { commits: 2, seed: 77 }));
    const serverBefore = snapshotDb(serverDb);
    const cap = newCapture();
    const s = await secureClient({ db, port: srv.port, patterns: ['*'], direction: 'sync' }, reader, cap);
    expect(s.refused).toEqual([{ branch: 'b.y', reason: 'no-permission' }]);
    expectNothingOfB(Buffer.concat(cap.received));
    expect(snapshotDb(serverDb)).toEqual(serverBefore);
    expect(sorted(snapshotDb(db).branches.keys())).toEqual(['a.x', 'b.y']);
  });

  it('anonymous pull works only where anonymous reads are granted', async () => {
    const db = newDbPath('netsync-sec-anon-');
    const s = await secureClient({ db, port: srv.port, patterns: ['*'], direction: 'pull' }, 'anonymous');
    expect(s.itemsReceived).toBeGreaterThan(0);
    expect(sorted(snapshotDb(db).branches.keys())).toEqual(['pub.x']);
    const sessions = srv.events.filter((e) => e.type === 'session-start');
    expect(sessions.at(-1)).toMatchObject({ client: 'anonymous' });

    const db2 = newDbPath('netsync-sec-anon2-');
    withStore(db2, (st) => buildHistory(st, stranger, 'a.x', { commits: 1, seed: 5 }));
    const s2 = await secureClient({ db: db2, port: srv.port, patterns: ['a.*'], direction: 'pull' }, 'anonymous');
    expect(s2.itemsReceived).toBe(0);
    expect(s2.refused).toEqual([{ branch: 'a.x', reason: 'no-permission' }]);
  });

  it("a stranger's key reads nothing", async () => {
    const db = newDbPath('netsync-sec-stranger-read-');
    const s = await secureClient({ db, port: srv.port, patterns: ['*'], direction: 'pull' }, stranger);
    expect(s.itemsReceived).toBe(0);
    expect(snapshotDb(db).branches.size).toBe(0);
  });
});

describe('writing', () => {
  it("a stranger's key cannot push: its branch is refused and the server stores nothing", async () => {
    const db = newDbPath('netsync-sec-stranger-');
    withStore(db, (s) => buildHistory(s, stranger, 'a.x', { commits: 2, seed: 9 }));
    const before = snapshotDb(serverDb);
    const s = await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'push' }, stranger);
    expect(s.itemsSent).toBe(0);
    expect(s.refused).toEqual([{ branch: 'a.x', reason: 'no-permission' }]);
    expect(snapshotDb(serverDb)).toEqual(before);
  });

  it('a key that may read but not write is told so (read-only), pulls, and pushes nothing', async () => {
    const db = newDbPath('netsync-sec-reader-push-');
    withStore(db, (s) => buildHistory(s, reader, 'a.x', { commits: 2, seed: 10 }));
    const before = snapshotDb(serverDb);
    const push = await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'push' }, reader);
    expect(push.itemsSent).toBe(0);
    expect(push.refused).toEqual([{ branch: 'a.x', reason: 'read-only' }]);
    const sync = await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'sync' }, reader);
    expect(sync.itemsSent).toBe(0);
    expect(sync.itemsReceived).toBe(aIds.length);
    expect(snapshotDb(serverDb)).toEqual(before);
  });

  it('a read-only branch counts, in a dry run and a sync, everything the server lacks there (blocked, never dropped from the count)', async () => {
    const db = newDbPath('netsync-sec-reader-count-');
    withStore(db, (s) => buildHistory(s, reader, 'a.x', { commits: 2, seed: 11 }));
    const ours = withStore(db, (s) => memberIds(s, 'a.x'));
    const theirs = withStore(serverDb, (s) => memberIds(s, 'a.x'));
    const lacking = [...ours].filter((id) => !theirs.has(id));
    expect(lacking.length).toBeGreaterThan(10);
    for (const dryRun of [true, false]) {
      const r = await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'sync', dryRun }, reader);
      expect(r.refused).toEqual([{ branch: 'a.x', reason: 'read-only' }]);
      expect(r.itemsSent).toBe(0);
      // Before the fix only what surfaced on our side of the reconciliation was counted: the server never asked for the rest.
      expect(r.theyLack.count).toBe(lacking.length);
      expect(r.theyLack.groups.reduce((n, g) => n + g.count, 0)).toBe(lacking.length);
      expect(sorted(r.theyLack.items.map((i) => i.id))).toEqual(sorted(lacking.map((h) => h.slice(0, 16))));
    }
    expect(withStore(serverDb, (s) => memberIds(s, 'a.x'))).toEqual(theirs);
  });

  it('a writer of a.* pushes into a.x', async () => {
    const db = newDbPath('netsync-sec-writer-');
    await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'pull' }, writer);
    const added = withStore(db, (s) => buildHistory(s, writer, 'a.x', { commits: 1, seed: 11, startDate: Date.UTC(2010, 0, 1) }));
    const s = await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'push' }, writer);
    expect(s.refused).toBeUndefined();
    expect(s.itemsSent).toBe(added.ids.length);
    const after = snapshotDb(serverDb);
    for (const id of added.ids) expect(after.branches.get('a.x')!.has(toHex(id))).toBe(true);
  });

  it("a branch=b.y cert on a manifest of a.x is not in a.x's collection: a push of a.* never sends it", async () => {
    const db = newDbPath('netsync-sec-smuggle-');
    const h = withStore(db, (s) => buildHistory(s, writer, 'a.x', { commits: 4, seed: 12 }));
    const [smuggled] = withStore(db, (s) => addBranchCerts(s, writer, h.manifests.slice(-1), 'b.y'));
    const bBefore = snapshotDb(serverDb).branches.get('b.y');
    const s = await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'push' }, writer);
    expect(s.itemsSent).toBeGreaterThan(0); // a.x's history went
    const after = snapshotDb(serverDb);
    expect(after.all.has(toHex(h.manifests.at(-1)!))).toBe(true);
    expect(after.all.has(toHex(smuggled!))).toBe(false);
    expect(after.branches.get('b.y')).toEqual(bBefore);
  });

  it('a writer of a.* cannot put a manifest into b.y by pushing a branch=b.y cert by hand through its a.x slot', async () => {
    // The server holds the writer's manifest (a.x, from the test above or its own); a raw client
    // offers a branch=b.y cert on it in the writable slot a.x and sends it when asked.
    const store = ReadStore.open(serverDb);
    const manifest = store.manifestsIn('a.x')[0]!;
    store.close();
    const keyItem = encodeKey(writer.name, writer.pair.publicKey);
    const keyId = itemId(keyItem);
    const value = Buffer.from('b.y');
    const cert = encodeCert(manifest, keyId, 'branch', value, signBytes(writer.pair.seed, certSignedBytes(manifest, keyId, 'branch', value)));
    const id = itemId(cert);
    const peer = new RawPeer(srv.port, { credentials: await credentialsFor(writer.pair) });
    const slots = [{ name: 'a.x', root: EMPTY_NODE.hash, count: 0 }];
    await peer.send({
      type: FrameType.Hello,
      hello: { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags: HELLO_SENDS, nonce: Buffer.alloc(16, 9), patterns: ['a.*'], slots },
    });
    await peer.send({ type: FrameType.Offer, entries: [{ slot: 0, short: id.subarray(0, 8), kind: Kind.Cert, size: cert.length }] });
    await peer.waitFor((m) => m.type === FrameType.Want);
    await peer.send({ type: FrameType.Item, id, encoding: 0, data: cert });
    const r = await peer.closed;
    const last = r.frames.at(-1)!;
    expect(last.type).toBe(FrameType.Error);
    expect(last).toMatchObject({ code: 7 });
    expect((last as { message: string }).message).toMatch(/refused cert .*branch "b\.y".*may not write/);
    expect(snapshotDb(serverDb).all.has(toHex(id))).toBe(false);
  });

  it('a cert on a manifest of a branch the writer may not write is refused, without naming that branch', async () => {
    // The writer holds a manifest that is in the server's b.y (same content makes the same id) and certifies it into a.x:
    // its certs would join b.y's collection too, so the server refuses the cert.
    const store = ReadStore.open(serverDb);
    const bManifest = store.manifestsIn('b.y')[0]!;
    const manifest = decodeItem(store.get(bManifest)!.data);
    if (manifest.kind !== Kind.Manifest) throw new Error('not a manifest');
    const closure = new Set([toHex(bManifest), ...manifest.entries.flatMap((e) => (e.file ? [toHex(e.file)] : []))]);
    store.close();
    const db = newDbPath('netsync-sec-foreign-manifest-');
    const source = ReadStore.open(serverDb);
    withStore(db, (to) => copyItems(source as never, to, closure));
    source.close();
    const cert = withStore(db, (s) => {
      buildHistory(s, writer, 'a.x', { commits: 4, seed: 14 }); // something of its own to push along
      s.put(encodeKey(writer.name, writer.pair.publicKey));
      return signCert(s, writer, bManifest, 'branch', 'a.x');
    });
    const before = snapshotDb(serverDb);
    const err = await secureClient({ db, port: srv.port, patterns: ['a.*'], direction: 'push' }, writer).catch((e: unknown) => e);
    expect((err as NetsyncError).code).toBe('permission');
    expect((err as NetsyncError).message).toContain('1 branch you may not read');
    expect((err as NetsyncError).message).not.toContain('b.y');
    const after = snapshotDb(serverDb);
    expect(after.all.has(toHex(cert))).toBe(false);
    expect(after.branches.get('b.y')).toEqual(before.branches.get('b.y'));
  });

  it('an item pushed by hand into a slot the client may not write is refused with a permission error, nothing stored', async () => {
    const file = encodeInlineFile(Buffer.from('pushed by an anonymous stranger'));
    const id = itemId(file);
    const peer = new RawPeer(srv.port);
    const hello: Message = {
      type: FrameType.Hello,
      hello: {
        minVersion: PROTOCOL_VERSION,
        maxVersion: PROTOCOL_VERSION,
        flags: HELLO_SENDS,
        nonce: Buffer.alloc(16, 7),
        patterns: ['pub.*'],
        slots: [{ name: 'pub.x', root: EMPTY_NODE.hash, count: 0 }],
      },
    };
    await peer.send(hello);
    await peer.send({ type: FrameType.Offer, entries: [{ slot: 0, short: id.subarray(0, 8), kind: Kind.File, size: file.length - 2 }] });
    await peer.send({ type: FrameType.Item, id, encoding: 0, data: file });
    const r = await peer.closed;
    const last = r.frames.at(-1)!;
    expect(last.type).toBe(FrameType.Error);
    expect(last).toMatchObject({ code: 7 });
    expect((last as { message: string }).message).toMatch(/refused item .*"pub\.x".*may not write/);
    expect(snapshotDb(serverDb).all.has(toHex(id))).toBe(false);
  });
});

describe('the permissions file', () => {
  it("the server's own key may do anything, even with no rule for it", async () => {
    const db = newDbPath('netsync-sec-owner-');
    const s = await secureClient({ db, port: srv.port, patterns: ['*'], direction: 'pull' }, owner);
    expect(sorted(snapshotDb(db).branches.keys())).toEqual(['a.x', 'b.y', 'pub.x']);
    expect(s.refused).toBeUndefined();
    withStore(db, (st) => buildHistory(st, owner, 'c.z', { commits: 1, seed: 13 }));
    const push = await secureClient({ db, port: srv.port, patterns: ['c.*'], direction: 'push' }, owner);
    expect(push.itemsSent).toBeGreaterThan(0);
    expect(snapshotDb(serverDb).branches.has('c.z')).toBe(true);
  });

  it('an edit applies to the next session, without a restart; a broken file grants nothing', async () => {
    try {
      srv.setPermissions(`read ${fp(reader)} b.*\n`);
      const db = newDbPath('netsync-sec-edit-');
      await secureClient({ db, port: srv.port, patterns: ['*'], direction: 'pull' }, reader);
      expect(sorted(snapshotDb(db).branches.keys())).toEqual(['b.y']);

      const anon = newDbPath('netsync-sec-edit-anon-');
      await secureClient({ db: anon, port: srv.port, patterns: ['*'], direction: 'pull' }, 'anonymous');
      expect(snapshotDb(anon).branches.size).toBe(0); // the anonymous rule is gone

      srv.setPermissions(`read ${fp(reader)} a.* b.*\nread nobody-knows-this *\n`);
      const db2 = newDbPath('netsync-sec-edit2-');
      await secureClient({ db: db2, port: srv.port, patterns: ['*'], direction: 'pull' }, reader);
      expect(snapshotDb(db2).branches.size).toBe(0); // fail closed
      expect(srv.events.some((e) => e.type === 'permissions-error' && /line 2|:2:/.test(e.message))).toBe(true);
    } finally {
      srv.setPermissions(basePermissions());
    }
    const db3 = newDbPath('netsync-sec-edit3-');
    await secureClient({ db: db3, port: srv.port, patterns: ['*'], direction: 'pull' }, reader);
    expect(sorted(snapshotDb(db3).branches.keys())).toEqual(['a.x']);
  });
});
