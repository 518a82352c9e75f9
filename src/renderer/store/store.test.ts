import { describe, expect, it } from 'vitest';
import { err, ok } from '../../shared/api.js';
import type { DiffSide } from '../../shared/sync.js';
import { fakeClient, progress, summary } from '../test/fake-client.js';
import { applyEvent, connectEvents, createAppStore } from './app-store.js';
import { groupDiffByBranch, throughput, transferStats } from './selectors.js';
import { MAX_SAMPLES } from './slices/transfers.js';

const session = { sessionId: 's1', peerId: 'p1', direction: 'sync' as const, dryRun: false, startedAt: '2026-01-01T00:00:00Z' };

describe('transfers slice', () => {
  it('applies progress in order and counts a gap in the sequence numbers', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    const at = (seq: number, bytes: number) => progress(seq, { sent: { items: seq, bytes, totalItems: 10, totalBytes: 1000 }, elapsedMs: seq * 300 });
    for (const seq of [1, 2, 5, 6]) applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: at(seq, seq * 100) });
    const t = store.getState().transfers.byId.s1!;
    expect(t.last?.seq).toBe(6);
    expect(t.missed).toBe(2); // 3 and 4 never came
    expect(transferStats(t).missed).toBe(2);
  });

  it('ignores stale and duplicate events without touching the state', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(3) });
    const before = store.getState();
    applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(3) });
    applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(2) });
    expect(store.getState()).toBe(before);
    expect(store.getState().transfers.byId.s1!.missed).toBe(2); // 1 and 2 were missed before 3 arrived
  });

  it('keeps a bounded throughput history and derives rate and ETA', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    for (let seq = 1; seq <= MAX_SAMPLES + 50; seq++) {
      const p = progress(seq, { elapsedMs: seq * 250, received: { items: seq, bytes: seq * 1000, totalItems: 1000, totalBytes: 1_000_000 }, rate: 4000 });
      applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: p });
    }
    const t = store.getState().transfers.byId.s1!;
    expect(t.samples).toHaveLength(MAX_SAMPLES);
    expect(throughput(t.samples).every((x) => x.rate === 4000)).toBe(true);
    const st = transferStats(t);
    expect(st.rate).toBe(4000);
    expect(st.etaMs).toBeCloseTo(((1_000_000 - 290_000) / 4000) * 1000);
    applyEvent(store, { type: 'session-finished', sessionId: 's1', peerId: 'p1', error: { code: 'cancelled', message: 'Cancelled.' } });
    expect(transferStats(store.getState().transfers.byId.s1!)).toMatchObject({ phase: 'cancelled', running: false, etaMs: null, rate: 0 });
  });

  it('reports a finished session from its summary: average rate, round trips, index bytes', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(1, { roundTrips: 0 }) });
    applyEvent(store, { type: 'session-finished', sessionId: 's1', peerId: 'p1', summary: summary({ ms: 500, bytesSent: 1000, bytesReceived: 1000, roundTrips: 3 }) });
    expect(transferStats(store.getState().transfers.byId.s1!)).toMatchObject({ phase: 'done', rate: 4000, roundTrips: 3, reconBytes: 220, elapsedMs: 500, fraction: 1 });
  });

  it('records progress for a session whose start it missed', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-progress', sessionId: 'late', peerId: 'p9', progress: progress(4) });
    expect(store.getState().transfers.order).toEqual(['late']);
    expect(store.getState().transfers.byId.late).toMatchObject({ info: { peerId: 'p9' }, missed: 3 });
  });
});

