/**
 * Regressions of engine bugs the reliability suite found that no other test
 * of it pins down (docs/RELIABILITY.md §Bugs found).
 */
import { describe, expect, it } from 'vitest';
import { aliceSigner, allIds, bobSigner, buildHistory, newDbPath, testClient, testServer, withStore } from '../helpers/net.js';

describe('findings', () => {
  it('a dry-run sync with differences runs one session and moves nothing (it used to compare final roots, find them unequal, and run three)', async () => {
    const serverDb = newDbPath('netsync-find-s-');
    const clientDb = newDbPath('netsync-find-c-');
    withStore(serverDb, (s) => buildHistory(s, aliceSigner(), 'org.find', { commits: 2 }));
    withStore(clientDb, (s) => buildHistory(s, bobSigner(), 'org.find', { commits: 2, seed: 5 }));
    const before = [withStore(serverDb, (s) => allIds(s)), withStore(clientDb, (s) => allIds(s))];
    const server = await testServer(serverDb);
    try {
      const r = await testClient({ db: clientDb, port: server.port, patterns: ['org.*'], dryRun: true });
      expect(r.sessions ?? 1).toBe(1);
      expect(r.converged).toBeUndefined();
      expect(r.weLack.count).toBe(20);
      expect(r.theyLack.count).toBe(20);
      expect(server.stats().sessions).toBe(1);
    } finally {
      await server.close(0);
    }
    expect(withStore(serverDb, (s) => allIds(s))).toEqual(before[0]);
    expect(withStore(clientDb, (s) => allIds(s))).toEqual(before[1]);
  });
});
