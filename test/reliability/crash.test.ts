/**
 * Crashes (docs/RELIABILITY.md §Crashes): a real `netsync sync` between two
 * real processes, over a 20,081-item collection in which each side holds
 * about half that the other lacks (10,040 items one way, 10,041 the other),
 * and one of the two processes (alternately the client and the server) is
 * killed with SIGKILL at a seeded moment in [0, the time a whole sync takes].
 * After every kill:
 *   - nothing either side held before is lost;
 *   - `db check` (every item re-hashed and verified, the index compared with
 *     a fresh rebuild) passes on both sides;
 *   - one more sync moves exactly what is still missing (no item twice) and
 *     both sides then hold exactly the union (item sets and the branch's
 *     member sets).
 * Every run starts from copies of the same two pristine database files.
 *
 * CI: 50 runs. NETSYNC_RELIABILITY=full: 200 runs (NETSYNC_CRASH_RUNS=N to
 * choose); NETSYNC_SEED=S replays a failing run's seed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt } from '../helpers/cli.js';
import { type ServeProcess, aliceSigner, checkClean, lastJsonLine, newDbPath, spawnCli, startServe, waitUntil, withStore } from '../helpers/net.js';
import { SeededRandom } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';
import { FULL, copyDb, envNumber, itemIdSet, keyedConfig, median, membersOf, missingFrom, putRevisions, range, seedOf, setEquals } from './helpers.js';

const RUNS = envNumber('NETSYNC_CRASH_RUNS', 50, 200);
const SEED = seedOf(0xc0ffee);
const BRANCH = 'org.reliability.crash';
const FILES = 1000;
const REVISIONS_EACH = 10;

let serverPristine: string;
let clientPristine: string;
let serverBefore: Set<string>;
let clientBefore: Set<string>;
let unionIds: Set<string>;
let unionMembers: Set<string>;
let config: { dir: string };
/** Milliseconds of a whole uninterrupted sync (process start to exit), measured once. */
let syncMs = 0;
const figures = { runs: 0, interrupted: 0, clientKills: 0, serverKills: 0, finalSyncMs: [] as number[], runMs: [] as number[], resent: 0 };

function syncArgs(db: string, port: number): string[] {
  return ['--db', db, 'sync', `127.0.0.1:${port}`, BRANCH, '--json'];
}

beforeAll(async () => {
  ensureCliBuilt();
  const signer = aliceSigner();
  serverPristine = newDbPath('netsync-crash-srv-');
  clientPristine = newDbPath('netsync-crash-cli-');
  withStore(serverPristine, (s) => putRevisions(s, signer, BRANCH, range(0, REVISIONS_EACH), FILES, 32, 7));
  withStore(clientPristine, (s) => putRevisions(s, signer, BRANCH, range(REVISIONS_EACH, 2 * REVISIONS_EACH), FILES, 32, 7));
  serverBefore = itemIdSet(serverPristine);
  clientBefore = itemIdSet(clientPristine);
  unionIds = new Set([...serverBefore, ...clientBefore]);
  unionMembers = new Set([...membersOf(serverPristine, BRANCH), ...membersOf(clientPristine, BRANCH)]);
  expect(unionIds.size).toBeGreaterThanOrEqual(20_000);
  expect(setEquals(unionMembers, unionIds)).toBe(true); // every item is in the collection
  config = keyedConfig();

  // Calibration: one whole sync, which also proves the setup reaches the union.
  const dir = tempDir('netsync-crash-cal-');
  const s = join(dir, 'server.db');
  const c = join(dir, 'client.db');
  copyDb(serverPristine, s);
  copyDb(clientPristine, c);
  const serve = await startServe(s, [], { NETSYNC_CONFIG_DIR: config.dir });
  try {
    const started = Date.now();
    const p = spawnCli(syncArgs(c, serve.port), { NETSYNC_CONFIG_DIR: config.dir });
    const exit = await p.exited;
    syncMs = Date.now() - started;
    expect(exit.code, p.stderr()).toBe(0);
    const j = lastJsonLine(p.stdout());
    expect(j.itemsSent).toBe(clientBefore.size - 1); // the shared key is on both sides
    expect(j.itemsReceived).toBe(serverBefore.size - 1);
  } finally {
    await serve.stop();
  }
  expect(setEquals(itemIdSet(s), unionIds)).toBe(true);
  expect(setEquals(itemIdSet(c), unionIds)).toBe(true);
}, 120_000);

afterAll(() => {
  if (figures.runs === 0) return;
  console.log(
    `[reliability] crashes: ${figures.runs} runs (seed ${SEED}), collection ${unionIds.size} items, ` +
      `difference ${serverBefore.size - 1} + ${clientBefore.size - 1}; a whole sync ${syncMs} ms; ` +
      `killed ${figures.clientKills} clients and ${figures.serverKills} servers; ${figures.interrupted} kills landed in a session (after the handshake, before the end); ` +
      `items resent: ${figures.resent}; median completing sync ${median(figures.finalSyncMs)} ms; median run ${median(figures.runMs)} ms`,
  );
});

