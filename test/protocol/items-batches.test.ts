/**
 * The batches of moved item ids a client session reports (ClientOptions.onItems,
 * what makes diff rows tick in the app): over a real in-process two-way sync,
 * the union of the batches is exactly the set of items that moved each way,
 * every id once, no batch larger than ITEMS_BATCH_MAX, sequence numbers
 * without gaps, and fewer batches than items.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/engine/protocol/api.js';
import { ReadStore } from '../../src/engine/store/store.js';
import { ITEMS_BATCH_MAX, type ItemsBatch } from '../../src/shared/sync.js';
import { aliceSigner, allIds, bobSigner, buildHistory, minus, newDbPath, sorted, testClient, testServer, withStore } from '../helpers/net.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close(0);
});

const ids = (path: string): Set<string> => {
  const store = ReadStore.open(path);
  try {
    return allIds(store);
  } finally {
    store.close();
  }
};
const short = (hex: Iterable<string>): string[] => sorted([...hex].map((h) => h.slice(0, 16)));

describe('moved-item batches', () => {
  it('a two-way sync reports every received and every sent item exactly once, in bounded batches', async () => {
    const a = newDbPath('netsync-items-a-');
    const b = newDbPath('netsync-items-b-');
    // Enough items both ways that several batches are needed (over ITEMS_BATCH_MAX).
    withStore(a, (s) => buildHistory(s, aliceSigner(), 'org.x', { commits: 120, filesPerCommit: 8, seed: 1 }));
    withStore(b, (s) => buildHistory(s, bobSigner(), 'org.x', { commits: 40, filesPerCommit: 8, seed: 2 }));
    const beforeA = ids(a);
    const beforeB = ids(b);
    const server = await testServer(a);
    servers.push(server);

    const batches: ItemsBatch[] = [];
    const summary = await testClient({ db: b, port: server.port, patterns: ['org.*'], direction: 'sync', onItems: (batch) => batches.push(batch) });

    const received = batches.flatMap((x) => x.received);
    const sent = batches.flatMap((x) => x.sent);
    expect(received.length).toBeGreaterThan(ITEMS_BATCH_MAX);
    expect(short(received)).toEqual(short(minus(beforeA, beforeB)));
    expect(short(sent)).toEqual(short(minus(beforeB, beforeA)));
    expect(new Set(received).size).toBe(received.length);
    expect(new Set(sent).size).toBe(sent.length);
    expect(received.length).toBe(summary.itemsReceived);
    expect(sent.length).toBe(summary.itemsSent);
    expect(batches.map((x) => x.seq)).toEqual(batches.map((_, i) => i + 1));
    expect(new Set(batches.map((x) => x.sessionId))).toEqual(new Set([summary.sessionId]));
    for (const x of batches) expect(x.received.length + x.sent.length).toBeLessThanOrEqual(ITEMS_BATCH_MAX);
    expect(batches.length).toBeLessThan((received.length + sent.length) / 10);
  });

  it('a dry run reports nothing moved', async () => {
    const a = newDbPath('netsync-items-dry-a-');
    const b = newDbPath('netsync-items-dry-b-');
    withStore(a, (s) => buildHistory(s, aliceSigner(), 'org.x', { commits: 3, seed: 3 }));
    const server = await testServer(a);
    servers.push(server);
    const batches: ItemsBatch[] = [];
    const summary = await testClient({
      db: b,
      port: server.port,
      patterns: ['org.*'],
      direction: 'sync',
      dryRun: true,
      onItems: (batch) => batches.push(batch),
    });
    expect(summary.weLack.count).toBeGreaterThan(0);
    expect(batches).toEqual([]);
  });
});
