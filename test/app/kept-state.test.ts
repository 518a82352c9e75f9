/**
 * What the app keeps in its config folder, not in the database (which
 * syncs): the last 100 sessions for the Transfers screen, and the keys of
 * clients that connected to its server, for the permissions picker.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningServer, ServerOptions } from '../../src/engine/protocol/api.js';
import { ClientBook, knownKeys } from '../../src/engine/service/known-keys.js';
import { NetsyncService } from '../../src/engine/service/service.js';
import { KEEP_TRANSFERS, TransferLog } from '../../src/engine/service/transfer-log.js';
import { createAppStore } from '../../src/renderer/store/app-store.js';
import { type KeyInfo, type TransferRecord, err, ok } from '../../src/shared/api.js';
import { diffRows, progress, setupService, summary } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';
import { fakeClient, summary as finished } from './fake-client.js';

const FP_A = 'aa'.repeat(32);
const FP_B = 'bb'.repeat(32);
const grouped = (hex: string) => hex.match(/.{4}/g)!.join(' ');

describe('sessions kept for the Transfers screen', () => {
  it('keeps each ended session with its figures and outcome, across a restart, without its rows', async () => {
    let fail = false;
    const { service, configDir } = setupService({
      runClientSession: async (opts) => {
        opts.onProgress?.({ ...progress(1, 'transferring'), received: { items: 2, bytes: 20, totalItems: 6, totalBytes: 60 } });
        if (fail) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
        return summary(opts, 6, {
          weLack: { count: 6, bytes: 60, groups: [{ branch: 'org.a', kind: 'file', count: 6, bytes: 60 }], items: diffRows(6, ['org.a']) },
        });
      },
    });
    await service.openDatabase();
    const peer = await service.addPeer({ name: 'lab', address: '127.0.0.1:9' });
    if (!peer.ok) throw new Error(peer.error.message);
    expect((await service.sync(peer.value.id)).ok).toBe(true);
    fail = true;
    expect((await service.diff(peer.value.id)).ok).toBe(false);
    await service.removePeer(peer.value.id);

    // Another run of the app, same config folder.
    const again = new NetsyncService({ configDir });
    const kept = await again.listTransfers();
    if (!kept.ok) throw new Error(kept.error.message);
    const [failed, synced] = kept.value;
    expect(failed).toMatchObject({ info: { dryRun: true }, peerName: 'lab', address: '127.0.0.1:9', error: { code: 'unreachable' } });
    expect(failed!.error!.message).toMatch(/is the peer's server running\?$/);
    expect(synced).toMatchObject({
      info: { dryRun: false, direction: 'sync', peerId: peer.value.id },
      peerName: 'lab',
      progress: { received: { items: 2, totalItems: 6 } },
      summary: { itemsReceived: 6, weLack: { count: 6, bytes: 60, groups: [], items: [] } },
    });
    expect(Date.parse(synced!.endedAt)).toBeGreaterThanOrEqual(Date.parse(synced!.info.startedAt));
    expect(statSync(join(configDir, 'transfers.json')).mode & 0o777).toBe(0o600);
  });

  it('keeps the last 100, newest first', () => {
    const log = new TransferLog(join(tempDir(), 'transfers.json'));
    const record = (i: number): TransferRecord => ({
      info: { sessionId: `s${i}`, peerId: 'p', direction: 'sync', dryRun: true, startedAt: new Date(i * 1000).toISOString() },
      peerName: 'lab',
      address: 'h',
      endedAt: new Date(i * 1000 + 1).toISOString(),
      progress: null,
    });
    for (let i = 0; i < KEEP_TRANSFERS + 5; i++) log.add(record(i));
    const kept = new TransferLog(log.file).list();
    expect(kept).toHaveLength(KEEP_TRANSFERS);
    expect(kept[0]!.info.sessionId).toBe(`s${KEEP_TRANSFERS + 4}`);
    expect(kept.at(-1)!.info.sessionId).toBe('s5');
  });

  it('an unreadable history is said, not overwritten, and never fails a session', () => {
    const file = join(tempDir(), 'transfers.json');
    writeFileSync(file, '{ half a file');
    const log = new TransferLog(file);
    expect(() => log.list()).toThrow(/transfer history .* is unreadable .*; remove it to start a new one/);
    log.add({
      info: { sessionId: 's', peerId: 'p', direction: 'sync', dryRun: true, startedAt: '' },
      peerName: 'x',
      address: 'h',
      endedAt: '',
      progress: null,
    });
    expect(readFileSync(file, 'utf8')).toBe('{ half a file');
  });

  it('the window lists them after a reload, this page’s own sessions interleaved by start time', async () => {
    const kept: TransferRecord[] = [
      {
        info: { sessionId: 'k2', peerId: 'gone', direction: 'pull', dryRun: false, startedAt: '2026-11-30T10:02:00.000Z' },
        peerName: 'old lab',
        address: 'h',
        endedAt: '2026-11-30T10:02:01.000Z',
        progress: null,
        summary: finished({ sessionId: 'k2' }),
      },
      {
        info: { sessionId: 'k1', peerId: 'gone', direction: 'sync', dryRun: true, startedAt: '2026-11-30T10:00:00.000Z' },
        peerName: 'old lab',
        address: 'h',
        endedAt: '2026-11-30T10:00:01.000Z',
        progress: null,
        error: { code: 'unreachable', message: 'Nothing is listening.' },
      },
    ];
    const store = createAppStore(fakeClient({ listTransfers: () => ok(kept) }).client);
    store.getState().applySessionStarted({ sessionId: 'live', peerId: 'p', direction: 'sync', dryRun: true, startedAt: '2026-11-30T10:01:00.000Z' });
    await store.getState().loadTransfers();
    const { order, byId } = store.getState().transfers;
    expect(order).toEqual(['k2', 'live', 'k1']);
    expect(byId.k2).toMatchObject({ peer: { name: 'old lab' }, finished: { summary: { sessionId: 'k2' } }, samples: [] });
    expect(byId.k1!.finished?.error?.code).toBe('unreachable');
    expect(byId.live!.finished).toBeNull();

    const broken = createAppStore(fakeClient({ listTransfers: () => err('io', 'The transfer history is unreadable; remove it.') }).client);
    await broken.getState().loadTransfers();
    expect(broken.getState().transfers.error).toBe('The transfer history is unreadable; remove it.');
  });
});

describe('keys a permissions rule may name', () => {
  const key = (name: string, fingerprint: string, facts: Partial<KeyInfo>): KeyInfo => ({
    name,
    id: name,
    publicKey: '',
    hasPrivate: false,
    encrypted: false,
    inDatabase: false,
    fingerprint: grouped(fingerprint),
    exportText: '',
    trusted: false,
    ...facts,
  });

  it('one per fingerprint: own keys, then the database’s, then clients known only by fingerprint, newest first', () => {
    const keys = [key('bob@example.org', FP_B, { inDatabase: true }), key('alice@example.org', FP_A, { hasPrivate: true, inDatabase: true })];
    const clients = [
      { fingerprint: 'cc'.repeat(32), lastSeen: '2026-11-30T10:00:00Z' },
      { fingerprint: FP_B, lastSeen: '2026-11-30T09:00:00Z' },
      { fingerprint: 'dd'.repeat(32), lastSeen: '2026-11-30T11:00:00Z' },
    ];
    expect(knownKeys(keys, clients)).toEqual([
      { fingerprint: grouped(FP_A), name: 'alice@example.org', sources: ['own', 'database'] },
      { fingerprint: grouped(FP_B), name: 'bob@example.org', sources: ['database', 'client'], lastSeen: '2026-11-30T09:00:00Z' },
      { fingerprint: grouped('dd'.repeat(32)), name: null, sources: ['client'], lastSeen: '2026-11-30T11:00:00Z' },
      { fingerprint: grouped('cc'.repeat(32)), name: null, sources: ['client'], lastSeen: '2026-11-30T10:00:00Z' },
    ]);
  });

  it('the server remembers the keys of clients that began a session, not anonymous ones, across a restart', async () => {
    let emit: ServerOptions['onEvent'];
    const fakeServer = async (opts: ServerOptions): Promise<RunningServer> => {
      emit = opts.onEvent;
      return { host: opts.host, port: 4691, stats: () => ({ connected: 0, sessions: 0, itemsSent: 0, itemsReceived: 0 }), close: async () => undefined };
    };
    const { service, configDir } = setupService({ startServer: fakeServer });
    await service.openDatabase();
    await service.generateKey('srv@example.org');
    expect((await service.startServer({ bind: '127.0.0.1:4691', patterns: [] })).ok).toBe(true);
    emit!({ type: 'session-start', sessionId: 's1', remote: '10.0.0.5:5000', client: grouped(FP_B) });
    emit!({ type: 'session-start', sessionId: 's2', remote: '10.0.0.6:5000', client: 'anonymous' });

    const known = await new NetsyncService({ configDir, defaultDatabase: join(configDir, '..', 'data', 'a.db') }).listKnownKeys();
    if (!known.ok) throw new Error(known.error.message);
    expect(known.value.map((k) => [k.name, k.sources])).toEqual([
      ['srv@example.org', ['own']],
      [null, ['client']],
    ]);
    expect(known.value[1]!.fingerprint).toBe(grouped(FP_B));
    expect(new ClientBook(join(configDir, 'clients.json')).list().map((c) => c.fingerprint)).toEqual([FP_B]);
  });

  it('a client seen again within a minute is not written again', () => {
    const book = new ClientBook(join(tempDir(), 'clients.json'));
    const t0 = new Date('2026-11-30T10:00:00Z');
    book.seen(FP_A, t0);
    book.seen(grouped(FP_A), new Date(t0.getTime() + 30_000));
    expect(new ClientBook(book.file).list()).toEqual([{ fingerprint: FP_A, lastSeen: t0.toISOString() }]);
    book.seen(FP_A, new Date(t0.getTime() + 90_000));
    expect(new ClientBook(book.file).list()[0]!.lastSeen).toBe(new Date(t0.getTime() + 90_000).toISOString());
    book.seen('not a fingerprint');
    expect(new ClientBook(book.file).list()).toHaveLength(1);
  });
});