describe(`SIGKILL at a seeded moment of a ${2 * REVISIONS_EACH * FILES}-item two-way sync`, () => {
  for (let run = 0; run < RUNS; run++) {
    const killServer = run % 2 === 1;
    it(`run ${run + 1}/${RUNS}: kill the ${killServer ? 'server' : 'client'} (seed ${SEED}, run ${run})`, async () => {
      const runStarted = Date.now();
      const rnd = new SeededRandom((SEED + run * 7919) >>> 0);
      const delay = Math.floor(rnd.next() * syncMs);
      const where = `seed ${SEED} run ${run} kill ${killServer ? 'server' : 'client'} after ${delay} ms`;
      const dir = tempDir('netsync-crash-run-');
      const serverDb = join(dir, 'server.db');
      const clientDb = join(dir, 'client.db');
      copyDb(serverPristine, serverDb);
      copyDb(clientPristine, clientDb);
      const env = { NETSYNC_CONFIG_DIR: config.dir };

      let serve: ServeProcess = await startServe(serverDb, [], env);
      try {
        const started = Date.now();
        const client = spawnCli(syncArgs(clientDb, serve.port), env);
        await new Promise((r) => setTimeout(r, Math.max(0, delay - (Date.now() - started))));
        const victim = killServer ? serve.child : client.child;
        const alreadyDone = victim.exitCode !== null || client.child.exitCode !== null;
        if (victim.exitCode === null) victim.kill('SIGKILL');
        if (killServer) {
          await serve.exited;
          const c = await client.exited;
          // The client either finished before the kill, or reports the loss on one line.
          if (c.code !== 0) {
            expect(client.stderr().trim().split('\n').filter((l) => l.startsWith('netsync:')), where).toHaveLength(1);
          }
          if (!alreadyDone && c.code !== 0 && /pinned new server/.test(client.stderr())) figures.interrupted++;
          figures.serverKills++;
        } else {
          const c = await client.exited;
          figures.clientKills++;
          // Let the server notice the loss and flush what arrived before we read its file. A
          // client killed before its TLS handshake ended (it prints the pin then) may have no session.
          const hadSession = /pinned new server/.test(client.stderr());
          if (c.signal === 'SIGKILL' && hadSession) figures.interrupted++;
          await waitUntil(() => /sent \d+, received \d+ items/.test(serve.stderr()), hadSession ? 5000 : 300);
        }

        // Nothing either side held is lost; both databases are consistent.
        const serverNow = itemIdSet(serverDb);
        const clientNow = itemIdSet(clientDb);
        expect(missingFrom(serverBefore, serverNow), `${where}: the server lost items`).toEqual([]);
        expect(missingFrom(clientBefore, clientNow), `${where}: the client lost items`).toEqual([]);
        expect(missingFrom(serverNow, unionIds), `${where}: the server holds items from nowhere`).toEqual([]);
        expect(missingFrom(clientNow, unionIds), `${where}: the client holds items from nowhere`).toEqual([]);
        expect(checkClean(serverDb), `${where}: db check on the server`).toEqual([]);
        expect(checkClean(clientDb), `${where}: db check on the client`).toEqual([]);

        // One more sync moves exactly the rest.
        if (killServer) serve = await startServe(serverDb, [], env);
        const finalStarted = Date.now();
        const again = spawnCli(syncArgs(clientDb, serve.port), env);
        const exit = await again.exited;
        figures.finalSyncMs.push(Date.now() - finalStarted);
        expect(exit.code, `${where}: ${again.stderr()}`).toBe(0);
        const j = lastJsonLine(again.stdout());
        const clientLacked = unionIds.size - clientNow.size;
        const serverLacked = unionIds.size - serverNow.size;
        figures.resent += Math.max(0, (j.itemsReceived as number) - clientLacked) + Math.max(0, (j.itemsSent as number) - serverLacked);
        expect({ received: j.itemsReceived, sent: j.itemsSent }, where).toEqual({ received: clientLacked, sent: serverLacked });
        expect(j.converged, where).not.toBe(false);
        for (const db of [serverDb, clientDb]) {
          expect(setEquals(itemIdSet(db), unionIds), `${where}: ${db} holds the union`).toBe(true);
          expect(setEquals(membersOf(db, BRANCH), unionMembers), `${where}: ${db}'s collection is the union`).toBe(true);
        }
      } finally {
        await serve.stop();
      }
      if (FULL) {
        expect(checkClean(serverDb), where).toEqual([]);
        expect(checkClean(clientDb), where).toEqual([]);
      }
      figures.runs++;
      figures.runMs.push(Date.now() - runStarted);
    }, 60_000);
  }
});
