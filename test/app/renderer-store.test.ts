import { describe, expect, it } from 'vitest';
import { type ApiError, err, ok } from '../../src/shared/api.js';
import type { DiffSide } from '../../src/shared/sync.js';
import { fakeClient, progress, summary } from './fake-client.js';
import { applyEvent, connectEvents, createAppStore } from '../../src/renderer/store/app-store.js';
import { groupDiffByBranch, remainingSide, throughput, transferStats } from '../../src/renderer/store/selectors.js';
import { rowList, rowListKey } from '../../src/renderer/store/slices/diff-rows.js';
import type { PeerLive } from '../../src/renderer/store/slices/peers.js';
import { MAX_SAMPLES } from '../../src/renderer/store/slices/transfers.js';
import { peerVerdict } from '../../src/renderer/store/verdict.js';

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

  it("measures progress in items, and keeps the items' size and the bytes on the wire apart", () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    // Everything arrived: 647 items of 3.5 MiB, compressed to 2.0 MiB on the wire. The bar is full, not at 58%.
    const all = { items: 647, bytes: 2 * 1024 * 1024, totalItems: 647, totalBytes: 3.5 * 1024 * 1024 };
    applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(1, { elapsedMs: 500, received: all }) });
    expect(transferStats(store.getState().transfers.byId.s1!)).toMatchObject({ fraction: 1, received: all });
    // A first clone learns its size only at the end: still measured in items.
    const clone = { items: 250, bytes: 256_000, totalItems: 1000, totalBytes: 0 };
    applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(2, { elapsedMs: 600, received: clone, rate: 4000 }) });
    expect(transferStats(store.getState().transfers.byId.s1!)).toMatchObject({ fraction: 0.25, rate: 4000 });
  });

  it('keeps a bounded throughput history and derives the rate, and the ETA from the pace in items', () => {
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
    // 4 items a second, 710 items to go.
    expect(st.etaMs).toBeCloseTo(((1000 - 290) / 4) * 1000);
    // Cancelled after moving 290 kB in 72.5 s: the average of what moved, not 0 B/s.
    applyEvent(store, { type: 'session-finished', sessionId: 's1', peerId: 'p1', error: { code: 'cancelled', message: 'Cancelled.' } });
    expect(transferStats(store.getState().transfers.byId.s1!)).toMatchObject({ phase: 'cancelled', running: false, etaMs: null, rate: 4000 });
  });

  it('keeps the start and the end of a session shorter than one sample interval, so its chart has a rate', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    for (const [seq, ms, bytes] of [
      [1, 0, 0],
      [2, 60, 2000],
      [3, 120, 6000],
      [4, 180, 9000],
    ] as const) {
      applyEvent(store, {
        type: 'session-progress',
        sessionId: 's1',
        peerId: 'p1',
        progress: progress(seq, { elapsedMs: ms, sent: { items: seq, bytes, totalItems: 4, totalBytes: 9000 } }),
      });
    }
    const t = store.getState().transfers.byId.s1!;
    expect(t.samples.map((x) => x.t)).toEqual([0, 180]);
    expect(throughput(t.samples)).toEqual([{ t: 180, rate: 50_000 }]);
  });

  it('says round trips and index traffic are not counted yet while a session runs, rather than 0', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    applyEvent(store, {
      type: 'session-progress',
      sessionId: 's1',
      peerId: 'p1',
      progress: progress(1, { roundTrips: 0, reconBytesSent: 0, reconBytesReceived: 0 }),
    });
    expect(transferStats(store.getState().transfers.byId.s1!)).toMatchObject({ roundTrips: null, reconBytes: null });
  });

  it('reports a finished session from its summary: average rate, round trips, index bytes', () => {
    const store = createAppStore(fakeClient().client);
    applyEvent(store, { type: 'session-started', session });
    applyEvent(store, { type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(1, { roundTrips: 0 }) });
    applyEvent(store, {
      type: 'session-finished',
      sessionId: 's1',
      peerId: 'p1',
      summary: summary({ ms: 500, bytesSent: 1000, bytesReceived: 1000, roundTrips: 3 }),
    });
    expect(transferStats(store.getState().transfers.byId.s1!)).toMatchObject({
      phase: 'done',
      rate: 4000,
      roundTrips: 3,
      reconBytes: 220,
      elapsedMs: 500,
      fraction: 1,
    });
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
      addPeer: (input) =>
        (input as { name: string }).name === 'dup' ? err('usage', 'A peer named "dup" already exists.') : ok({ ...peer, id: 'p2', name: 'new' }),
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

const prompt = { id: 'q1', peerId: 'p1', peerName: 'lab', address: '127.0.0.1:1', fingerprint: 'ab'.repeat(32), expiresAt: '2026-01-01T00:02:00Z' };

describe('diff rows slice', () => {
  it('fetches a block once, keeps it under its session, side and branch, and shows a failure', async () => {
    let fail = false;
    const { client, calls } = fakeClient({
      diffItems: (_s, _side, offset) =>
        fail
          ? err('not-found', 'The rows of that comparison are no longer kept; compare again.')
          : ok({ total: 450, offset, items: [{ id: String(offset), kind: 'file', size: 1, branches: ['a'] }] }),
    });
    const store = createAppStore(client);
    await Promise.all([store.getState().loadDiffBlock('s1', 'weLack', null, 2), store.getState().loadDiffBlock('s1', 'weLack', null, 2)]);
    expect(calls.map((c) => c.args)).toEqual([['s1', 'weLack', 400, 200]]);
    const list = rowList(store.getState().diffRows, rowListKey('s1', 'weLack', null));
    expect(list).toMatchObject({ total: 450, loading: {}, error: null });
    expect(list.blocks[2]).toEqual([{ id: '400', kind: 'file', size: 1, branches: ['a'] }]);
    expect(rowList(store.getState().diffRows, rowListKey('s1', 'weLack', 'a')).total).toBeNull();

    fail = true;
    await store.getState().loadDiffBlock('gone', 'theyLack', 'a', 0);
    expect(rowList(store.getState().diffRows, rowListKey('gone', 'theyLack', 'a')).error).toBe(
      'The rows of that comparison are no longer kept; compare again.',
    );
  });

  it('keeps only the newest lists', async () => {
    const store = createAppStore(fakeClient({ diffItems: () => ok({ total: 1, offset: 0, items: [] }) }).client);
    for (let i = 0; i < 10; i++) await store.getState().loadDiffBlock(`s${i}`, 'weLack', null, 0);
    expect(store.getState().diffRows.order).toEqual(['s9', 's8', 's7', 's6', 's5', 's4'].map((id) => rowListKey(id, 'weLack', null)));
    expect(Object.keys(store.getState().diffRows.lists)).toHaveLength(6);
  });
});

describe('diff moves slice', () => {
  const peer = { id: 'p1', name: 'lab', address: '127.0.0.1:1', direction: 'sync' as const, include: ['*'], exclude: [] };
  const row = (id: string, branch: string, kind: 'file' | 'manifest' = 'file') => ({ id, kind, size: 10, branches: [branch] });
  const diff = summary({
    sessionId: 'd1',
    weLack: {
      count: 4,
      bytes: 40,
      groups: [
        { branch: 'a', kind: 'file', count: 3, bytes: 30 },
        { branch: 'b', kind: 'file', count: 1, bytes: 10 },
      ],
      items: [row('w1', 'a'), row('w2', 'a'), row('w3', 'a'), row('w4', 'b')],
    },
    theyLack: {
      count: 2,
      bytes: 20,
      groups: [{ branch: 'a', kind: 'manifest', count: 2, bytes: 20 }],
      items: [row('t1', 'a', 'manifest'), row('t2', 'a', 'manifest')],
    },
  });
  const sync = { sessionId: 's2', peerId: 'p1', direction: 'sync' as const, dryRun: false, startedAt: '2026-01-01T00:00:00Z' };

  async function withDiff() {
    const { client } = fakeClient({ listPeers: () => ok([peer]), diff: () => ok(diff) });
    const store = createAppStore(client);
    await store.getState().loadPeers();
    await store.getState().diffPeer('p1');
    applyEvent(store, { type: 'session-started', session: sync });
    return store;
  }

  it('ticks the rows of a batch and takes the same items off the counts of their groups', async () => {
    const store = await withDiff();
    applyEvent(store, {
      type: 'session-items',
      sessionId: 's2',
      peerId: 'p1',
      items: { seq: 1, sessionId: 's2', received: ['w1', 'w4', 'zz'], sent: ['t2'] },
      diff: {
        sessionId: 'd1',
        weLack: [
          { branch: 'a', kind: 'file', count: 1, bytes: 10 },
          { branch: 'b', kind: 'file', count: 1, bytes: 10 },
        ],
        theyLack: [{ branch: 'a', kind: 'manifest', count: 1, bytes: 10 }],
      },
    });
    const first = store.getState().diffMoves.d1!;
    applyEvent(store, {
      type: 'session-items',
      sessionId: 's2',
      peerId: 'p1',
      items: { seq: 2, sessionId: 's2', received: ['w2'], sent: [] },
      diff: { sessionId: 'd1', weLack: [{ branch: 'a', kind: 'file', count: 1, bytes: 10 }], theyLack: [] },
    });
    const moves = store.getState().diffMoves.d1!;
    // A new object per batch, so a view subscribed to it renders once per batch.
    expect(moves).not.toBe(first);
    expect(moves.version).toBe(2);
    expect([...moves.weLack.ids].sort()).toEqual(['w1', 'w2', 'w4', 'zz']);
    expect([...moves.theyLack.ids]).toEqual(['t2']);
    const weLack = remainingSide(diff.weLack, moves.weLack);
    expect(weLack).toMatchObject({ count: 1, bytes: 10 });
    expect(weLack.groups).toEqual([
      { branch: 'a', kind: 'file', count: 1, bytes: 10 },
      { branch: 'b', kind: 'file', count: 0, bytes: 0 },
    ]);
    // The rows still unticked are exactly what the counts say is left.
    expect(diff.weLack.items.filter((r) => !moves.weLack.ids.has(r.id))).toHaveLength(weLack.count);
    expect(remainingSide(diff.theyLack, moves.theyLack)).toMatchObject({ count: 1, groups: [{ count: 1, bytes: 10 }] });
    expect(groupDiffByBranch(weLack).map((g) => [g.branch, g.count])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
  });

  it('ignores batches that do not name the diff shown for the peer', async () => {
    const store = await withDiff();
    const before = store.getState().diffMoves;
    applyEvent(store, { type: 'session-items', sessionId: 's2', peerId: 'p1', items: { seq: 1, sessionId: 's2', received: ['w1'], sent: [] } });
    applyEvent(store, {
      type: 'session-items',
      sessionId: 's2',
      peerId: 'p1',
      items: { seq: 2, sessionId: 's2', received: ['w1'], sent: [] },
      diff: { sessionId: 'old', weLack: [], theyLack: [] },
    });
    expect(store.getState().diffMoves).toBe(before);
  });

  it('says why pending rows did not move when the sync ends early, and forgets it after a sync that finishes', async () => {
    const store = await withDiff();
    applyEvent(store, { type: 'session-finished', sessionId: 's2', peerId: 'p1', error: { code: 'bad-item', message: 'Refused a bad item from the peer.' } });
    expect(store.getState().diffMoves.d1!.stopped).toBe('failed-verification');
    applyEvent(store, { type: 'session-started', session: { ...sync, sessionId: 's3' } });
    applyEvent(store, { type: 'session-finished', sessionId: 's3', peerId: 'p1', error: { code: 'cancelled', message: 'Cancelled.' } });
    expect(store.getState().diffMoves.d1!.stopped).toBe('peer-gone');
    applyEvent(store, { type: 'session-started', session: { ...sync, sessionId: 's4' } });
    applyEvent(store, {
      type: 'session-finished',
      sessionId: 's4',
      peerId: 'p1',
      error: { code: 'protocol', message: 'The server closed the connection before the session finished.' },
    });
    expect(store.getState().diffMoves.d1!.stopped).toBe('peer-gone');
    // A dry run that fails says nothing about the rows of a sync.
    applyEvent(store, { type: 'session-started', session: { ...sync, sessionId: 's5', dryRun: true } });
    applyEvent(store, { type: 'session-finished', sessionId: 's5', peerId: 'p1', error: { code: 'bad-item', message: 'x' } });
    expect(store.getState().diffMoves.d1!.stopped).toBe('peer-gone');
    applyEvent(store, { type: 'session-started', session: { ...sync, sessionId: 's6' } });
    applyEvent(store, { type: 'session-finished', sessionId: 's6', peerId: 'p1', summary: summary({ dryRun: false }) });
    expect(store.getState().diffMoves.d1!.stopped).toBeNull();
  });
});

describe('trust slice', () => {
  it('queues first-contact questions, answers them, and notes one that closed elsewhere', async () => {
    let open = true;
    const { client, emit, calls } = fakeClient({ answerServerPrompt: () => ok(open) });
    const store = createAppStore(client);
    connectEvents(store, client);
    emit({ type: 'confirm-server', prompt });
    emit({ type: 'confirm-server', prompt });
    emit({ type: 'confirm-server', prompt: { ...prompt, id: 'q2' } });
    expect(store.getState().trust.prompts.map((p) => p.id)).toEqual(['q1', 'q2']);
    await store.getState().answerPrompt('q1', true);
    expect(calls.at(-1)?.args).toEqual(['q1', true]);
    expect(store.getState().trust.prompts.map((p) => p.id)).toEqual(['q2']);
    open = false;
    await store.getState().answerPrompt('q2', false);
    expect(store.getState().trust.closedNote).toMatch(/^That question had already closed/);
    emit({ type: 'confirm-server-closed', promptId: 'q9', outcome: 'timeout' }); // not ours: no note change
    store.getState().dismissTrustNote();
    expect(store.getState().trust.closedNote).toBeNull();
  });
});

describe('identity slice', () => {
  it('unlocks a key and then starts the server it was refused for', async () => {
    let unlocked = false;
    const running = { running: true, host: '0.0.0.0', port: 4691, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 };
    const { client, calls } = fakeClient({
      startServer: () => (unlocked ? ok(running) : { ok: false, error: { code: 'key-locked', message: 'Key "srv" is locked.', key: 'srv' } }),
      unlockKey: () => ((unlocked = true), ok({ active: { kind: 'key', name: 'srv' }, chosen: true, unlocked: ['srv'] })),
    });
    const store = createAppStore(client);
    await store.getState().startServer();
    expect(store.getState().identity.unlock).toEqual({ key: 'srv', retry: { kind: 'serve' }, busy: false, error: null });
    expect(await store.getState().submitPassphrase('pass')).toBe(true);
    expect(calls.find((c) => c.method === 'unlockKey')?.args).toEqual(['srv', 'pass']);
    expect(store.getState().identity.unlock).toBeNull();
    expect(store.getState().server.status.running).toBe(true);
    expect(store.getState().identity.status?.unlocked).toEqual(['srv']);
  });
});

describe('server slice: permissions', () => {
  it('keeps unsaved edits when the file is read again, and takes the refused lines from the error', async () => {
    const file = { path: '/c/permissions', text: 'read * a\n', exists: true, rules: 1 };
    const { client } = fakeClient({
      getPermissions: () => ok(file),
      setPermissions: () => ({
        ok: false,
        error: {
          code: 'bad-permissions',
          message: 'The permissions were not saved: line 1: no branch pattern after who the rule is for.',
          lines: [{ line: 1, message: 'no branch pattern after who the rule is for' }],
        },
      }),
    });
    const store = createAppStore(client);
    await store.getState().loadPermissions();
    expect(store.getState().server.permissions.text).toBe('read * a\n');
    store.getState().editPermissions('read *');
    await store.getState().loadPermissions();
    expect(store.getState().server.permissions.text).toBe('read *');
    expect(await store.getState().savePermissions()).toBe(false);
    expect(store.getState().server.permissions.problems).toEqual([{ line: 1, message: 'no branch pattern after who the rule is for' }]);
  });
});

describe('peer verdict', () => {
  const base = { dryRun: true, direction: 'sync' as const };
  const side = (count: number) => ({ count, bytes: count, groups: [], items: [] });
  const verdict = (over: Parameters<typeof summary>[0], live: PeerLive = { state: 'done' }) => peerVerdict({}, live, summary({ ...base, ...over }));

  it('reads "Up to date" only with nothing left either way and nothing refused', () => {
    expect(verdict({})).toMatchObject({ label: 'Up to date', tone: 'ok', notes: [] });
    expect(verdict({ weLack: side(2), theyLack: side(1) })).toMatchObject({ label: 'Differs', notes: ['2 items to fetch, 1 item to send.'] });
    // A read-only push finds nothing to send (the server wants nothing) and is still not up to date.
    expect(verdict({ dryRun: false, direction: 'push', refused: [{ branch: 'org.a', reason: 'read-only' }] })).toMatchObject({
      label: 'Blocked',
      tone: 'blocked',
    });
    expect(verdict({ dryRun: false, direction: 'push', weLack: side(4) })).toMatchObject({
      label: 'Differs',
      notes: ['We lack 4 items they have: not fetched, as this peer is set to Push.'],
    });
    expect(verdict({ dryRun: false, weLack: side(4), theyLack: side(4) })).toMatchObject({ label: 'Up to date' });
    expect(verdict({ dryRun: false, converged: false })).toMatchObject({ label: 'Still differs' });
  });

  it('falls back on the remembered last session, and shows live states first', () => {
    const last = {
      at: '2026-01-01T00:00:00Z',
      dryRun: false,
      direction: 'pull' as const,
      itemsSent: 0,
      itemsReceived: 3,
      bytesSent: 0,
      bytesReceived: 30,
      weLack: 3,
      theyLack: 2,
    };
    expect(peerVerdict({ last }, { state: 'idle' }, undefined)).toMatchObject({
      label: 'Differs',
      notes: ['They lack 2 items we have: not sent, as this peer is set to Pull.'],
    });
    expect(peerVerdict({ last: { ...last, weLack: undefined, theyLack: undefined } }, { state: 'idle' }, undefined)).toMatchObject({ label: 'Idle' });
    expect(peerVerdict({ last }, { state: 'refining' }, undefined)).toMatchObject({ label: 'Comparing index trees…', tone: 'running' });
    expect(peerVerdict({ last }, { state: 'error' }, undefined)).toMatchObject({ label: 'Failed' });
  });

  it('never reads "Up to date" after a sync that ended early with something left to move', () => {
    const upToDate = summary({ dryRun: false });
    expect(peerVerdict({}, { state: 'done' }, upToDate)).toMatchObject({ label: 'Up to date' });
    const badItem: ApiError = { code: 'bad-item', message: 'Refused a bad item from the peer.' };
    expect(peerVerdict({}, { state: 'error', error: badItem }, upToDate)).toMatchObject({ label: 'Blocked', tone: 'blocked' });
    expect(peerVerdict({}, { state: 'error', error: { code: 'protocol', message: 'Gone.' } }, upToDate)).toMatchObject({ label: 'Failed' });
    expect(peerVerdict({}, { state: 'cancelled' }, upToDate)).toMatchObject({ label: 'Cancelled' });
    // After a restart only the remembered last session is left.
    const last = {
      at: '2026-01-01T00:00:00Z',
      dryRun: false,
      direction: 'sync' as const,
      itemsSent: 0,
      itemsReceived: 3,
      bytesSent: 0,
      bytesReceived: 30,
      error: badItem,
    };
    expect(peerVerdict({ last }, { state: 'idle' }, undefined)).toMatchObject({ label: 'Blocked' });
    expect(peerVerdict({ last: { ...last, error: { code: 'protocol', message: 'Gone.' } } }, { state: 'idle' }, undefined)).toMatchObject({ label: 'Failed' });
  });
});

describe('boot', () => {
  it('opens the default database when the host has none open, then loads everything', async () => {
    const stopped = { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 };
    const db = { path: '/data/a.db', items: 3, branches: 1 };
    let open = false;
    const { client, calls } = fakeClient({
      getStatus: () => ok({ database: open ? db : null, configDir: '/c', server: stopped, sessions: [], prompts: [prompt], version: '0.1.0' }),
      openDatabase: () => ((open = true), ok(db)),
      listBranches: () => ok([{ name: 'org.example', items: 3, root: 'ab' }]),
      listPeers: () => ok([]),
      listKeys: () => ok([]),
      getIdentity: () => ok({ active: { kind: 'anonymous' }, chosen: false, unlocked: [] }),
    });
    const store = createAppStore(client);
    await store.getState().boot();
    // A first-contact question asked before the page loaded is shown again.
    expect(store.getState().trust.prompts).toEqual([prompt]);
    expect(store.getState().identity.status?.active).toEqual({ kind: 'anonymous' });
    expect(calls.map((c) => c.method)).toContain('openDatabase');
    expect(store.getState().collection.database).toEqual(db);
    expect(store.getState().collection.branches.map((b) => b.name)).toEqual(['org.example']);
    expect(store.getState().ui.bootError).toBeNull();
  });
});
