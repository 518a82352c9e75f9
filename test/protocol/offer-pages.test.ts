/**
 * A branch the client lacks altogether is offered in pages while the first
 * items already move (they go before further pages): the clone still ends with exactly the branch (RECON_DONE
 * waits for the last page), in more than one OFFER frame, and a peer that
 * goes away while pages are still being offered leaves the server serving.
 * The clients hold one unrelated item: an empty database gets whole slots
 * without offers instead (whole-slots.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeInlineFile } from '../../src/engine/items/format.js';
import type { RunningServer } from '../../src/engine/protocol/api.js';
import { aliceSigner, memberIds, newDbPath, testClient, testServer, withStore } from '../helpers/net.js';
import { putRevisions } from '../reliability/helpers.js';

/** A client database that is not empty (one file of no branch), so whole branches are offered to it. */
function notEmptyDb(prefix: string): string {
  const path = newDbPath(prefix);
  withStore(path, (s) => s.put(encodeInlineFile(Buffer.from('not part of any branch'))));
  return path;
}

const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('whole-branch offers in pages', () => {
  it('a first clone of ~12,000 items (three pages and more) gets exactly the branch', async () => {
    const serverDb = newDbPath('netsync-pages-s-');
    const items = withStore(serverDb, (s) =>
      putRevisions(
        s,
        aliceSigner(),
        'org.example.big',
        Array.from({ length: 70 }, (_, i) => i),
        200,
        32,
        5,
      ),
    );
    expect(items).toBeGreaterThan(3 * 4096);
    const server = await testServer(serverDb);
    servers.push(server);
    const clientDb = notEmptyDb('netsync-pages-c-');
    // How many items the client knew it would receive when the first one arrived.
    let knownAtFirstItem = -1;
    const summary = await testClient({
      db: clientDb,
      port: server.port,
      patterns: ['org.example.*'],
      direction: 'pull',
      onProgress: (e) => {
        if (knownAtFirstItem < 0 && e.received.items > 0) knownAtFirstItem = e.received.totalItems;
      },
    });
    expect(summary.itemsReceived).toBe(items);
    // Items moved while pages were still being offered: the wanted items go out before more
    // offers (when both waited for the socket, the offers once won until the last page).
    expect(knownAtFirstItem).toBeGreaterThan(0);
    expect(knownAtFirstItem).toBeLessThan(items);
    const want = withStore(serverDb, (s) => memberIds(s, 'org.example.big'));
    const got = withStore(clientDb, (s) => memberIds(s, 'org.example.big'));
    expect(got).toEqual(want);
    // Pages were answered as they came: the control frames alternated more than once.
    expect(summary.roundTrips).toBeGreaterThan(2);

    // A client that goes away as soon as the first items arrive, while pages are still being
    // offered: the server ends that session and serves the next client in full.
    const quitter = new AbortController();
    const cut = testClient({
      db: notEmptyDb('netsync-pages-c2-'),
      port: server.port,
      patterns: ['org.example.*'],
      direction: 'pull',
      signal: quitter.signal,
      onItems: () => quitter.abort(),
    });
    await expect(cut).rejects.toThrow();
    const next = notEmptyDb('netsync-pages-c3-');
    expect((await testClient({ db: next, port: server.port, patterns: ['org.example.*'], direction: 'pull' })).itemsReceived).toBe(items);
    expect(withStore(next, (s) => memberIds(s, 'org.example.big'))).toEqual(want);
  }, 120_000);
});
