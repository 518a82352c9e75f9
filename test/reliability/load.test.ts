/**
 * Load (docs/RELIABILITY.md §Load): one real `netsync serve` process and 50
 * clients syncing with it at the same moment, each with a different
 * difference in both directions: client i holds a seeded prefix of the
 * server's org.load.base (it pulls the rest) and a branch of its own (it
 * pushes it). All must reach the union; measured: the server's peak RSS and
 * open file descriptors (/proc/PID), and the total time.
 *
 * CI: 50 clients. NETSYNC_RELIABILITY=full: 200 (NETSYNC_LOAD_CLIENTS=N).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClientSession } from '../../src/engine/protocol/client.js';
import { ensureCliBuilt } from '../helpers/cli.js';
import {
  type ServeProcess,
  aliceSigner,
  allIds,
  bobSigner,
  bruteCollection,
  checkClean,
  identityOf,
  memberIds,
  newDbPath,
  startServe,
  withStore,
} from '../helpers/net.js';
import { SeededRandom } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';
import { envNumber, keyedConfig, mib, openFds, openSockets, processMemory, putRevisions, range, seedOf, setEquals } from './helpers.js';

const CLIENTS = envNumber('NETSYNC_LOAD_CLIENTS', 50, 200);
const SEED = seedOf(0x10ad);
const BASE_REVISIONS = 40;
const BASE = 'org.load.base';

let serverDb: string;
let serverConfig: { dir: string };
let base: Set<string>;
let serve: ServeProcess | null = null;

interface ClientSetup {
  db: string;
  own: string;
  all: Set<string>;
  collection: Set<string>;
}
let clients: ClientSetup[];

beforeAll(() => {
  ensureCliBuilt();
  const rnd = new SeededRandom(SEED);
  serverDb = newDbPath('netsync-load-srv-');
  withStore(serverDb, (s) => {
    putRevisions(s, aliceSigner(), BASE, range(0, BASE_REVISIONS), 20, 64, 1);
    base = bruteCollection(s, BASE);
  });
  serverConfig = keyedConfig();
  clients = Array.from({ length: CLIENTS }, (_, i) => {
    const db = newDbPath('netsync-load-cli-');
    const own = `org.load.c${i}`;
    return withStore(db, (s) => {
      putRevisions(s, aliceSigner(), BASE, range(0, rnd.int(BASE_REVISIONS)), 20, 64, 1); // a prefix of the server's
      putRevisions(s, bobSigner(), own, range(0, rnd.between(1, 4)), 10, 64, 1000 + i);
      return { db, own, all: allIds(s), collection: bruteCollection(s, own) };
    });
  });
}, 120_000);

afterAll(async () => {
  await serve?.stop();
});

describe(`${CLIENTS} clients at once against one server process`, () => {
  it('every client and the server reach the union; the server stays bounded', async () => {
    serve = await startServe(serverDb, [], { NETSYNC_CONFIG_DIR: serverConfig.dir });
    const pid = serve.child.pid!;
    const idle = { memory: processMemory(pid)!, fds: openFds(pid)!, sockets: openSockets(pid)! };
    let peakFds = idle.fds;
    let peakSockets = idle.sockets;
    let peakRss = idle.memory.rss;
    const sampler = setInterval(() => {
      peakFds = Math.max(peakFds, openFds(pid) ?? 0);
      peakSockets = Math.max(peakSockets, openSockets(pid) ?? 0);
      peakRss = Math.max(peakRss, processMemory(pid)?.rss ?? 0);
    }, 10);
    const pins = tempDir('netsync-load-pins-');
    const started = Date.now();
    let results: { ms: number; received: number; sent: number }[];
    try {
      results = await Promise.all(
        clients.map(async (c, i) => {
          const t = Date.now();
          const s = await runClientSession({
            db: c.db,
            host: '127.0.0.1',
            port: serve!.port,
            patterns: [BASE, c.own],
            direction: 'sync',
            dryRun: false,
            identity: identityOf(i % 2 === 0 ? bobSigner() : aliceSigner()),
            configDir: join(pins, String(i)),
          });
          return { ms: Date.now() - t, received: s.itemsReceived, sent: s.itemsSent };
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const totalMs = Date.now() - started;
    const peakHwm = processMemory(pid)!.peak;
    const after = { fds: openFds(pid)!, sockets: openSockets(pid)! };

    for (const [i, c] of clients.entries()) {
      const now = withStore(c.db, (s) => allIds(s));
      const expected = new Set([...c.all, ...base]);
      expect(setEquals(now, expected), `client ${i} holds its own items and the whole base`).toBe(true);
      expect(results[i]!.received, `client ${i} received exactly what it lacked`).toBe(expected.size - c.all.size);
    }
    expect(await serve.stop()).toMatchObject({ code: 0 });
    serve = null;
    withStore(serverDb, (s) => {
      expect(setEquals(memberIds(s, BASE), base)).toBe(true);
      for (const c of clients) expect(setEquals(memberIds(s, c.own), c.collection), c.own).toBe(true);
    });
    expect(checkClean(serverDb)).toEqual([]);
    for (const c of clients.slice(0, 5)) expect(checkClean(c.db)).toEqual([]);
    // The server's descriptors after the load are those it had idle (the sessions' sockets are closed).
    expect(after.sockets, `server sockets: idle ${idle.sockets}, after ${after.sockets}`).toBeLessThanOrEqual(idle.sockets + 2);

    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    console.log(
      `[reliability] load: ${CLIENTS} concurrent clients, ${results.reduce((n, r) => n + r.received, 0)} items pulled and ` +
        `${results.reduce((n, r) => n + r.sent, 0)} pushed in ${totalMs} ms (client median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms[ms.length - 1]} ms); ` +
        `server RSS idle ${mib(idle.memory.rss)}, peak ${mib(Math.max(peakRss, peakHwm))}; ` +
        `server fds idle ${idle.fds}, peak ${peakFds} (sockets ${idle.sockets} -> peak ${peakSockets}), after ${after.fds}`,
    );
  }, 180_000);
});