describe('diff grouping', () => {
  it('groups one side by branch, largest first, kinds in a fixed order', () => {
    const side: DiffSide = {
      count: 6,
      bytes: 1700,
      items: [],
      groups: [
        { branch: 'org.a', kind: 'file', count: 2, bytes: 200 },
        { branch: 'org.b', kind: 'cert', count: 1, bytes: 100 },
        { branch: 'org.b', kind: 'file', count: 1, bytes: 1000 },
        { branch: 'org.a', kind: 'manifest', count: 1, bytes: 300 },
        { branch: 'org.b', kind: 'manifest', count: 1, bytes: 100 },
      ],
    };
    expect(groupDiffByBranch(side)).toEqual([
      {
        branch: 'org.b',
        count: 3,
        bytes: 1200,
        kinds: [
          { kind: 'manifest', count: 1, bytes: 100 },
          { kind: 'file', count: 1, bytes: 1000 },
          { kind: 'cert', count: 1, bytes: 100 },
        ],
      },
      {
        branch: 'org.a',
        count: 3,
        bytes: 500,
        kinds: [
          { kind: 'manifest', count: 1, bytes: 300 },
          { kind: 'file', count: 2, bytes: 200 },
        ],
      },
    ]);
  });
});

describe('peers slice', () => {
  const peer = { id: 'p1', name: 'lab', address: '127.0.0.1:1', direction: 'sync' as const, include: ['*'], exclude: [] };

  it('keeps the latest diff per peer and shows a failed one as one sentence', async () => {
    let fail = false;
    const { client, calls } = fakeClient({
      listPeers: () => ok([peer]),
      diff: () => (fail ? err('io', 'Cannot connect to 127.0.0.1:1: connection refused.') : ok(summary())),
    });
    const store = createAppStore(client);
    await store.getState().loadPeers();
    await store.getState().diffPeer('p1');
    expect(store.getState().peers.diffs.p1).toMatchObject({ roundTrips: 2 });
    expect(store.getState().peers.live.p1).toEqual({ state: 'done' });
    fail = true;
    await store.getState().diffPeer('p1');
    expect(store.getState().peers.live.p1).toEqual({ state: 'error', error: { code: 'io', message: 'Cannot connect to 127.0.0.1:1: connection refused.' } });
    expect(calls.filter((c) => c.method === 'diff')).toHaveLength(2);
  });

  it('shows why a peer could not be added, and adds it otherwise', async () => {
    const { client } = fakeClient({
      addPeer: (input) => ((input as { name: string }).name === 'dup' ? err('usage', 'A peer named "dup" already exists.') : ok({ ...peer, id: 'p2', name: 'new' })),
    });
    const store = createAppStore(client);
    expect(await store.getState().addPeer({ name: 'dup', address: 'h' })).toBe(false);
    expect(store.getState().peers.formError).toBe('A peer named "dup" already exists.');
    expect(await store.getState().addPeer({ name: 'new', address: 'h' })).toBe(true);
    expect(store.getState().peers.list.map((p) => p.name)).toEqual(['new']);
    expect(store.getState().peers.formError).toBeNull();
  });

  it('takes live state from peer-status events', () => {
    const { client, emit } = fakeClient();
    const store = createAppStore(client);
    connectEvents(store, client);
    emit({ type: 'peer-status', peerId: 'p1', state: 'refining' });
    expect(store.getState().peers.live.p1).toEqual({ state: 'refining', error: undefined });
  });
});

describe('boot', () => {
  it('opens the default database when the host has none open, then loads everything', async () => {
    const stopped = { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 };
    const db = { path: '/data/a.db', items: 3, branches: 1 };
    let open = false;
    const { client, calls } = fakeClient({
      getStatus: () => ok({ database: open ? db : null, configDir: '/c', server: stopped, sessions: [], version: '0.1.0' }),
      openDatabase: () => ((open = true), ok(db)),
      listBranches: () => ok([{ name: 'org.example', items: 3, root: 'ab' }]),
      listPeers: () => ok([]),
      listKeys: () => ok([]),
    });
    const store = createAppStore(client);
    await store.getState().boot();
    expect(calls.map((c) => c.method)).toContain('openDatabase');
    expect(store.getState().collection.database).toEqual(db);
    expect(store.getState().collection.branches.map((b) => b.name)).toEqual(['org.example']);
    expect(store.getState().ui.bootError).toBeNull();
  });
});
