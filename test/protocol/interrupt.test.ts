/**
 * Interrupted sessions (docs/PRODUCT.md: "an interrupted session loses nothing"):
 * a peer process is killed with SIGKILL in the middle of a large transfer.
 * Both databases must pass `db check`, what arrived must be kept, and the
 * next session must move exactly what is still missing.
 *
 * CI size: 300 revisions, ~3,000 items. NETSYNC_STRESS=1: 3,000 revisions,
 * ~30,000 items.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/engine/protocol/api.js';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import {
  OPEN_PERMISSIONS,
  type ServeProcess,
  aliceSigner,
  bobSigner,
  bruteCollection,
  buildHistory,
  checkClean,
  intersection,
  itemCount,
  lastJsonLine,
  newDbPath,
  sleep,
  snapshotDb,
  sorted,
  spawnCli,
  startServe,
  testClient,
  testServer,
  union,
  waitUntil,
  withStore,
} from '../helpers/net.js';
import { SeededRandom } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';

const COMMITS = process.env.NETSYNC_STRESS === '1' ? 3000 : 300;
const rnd = new SeededRandom(0x1e7);

/** Polls the item count of a database (through its own read handle) until it exceeds `n`. */
async function waitForGrowth(db: string, n: number, timeoutMs = 20_000): Promise<boolean> {
  return waitUntil(
    () => {
      try {
        return itemCount(db) > n;
      } catch {
        return false; // the writer may hold the file for a moment
      }
    },
    timeoutMs,
    2,
  );
}

describe('a client killed in the middle of a transfer', () => {
  let serverDb: string;
  let server: RunningServer;
  let needed: Set<string>;

  beforeAll(async () => {
    ensureCliBuilt();
    serverDb = newDbPath('netsync-int-srv-');
    withStore(serverDb, (s) => {
      buildHistory(s, aliceSigner(), 'org.big', { commits: COMMITS, seed: 11, fileSize: 512 });
      needed = bruteCollection(s, 'org.big');
    });
    expect(needed.size).toBe(COMMITS * 10);
    server = await testServer(serverDb);
  });

  afterAll(async () => {
    await server?.close(0);
  });

  for (let attempt = 0; attempt < 2; attempt++) {
    it(`keeps what arrived; db check is clean; the next pull moves exactly the rest (seeded kill ${attempt + 1})`, async () => {
      const clientDb = newDbPath('netsync-int-cli-');
      const cfg = tempDir('netsync-int-cfg-'); // no key: an anonymous client, which the open permissions allow
      const p = spawnCli(['--db', clientDb, 'pull', `127.0.0.1:${server.port}`, 'org.*', '--json'], { NETSYNC_CONFIG_DIR: cfg });
      expect(await waitForGrowth(clientDb, 0)).toBe(true);
      await sleep(rnd.int(60)); // a seeded moment after the first stored batch
      p.child.kill('SIGKILL');
      const exit = await p.exited;
      expect(exit.signal).toBe('SIGKILL');

      const present = intersection(snapshotDb(clientDb).all, needed);
      expect(present.size).toBeGreaterThan(0);
      expect(present.size, 'the kill came after the transfer ended: make the transfer larger').toBeLessThan(needed.size);
      expect(checkClean(clientDb)).toEqual([]);
      expect(checkClean(serverDb)).toEqual([]);

      const again = await runCli(['--db', clientDb, 'pull', `127.0.0.1:${server.port}`, 'org.*', '--json'], { NETSYNC_CONFIG_DIR: cfg });
      expect(again.code, again.stderr).toBe(0);
      const j = lastJsonLine(again.stdout);
      expect(j.itemsReceived).toBe(needed.size - present.size);
      expect((j.itemsReceived as number) + present.size).toBe(needed.size);
      expect(sorted(snapshotDb(clientDb).all)).toEqual(sorted(needed));
      expect(checkClean(clientDb)).toEqual([]);
    });
  }
});

describe('a server killed in the middle of a transfer', () => {
  it('keeps what arrived; restarted, the next sync moves exactly the rest', async () => {
    ensureCliBuilt();
    // The server's key and open permissions live in its config folder.
    const serverDb = newDbPath('netsync-int-srv2-');
    const serverCfg = tempDir('netsync-int-srvcfg-');
    mkdirSync(serverCfg, { recursive: true });
    writeFileSync(join(serverCfg, 'permissions'), OPEN_PERMISSIONS);
    const key = await runCli(['--db', serverDb, 'key', 'generate', 'server@example.org'], { NETSYNC_CONFIG_DIR: serverCfg });
    expect(key.code, key.stderr).toBe(0);
    const serverBefore = snapshotDb(serverDb).all;

    const clientDb = newDbPath('netsync-int-cli2-');
    const needed = withStore(clientDb, (s) => {
      buildHistory(s, bobSigner(), 'org.pushed', { commits: COMMITS, seed: 12, fileSize: 512 });
      return bruteCollection(s, 'org.pushed');
    });
    const clientBefore = snapshotDb(clientDb).all;
    const clientCfg = tempDir('netsync-int-clicfg-'); // one config folder: the pin of the server's key survives its restart

    let serve: ServeProcess = await startServe(serverDb, [], { NETSYNC_CONFIG_DIR: serverCfg });
    const push = testClient({ db: clientDb, port: serve.port, patterns: ['org.*'], direction: 'push', configDir: clientCfg }).then(
      () => null,
      (e: Error) => e,
    );
    expect(await waitForGrowth(serverDb, serverBefore.size)).toBe(true);
    await sleep(rnd.int(60));
    serve.child.kill('SIGKILL');
    expect((await serve.exited).signal).toBe('SIGKILL');
    const failure = await push;
    expect(failure, 'the push should not succeed against a killed server').toBeInstanceOf(Error);
    expect(failure!.message).toMatch(/closed|ended|reset|timeout/i);

    const present = intersection(snapshotDb(serverDb).all, needed);
    expect(present.size).toBeGreaterThan(0);
    expect(present.size).toBeLessThan(needed.size);
    expect(checkClean(serverDb)).toEqual([]);
    expect(checkClean(clientDb)).toEqual([]);
    expect(sorted(snapshotDb(clientDb).all)).toEqual(sorted(clientBefore)); // the pusher lost nothing

    serve = await startServe(serverDb, [], { NETSYNC_CONFIG_DIR: serverCfg });
    try {
      const s = await testClient({ db: clientDb, port: serve.port, patterns: ['org.*'], configDir: clientCfg });
      expect(s.itemsSent).toBe(needed.size - present.size);
      expect(s.itemsReceived).toBe(0);
      expect(sorted(intersection(snapshotDb(serverDb).all, needed))).toEqual(sorted(needed));
      expect(sorted(snapshotDb(serverDb).all)).toEqual(sorted(union(needed, serverBefore)));
      expect(checkClean(serverDb)).toEqual([]);
    } finally {
      expect((await serve.stop('SIGTERM')).code).toBe(0);
    }
  });
});
