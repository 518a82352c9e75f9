import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { diffRows, progress, setupService, summary } from '../helpers/service.js';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import type { ClientOptions, RunningServer, ServerOptions } from '../../src/engine/protocol/api.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';
import { NetsyncService, type ServiceOptions } from '../../src/engine/service/service.js';

function setup(engine: ServiceOptions['engine'] = {}) {
  return setupService(engine);
}

describe('NetsyncService', () => {
  it('refuses collection calls until a database is open, then creates one', async () => {
    const { service, dir } = setup();
    expect(await service.listBranches()).toEqual({ ok: false, error: { code: 'db-missing', message: 'No database is open; open or create one first.' } });
    const opened = await service.openDatabase();
    expect(opened).toMatchObject({ ok: true, value: { path: join(dir, 'data', 'a.db'), items: 0, branches: 0 } });
    expect(await service.listBranches()).toEqual({ ok: true, value: [] });
    const status = await service.getStatus();
    expect(status.ok && status.value.database?.path).toBe(join(dir, 'data', 'a.db'));
  });

  it('reads branches, logs, manifests and checks out', async () => {
    const { service, dir } = setup();
    const db = join(dir, 'c.db');
    const keys = new KeyStore(join(dir, 'config', 'keys'));
    const pair = keys.generate('alice@example.org');
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'docs'), { recursive: true });
    writeFileSync(join(tree, 'README'), 'hello\n');
    writeFileSync(join(tree, 'docs', 'guide.txt'), 'guide\n');
    const store = WriteStore.open(db, { create: true });
    const committed = await commitDirectory(store, tree, { branch: 'org.example.demo', message: 'first', signer: { name: 'alice@example.org', pair } });
    store.close();

    expect((await service.openDatabase(db)).ok).toBe(true);
    const branches = await service.listBranches();
    expect(branches.ok && branches.value.map((b) => b.name)).toEqual(['org.example.demo']);
    const log = await service.log('org.example.demo');
    expect(log.ok && log.value[0]).toMatchObject({ manifest: committed.manifest, changelog: 'first' });
    expect(log.ok && log.value[0]!.certs.every((c) => c.signer === 'alice@example.org')).toBe(true);
    const shown = await service.show(committed.manifest.slice(0, 12));
    expect(shown.ok && shown.value.kind === 'manifest' && shown.value.entries.map((e) => `${e.type} ${e.path}`)).toEqual([
      'file README',
      'dir docs',
      'file docs/guide.txt',
    ]);
    expect(await service.log('org.nope')).toMatchObject({ ok: false, error: { code: 'not-found' } });

    const out = join(dir, 'out');
    const co = await service.checkout('org.example.demo', out);
    expect(co).toMatchObject({ ok: true, value: { files: 2, dirs: 1 } });
    expect(readFileSync(join(out, 'docs', 'guide.txt'), 'utf8')).toBe('guide\n');
    expect(await service.checkout('org.example.demo', 'relative/dir')).toMatchObject({ ok: false, error: { code: 'usage' } });

    const keysList = await service.listKeys();
    expect(keysList.ok && keysList.value).toEqual([expect.objectContaining({ name: 'alice@example.org', hasPrivate: true, inDatabase: true })]);
  });

  it('remembers peers, their direction and patterns, in a private file', async () => {
    const { service, dir } = setup();
    const added = await service.addPeer({ name: 'lab', address: 'lab.example.org' });
    if (!added.ok) throw new Error(added.error.message);
    expect(added.value).toMatchObject({ direction: 'sync', include: ['*'], exclude: [] });
    expect(await service.addPeer({ name: 'lab', address: 'x' })).toMatchObject({ ok: false, error: { code: 'usage' } });
    await service.updatePeer(added.value.id, { direction: 'pull', include: ['org.example.*'], exclude: ['org.example.secret*'] });

    const again = new NetsyncService({ configDir: join(dir, 'config') });
    const peers = await again.listPeers();
    expect(peers.ok && peers.value).toEqual([
      expect.objectContaining({ name: 'lab', direction: 'pull', include: ['org.example.*'], exclude: ['org.example.secret*'] }),
    ]);
    expect(statSync(join(dir, 'config', 'peers.json')).mode & 0o777).toBe(0o600);
    expect((await again.removePeer(added.value.id)).ok).toBe(true);
    expect(await again.listPeers()).toEqual({ ok: true, value: [] });
  });

  it('runs a session with the peer’s direction and patterns, forwarding progress', async () => {
    const seen: ClientOptions[] = [];
    const { service, events } = setup({
      runClientSession: async (opts) => {
        seen.push(opts);
        opts.onProgress?.(progress(1, 'connecting'));
        opts.onProgress?.(progress(2, 'refining'));
        opts.onProgress?.(progress(3, 'done'));
        return summary(opts, 3);
      },
    });
    await service.openDatabase();
    const peer = await service.addPeer({ name: 'lab', address: '127.0.0.1:9999' });
    if (!peer.ok) throw new Error('no peer');
    await service.updatePeer(peer.value.id, { direction: 'push', exclude: ['secret*'] });

    const r = await service.sync(peer.value.id);
    expect(r.ok).toBe(true);
    expect(seen[0]).toMatchObject({
      host: '127.0.0.1',
      port: 9999,
      direction: 'push',
      dryRun: false,
      patterns: ['*', '!secret*'],
      configDir: expect.stringMatching(/config$/),
    });
    const types = events.map((e) => (e.type === 'peer-status' ? `peer:${e.state}` : e.type));
    expect(types).toEqual([
      'collection-changed',
      'session-started',
      'peer:connecting',
      'session-progress',
      'session-progress',
      'peer:refining',
      'session-progress',
      'session-finished',
      'peer:done',
      // No collection-changed: the fake engine stored nothing, and only a change of the database is told (store/collection-watch.ts).
    ]);
    const peers = await service.listPeers();
    expect(peers.ok && peers.value[0]!.last).toMatchObject({ dryRun: false, itemsReceived: 3 });
  });

  it("forwards batches of moved ids with what each took off the peer's latest diff, from that diff's own rows", async () => {
    const weLack = diffRows(6, ['org.a', 'org.b']);
    const theyLack = diffRows(3, ['org.a']).map((r) => ({ ...r, id: `f${r.id.slice(1)}`, kind: 'manifest' as const }));
    const { service, events } = setup({
      runClientSession: async (opts) => {
        if (opts.dryRun)
          return summary(opts, 0, {
            weLack: { count: 6, bytes: 60, groups: [], items: weLack },
            theyLack: { count: 3, bytes: 30, groups: [], items: theyLack },
          });
        // Ids the diff never listed (the peer gained them since) are forwarded too, but take nothing off.
        opts.onItems?.({ seq: 1, sessionId: 'engine-1', received: [weLack[0]!.id, weLack[1]!.id, 'aaaaaaaaaaaaaaaa'], sent: [theyLack[2]!.id] });
        opts.onItems?.({ seq: 2, sessionId: 'engine-1', received: [weLack[2]!.id], sent: [] });
        return summary(opts, 4);
      },
    });
    await service.openDatabase();
    const peer = await service.addPeer({ name: 'lab', address: '127.0.0.1:9999' });
    if (!peer.ok) throw new Error('no peer');
    const diff = await service.diff(peer.value.id);
    if (!diff.ok) throw new Error(diff.error.message);
    const synced = await service.sync(peer.value.id);
    if (!synced.ok) throw new Error(synced.error.message);
    const batches = events.flatMap((e) => (e.type === 'session-items' ? [e] : []));
    expect(batches.map((b) => b.items.seq)).toEqual([1, 2]);
    const started = events.flatMap((e) => (e.type === 'session-started' ? [e.session.sessionId] : []));
    expect(batches.every((b) => b.sessionId === started[1] && b.items.sessionId === started[1])).toBe(true);
    expect(batches[0]!.items.received).toHaveLength(3);
    expect(batches[0]!.diff).toEqual({
      sessionId: diff.value.sessionId,
      weLack: [
        { branch: 'org.a', kind: 'file', count: 1, bytes: 10 },
        { branch: 'org.b', kind: 'file', count: 1, bytes: 10 },
      ],
      theyLack: [{ branch: 'org.a', kind: 'manifest', count: 1, bytes: 10 }],
    });
    expect(batches[1]!.diff).toEqual({ sessionId: diff.value.sessionId, weLack: [{ branch: 'org.a', kind: 'file', count: 1, bytes: 10 }], theyLack: [] });
  });

  it('cancels a running session and reports a clear error for a failed one', async () => {
    const { service, events } = setup({
      runClientSession: (opts) =>
        new Promise((_resolve, reject) => {
          if (opts.port === 1) return reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
          opts.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    await service.openDatabase();
    const slow = await service.addPeer({ name: 'slow', address: 'slow.example:4691' });
    const down = await service.addPeer({ name: 'down', address: '127.0.0.1:1' });
    if (!slow.ok || !down.ok) throw new Error('no peer');

    const failed = await service.diff(down.value.id);
    expect(failed).toEqual({
      ok: false,
      error: { code: 'unreachable', message: "Nothing is listening at 127.0.0.1:1 (connection refused); is the peer's server running?" },
    });

    const running = service.sync(slow.value.id);
    const started = await vi.waitFor(() => {
      const e = events.find((e) => e.type === 'session-started' && e.session.peerId === slow.value.id);
      if (!e) throw new Error('not yet');
      return e;
    });
    if (started.type !== 'session-started') throw new Error('not started');
    expect(await service.sync(slow.value.id)).toMatchObject({ ok: false, error: { code: 'busy' } });
    expect(await service.cancel(started.session.sessionId)).toEqual({ ok: true, value: true });
    expect(await running).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(await service.cancel(started.session.sessionId)).toEqual({ ok: true, value: false });
  });

  it('starts and stops the server, keeping its status from the engine’s events', async () => {
    let closed = false;
    const { service, events } = setup({
      startServer: async (opts: ServerOptions): Promise<RunningServer> => {
        opts.onEvent?.({ type: 'listening', host: opts.host, port: 5555 });
        setTimeout(() => {
          opts.onEvent?.({ type: 'session-start', sessionId: 's1', remote: '10.1.1.1:5000' });
          opts.onEvent?.({ type: 'session-end', sessionId: 's1', remote: '10.1.1.1:5000', client: 'anonymous', itemsSent: 4, itemsReceived: 2 });
        }, 1);
        return {
          host: opts.host,
          port: 5555,
          stats: () => ({ connected: 0, sessions: 0, itemsSent: 0, itemsReceived: 0 }),
          close: async () => void (closed = true),
        };
      },
    });
    expect(await service.startServer({ bind: '127.0.0.1:0', patterns: [] })).toMatchObject({ ok: false, error: { code: 'db-missing' } });
    await service.openDatabase();
    // A server proves who it is with a key: none yet is a clear refusal, not a crash in the engine.
    expect(await service.startServer({ bind: '127.0.0.1:0', patterns: [] })).toMatchObject({
      ok: false,
      error: { code: 'key', message: expect.stringMatching(/needs a key.*Identity/) },
    });
    const key = await service.generateKey('srv@example.org');
    if (!key.ok) throw new Error(key.error.message);
    const started = await service.startServer({ bind: '127.0.0.1:0', patterns: ['org.*'] });
    expect(started).toMatchObject({
      ok: true,
      value: { running: true, host: '127.0.0.1', port: 5555, patterns: ['org.*'], identity: { name: 'srv@example.org', fingerprint: key.value.fingerprint } },
    });
    expect(await service.startServer({ bind: '127.0.0.1:0', patterns: [] })).toMatchObject({ ok: false, error: { code: 'busy' } });
    await new Promise((r) => setTimeout(r, 10));
    expect(await service.serverStatus()).toMatchObject({ ok: true, value: { sessions: 1, itemsSent: 4, itemsReceived: 2, connections: [] } });
    expect(await service.stopServer()).toMatchObject({ ok: true, value: { running: false } });
    expect(closed).toBe(true);
    expect(events.filter((e) => e.type === 'server-status').length).toBeGreaterThanOrEqual(4);
  });

  it('generates a key and stores its public half in the open database', async () => {
    const { service } = setup();
    await service.openDatabase();
    const key = await service.generateKey('bob@example.org', 'correct horse');
    expect(key).toMatchObject({ ok: true, value: { name: 'bob@example.org', hasPrivate: true, encrypted: true, inDatabase: true } });
    expect(await service.generateKey('bob@example.org')).toMatchObject({ ok: false, error: { code: 'key' } });
  });
});
