/**
 * The attacks of issue #18 against a real `netsync serve` process, measured
 * (docs/RELIABILITY.md §Attacks): for each attack, from 127.0.0.2, the time
 * of honest clients syncing from 127.0.0.1 meanwhile against the same
 * clients unattacked, the server's peak RSS, and how long it took to stop on
 * SIGTERM while attacked. test/reliability/attacks.test.ts asserts the
 * same with generous bounds; the figures are these.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KeyStore } from '../src/engine/keys/keystore.js';
import { runClientSession } from '../src/engine/protocol/client.js';
import { WriteStore } from '../src/engine/store/store.js';
import { bareTcp, bigFrames, offerFlood, patternBomb, slowSessions } from '../test/helpers/attackers.js';
import { benchSigner, populate } from './populate.js';
import { type Row, median } from './util.js';

const CLI = resolve('bin/netsync.cjs');
const BASE = 'bench.attack.base';

function rssOf(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

interface Served {
  port: number;
  peakRss(): number;
  /** SIGTERM; resolves with the milliseconds until the process exited. */
  stop(): Promise<number>;
}

async function serve(db: string, config: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, '--db', db, 'serve', '--bind', '127.0.0.1:0'], {
    env: { ...process.env, NETSYNC_CONFIG_DIR: config },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let stdout = '';
  const port = await new Promise<number>((ok, fail) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) ok(Number(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`server exited ${code}`)));
  });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid!))), 25);
  return {
    port,
    peakRss: () => peak,
    stop: () =>
      new Promise((ok) => {
        clearInterval(sampler);
        const started = Date.now();
        child.on('exit', () => ok(Date.now() - started));
        child.kill('SIGTERM');
      }),
  };
}

/** One honest pull of the base into a fresh database, anonymous or with a key (the server's own: it may do anything). */
async function honest(work: string, port: number, n: number, config: string | null): Promise<number> {
  const db = join(work, `honest-${n}.db`);
  rmSync(db, { force: true });
  WriteStore.open(db, { create: true }).close();
  const started = Date.now();
  await runClientSession({
    db,
    host: '127.0.0.1',
    port,
    patterns: [BASE],
    direction: 'pull',
    dryRun: false,
    identity: config ? undefined : 'anonymous',
    configDir: config ?? join(work, `honest-cfg-${n}`),
  });
  return Date.now() - started;
}

/** Four honest pulls at once (two with a key, two anonymous): the slowest one's time. */
async function honestRound(work: string, port: number, config: string, round: number): Promise<number> {
  const times = await Promise.all([0, 1, 2, 3].map((i) => honest(work, port, round * 10 + i, i % 2 === 0 ? config : null)));
  return Math.max(...times);
}

type Attack = (port: number) => Promise<string>;

const ATTACKS: Record<string, { what: string; run: Attack }> = {
  'attack-patterns': {
    what: 'the HELLO of issue #18 (20 stars against 200 a) and a costlier one',
    run: async (port) => {
      const [bomb, worse] = await Promise.all([patternBomb(port), patternBomb(port, true)]);
      return `answered in ${bomb.answeredMs} ms; the costlier one refused (ERRORs ${JSON.stringify(worse.report.errors)}) in ${worse.answeredMs} ms`;
    },
  },
  'attack-offers': {
    what: 'three concurrent anonymous offer floods, 8 s',
    run: async (port) => {
      const r = await offerFlood(port, 'bench.attack.flood', 3, 8000);
      return `${r.sessions} sessions, ERRORs ${JSON.stringify(r.errors)}`;
    },
  },
  'attack-frames': {
    what: '30 unfinished 8 MiB frames before HELLO and 30 after it, held 4 s',
    run: async (port) => {
      const [before, after] = await Promise.all([bigFrames(port, 30, false, 4000), bigFrames(port, 30, true, 4000)]);
      return `before HELLO: ERRORs ${JSON.stringify(before.errors)}; after: ${JSON.stringify(after.errors)}`;
    },
  },
  'attack-slow': {
    what: '256 anonymous sessions sending 6 bytes every 2 s, 8 s',
    run: async (port) => {
      const r = await slowSessions(port, 256, 2000, 8000);
      return `${r.sessions} TLS sessions, ERRORs ${JSON.stringify(r.errors)}`;
    },
  },
  'attack-tcp': {
    what: '300 bare TCP connections, held up to 12 s',
    run: async (port) => JSON.stringify(await bareTcp(port, 300, 12_000)),
  },
};

async function runAttack(work: string, name: string): Promise<Row> {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'config');
  new KeyStore(join(config, 'keys')).generate('bench@example.org');
  writeFileSync(join(config, 'permissions'), 'read anonymous *\nwrite anonymous bench.attack.*\n');
  const db = join(dir, 'server.db');
  const store = WriteStore.open(db, { create: true });
  const items = populate(store, { branch: BASE, manifests: 20, filesPerManifest: 50, fileBytes: 1024, signer: benchSigner() });
  store.close();
  const server = await serve(db, config);
  try {
    const idleRss = server.peakRss();
    const unattacked = [];
    for (let round = 0; round < 3; round++) unattacked.push(await honestRound(dir, server.port, config, round));
    const attack = ATTACKS[name]!;
    const outcome = attack.run(server.port);
    await new Promise((r) => setTimeout(r, 1000)); // the attack under way
    const attacked = [];
    for (let round = 3; round < 6; round++) attacked.push(await honestRound(dir, server.port, config, round));
    const result = await outcome;
    // Attacked again while it stops: SIGTERM with the attack under way.
    void attack.run(server.port).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    const peak = server.peakRss();
    const stopMs = await server.stop();
    return {
      bench: `${name}: ${attack.what}`,
      items,
      honestUnattackedMs: median(unattacked),
      honestAttackedMs: median(attacked),
      honestSlowerMs: median(attacked) - median(unattacked),
      serverIdleRssMiB: Math.round(idleRss / 2 ** 20),
      serverPeakRssMiB: Math.round(peak / 2 ** 20),
      sigtermStopMs: stopMs,
      outcome: result,
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

export function cases(work: string): { name: string; run: () => Promise<Row> }[] {
  return Object.keys(ATTACKS).map((name) => ({ name, run: () => runAttack(work, name) }));
}
