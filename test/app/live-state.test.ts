/**
 * Live state (issue #19): the service tells every change of its database,
 * from any source, as `collection-changed` with the branches that changed;
 * the window refreshes what it shows, one refresh at a time however fast the
 * events come; saved peers are compared again on request or when the window
 * regains focus.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/engine/hash.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { applyEvent, createAppStore } from '../../src/renderer/store/app-store.js';
import { coalesced } from '../../src/renderer/store/coalesce.js';
import { RECHECK_AFTER_MS } from '../../src/renderer/store/slices/peers.js';
import { type LastSession, type NetsyncEvent, type Peer, ok } from '../../src/shared/api.js';
import { setupService } from '../helpers/service.js';
import { fixedSigner, putRandomRevision } from '../helpers/store.js';
import { fakeClient, summary } from './fake-client.js';

/** Resolves when a test's own gate is opened: a call held in flight. */
function gate() {
  let open = () => undefined as unknown;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open: () => open() };
}

describe('coalesced refreshes', () => {
  it('run one at a time: calls during a run make one more run, with their requests merged', async () => {
    const runs: string[][] = [];
    const first = gate();
    const refresh = coalesced<string[]>(
      async (names) => {
        runs.push(names);
        if (runs.length === 1) await first.opened;
      },
      (a, b) => [...a, ...b],
    );
    const a = refresh(['org.a']);
    void refresh(['org.b']);
    void refresh(['org.c']);
    first.open();
    await a;
    expect(runs).toEqual([['org.a'], ['org.b', 'org.c']]);
    await refresh(['org.d']);
    expect(runs).toEqual([['org.a'], ['org.b', 'org.c'], ['org.d']]);
  });

  it('leave a gap between the start of one run and the next, so a sync is not slowed by refreshes', async () => {
    const starts: number[] = [];
    const refresh = coalesced<null>(
      async () => {
        starts.push(Date.now());
      },
      () => null,
      300,
    );
    const first = refresh(null);
    void refresh(null);
    await first;
    expect(starts).toHaveLength(2);
    // Timers may fire late on a loaded machine, never early (a millisecond of rounding aside).
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(299);
    // Once idle, a request runs at once.
    const t = Date.now();
    await refresh(null);
    expect(starts[2]! - t).toBeLessThan(300);
  });
});

describe('the service tells changes of its database from any source', () => {
  it('a write through another connection (as the command line or a server makes) is told with the changed branch and its root', async () => {
    const { service, events } = setupService();
    const opened = await service.openDatabase();
    if (!opened.ok) throw new Error(opened.error.message);
    events.length = 0;
    const store = WriteStore.open(opened.value.path);
    putRandomRevision(store, fixedSigner(), 'org.example.other', [Buffer.from('written elsewhere')]);
    const branch = store.branches().find((b) => b.name === 'org.example.other')!;
    store.close();
    // The watch looks twice a second; the bound is generous for a loaded machine.
    const deadline = Date.now() + 10_000;
    const told = () => events.find((e): e is Extract<NetsyncEvent, { type: 'collection-changed' }> => e.type === 'collection-changed');
    while (!told() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(told()).toEqual({ type: 'collection-changed', branches: [{ name: 'org.example.other', items: branch.items, root: toHex(branch.root), heads: 1 }] });
    await service.dispose();
  });

  it('its own writes are told at once (a key imported), and nothing is told when nothing changed', async () => {
    const { service, events } = setupService();
    await service.openDatabase();
    const made = await service.generateKey('alice@example.org');
    if (!made.ok) throw new Error(made.error.message);
    // The key item is outside every branch: the database changed, no branch did.
    expect(events.filter((e) => e.type === 'collection-changed').at(-1)).toEqual({ type: 'collection-changed', branches: [] });
    const before = events.length;
    await service.listBranches();
    await new Promise((r) => setTimeout(r, 1200));
    expect(events.slice(before).filter((e) => e.type === 'collection-changed')).toEqual([]);
    await service.dispose();
  });
});

describe('the window follows collection-changed', () => {
  const branches = [
    { name: 'org.a', items: 3, root: 'aa' },
    { name: 'org.b', items: 5, root: 'bb' },
  ];

  function setup() {
    const fake = fakeClient({
      getStatus: () => ok({ database: { path: '/d.db', items: 8, branches: 2 }, configDir: '/c', server: {}, sessions: [], prompts: [], version: '0' }),
      listBranches: () => ok(branches),
      log: () => ok([]),
      listKeys: () => ok([]),
      getIdentity: () => ok({ active: null, chosen: false, unlocked: [] }),
    });
    const store = createAppStore(fake.client);
    const count = (method: string) => fake.calls.filter((c) => c.method === method).length;
    return { store, count, fake };
  }

  it("reads the shown branch's log again only when that branch changed", async () => {
    const { store, count } = setup();
    await store.getState().selectBranch('org.a');
    const logs = count('log');
    await store.getState().refreshCollection(['org.b']);
    expect(count('log')).toBe(logs);
    expect(store.getState().collection.database?.items).toBe(8);
    await store.getState().refreshCollection(['org.a']);
    expect(count('log')).toBe(logs + 1);
    // Anything may have changed (another database opened): the log too.
    await store.getState().refreshCollection();
    expect(count('log')).toBe(logs + 2);
  });

  it('a burst of events during a sync reads the branches a few times, not once per event', async () => {
    const { store, count } = setup();
    for (let i = 0; i < 50; i++) applyEvent(store, { type: 'collection-changed', branches: [branches[i % 2]!] });
    await store.getState().refreshCollection([]);
    expect(count('listBranches')).toBeLessThanOrEqual(3);
    expect(count('listKeys')).toBeLessThanOrEqual(3);
  });
});

describe('saved peers compared again', () => {
  const base = { address: '127.0.0.1:1', direction: 'sync' as const, include: ['*'], exclude: [] };
  const went = (ago: number, error = false): LastSession => ({
    at: new Date(Date.now() - ago).toISOString(),
    dryRun: true,
    direction: 'sync',
    itemsSent: 0,
    itemsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    weLack: 0,
    theyLack: 0,
    ...(error ? { error: { code: 'unreachable', message: 'Nothing is listening.' } } : {}),
  });
  const peers: Peer[] = [
    { ...base, id: 'old', name: 'old', last: went(RECHECK_AFTER_MS * 4) },
    { ...base, id: 'fresh', name: 'fresh', last: went(0) },
    { ...base, id: 'failed', name: 'failed', last: went(RECHECK_AFTER_MS * 4, true) },
    { ...base, id: 'never', name: 'never' },
    { ...base, id: 'none', name: 'none', include: [] },
  ];

  function setup() {
    const fake = fakeClient({ listPeers: () => ok(peers), diff: () => ok(summary()) });
    const store = createAppStore(fake.client);
    const diffed = () => fake.calls.filter((c) => c.method === 'diff').map((c) => c.args[0]);
    return { store, diffed };
  }

  it('on focus: only peers whose last session went well and is not fresh', async () => {
    const { store, diffed } = setup();
    await store.getState().loadPeers();
    await store.getState().recheckPeers('focus');
    expect(diffed()).toEqual(['old']);
  });

  it('on request: every peer with branches to compare, except one already running', async () => {
    const { store, diffed } = setup();
    await store.getState().loadPeers();
    store.getState().applyPeerStatus('fresh', { state: 'transferring' });
    await store.getState().recheckPeers('request');
    expect(diffed()).toEqual(['old', 'failed', 'never']);
  });
});
