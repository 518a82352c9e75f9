/**
 * Crashes (docs/RELIABILITY.md §Crashes): a real `netsync sync` between two
 * real processes, over a 20,081-item collection in which each side holds
 * about half that the other lacks (10,040 items one way, 10,041 the other),
 * and one of the two processes (alternately the client and the server) is
 * killed with SIGKILL at a seeded moment of the session: after the client's
 * TLS handshake (it prints the server's pin then), at a seeded fraction of
 * the time the rest of a whole sync takes. A kill that comes too late (the
 * sync had already ended, the machine being faster than at calibration) is
 * retried with half the delay, so every run kills a session in flight.
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
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_SERVERS_FILE } from '../../src/engine/security/known-servers.js';
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
/** Milliseconds from the client's start to the end of its TLS handshake (the pin line), measured once. */
let handshakeMs = 0;
const figures = { runs: 0, interrupted: 0, late: 0, clientKills: 0, serverKills: 0, finalSyncMs: [] as number[], runMs: [] as number[], resent: 0 };
/** The client prints this once the handshake has ended and the server's key is checked. */
const PINNED = /pinned new server/;

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
    await waitUntil(() => PINNED.test(p.stderr()) || p.child.exitCode !== null, 30_000, 2);
    handshakeMs = Date.now() - started;
    const exit = await p.exited;
    syncMs = Date.now() - started;
    expect(p.stderr()).toMatch(PINNED);
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
      `a handshake ${handshakeMs} ms; killed ${figures.clientKills} clients and ${figures.serverKills} servers; ${figures.interrupted} kills landed in a session ` +
      `(after the handshake, before the end; ${figures.late} came after the end and were retried earlier); ` +
      `items resent: ${figures.resent}; median completing sync ${median(figures.finalSyncMs)} ms; median run ${median(figures.runMs)} ms`,
  );
});

describe(`SIGKILL at a seeded moment of a ${2 * REVISIONS_EACH * FILES}-item two-way sync`, () => {
  for (let run = 0; run < RUNS; run++) {
    const killServer = run % 2 === 1;
    it(`run ${run + 1}/${RUNS}: kill the ${killServer ? 'server' : 'client'} in its session (seed ${SEED}, run ${run})`, async () => {
      const runStarted = Date.now();
      const rnd = new SeededRandom((SEED + run * 7919) >>> 0);
      let fraction = rnd.next();
      for (let attempt = 0; ; attempt++) {
        if (await killOnce(run, killServer, fraction)) break;
        figures.late++;
        expect(attempt, `seed ${SEED} run ${run}: the sync ended before every kill`).toBeLessThan(4);
        fraction /= 2;
      }
      figures.interrupted++;
      figures.runs++;
      figures.runMs.push(Date.now() - runStarted);
    }, 120_000);
  }
});

/**
 * One run: a sync from fresh copies, one side killed `fraction` of the way
 * between the handshake's end and the end a whole sync would have, then the
 * checks. Says whether the kill landed inside the session.
 */
async function killOnce(run: number, killServer: boolean, fraction: number): Promise<boolean> {
  const delay = Math.floor(fraction * Math.max(1, syncMs - handshakeMs));
  const where = `seed ${SEED} run ${run} kill ${killServer ? 'server' : 'client'} ${delay} ms after the handshake`;
  let interrupted = false;
  const dir = tempDir('netsync-crash-run-');
  const serverDb = join(dir, 'server.db');
  const clientDb = join(dir, 'client.db');
  copyDb(serverPristine, serverDb);
  copyDb(clientPristine, clientDb);
  const env = { NETSYNC_CONFIG_DIR: config.dir };
  // Forget earlier runs' servers, so that this client prints its pin line even on a reused port.
  rmSync(join(config.dir, KNOWN_SERVERS_FILE), { force: true });

  let serve: ServeProcess = await startServe(serverDb, [], env);
  try {
    const client = spawnCli(syncArgs(clientDb, serve.port), env);
    await waitUntil(() => PINNED.test(client.stderr()) || client.child.exitCode !== null, 30_000, 2);
    expect(client.stderr(), `${where}: the client never finished its handshake`).toMatch(PINNED);
    await new Promise((r) => setTimeout(r, delay));
    const victim = killServer ? serve.child : client.child;
    const alreadyDone = victim.exitCode !== null || client.child.exitCode !== null;
    if (victim.exitCode === null) victim.kill('SIGKILL');
    if (killServer) {
      await serve.exited;
      const c = await client.exited;
      // The client either finished before the kill, or reports the loss on one line.
      if (c.code !== 0) {
        expect(
          client
            .stderr()
            .trim()
            .split('\n')
            .filter((l) => l.startsWith('netsync:')),
          where,
        ).toHaveLength(1);
      }
      interrupted = !alreadyDone && c.code !== 0;
      figures.serverKills++;
    } else {
      const c = await client.exited;
      figures.clientKills++;
      // Let the server notice the loss and flush what arrived before we read its file.
      interrupted = c.signal === 'SIGKILL';
      await waitUntil(() => /sent \d+, received \d+ items/.test(serve.stderr()), 5000);
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
  return interrupted;
}
