/**
 * Protocol benchmarks: two real processes (the bundled CLI) over loopback.
 * The client's time is the whole command as a user times it, process start
 * included; round trips and reconciliation bytes come from its --json line.
 */
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KeyStore } from '../src/engine/keys/keystore.js';
import { runClientSession } from '../src/engine/protocol/client.js';
import type { SessionSummary } from '../src/shared/sync.js';
import { WriteStore } from '../src/engine/store/store.js';
import { bigDatabase, ingestItems, timeIngest } from './foundation.js';
import { addTags, benchSigner, populate } from './populate.js';
import { type Row, median, peakRssMiB, runChild } from './util.js';

const CLI = resolve('bin/netsync.cjs'); // what a user runs
const RSS = resolve('bench/rss-report.cjs');

/** Node's options for a child: -r the RSS reporter, and --cpu-prof into $NETSYNC_BENCH_PROFILE when set. */
function nodeArgs(): string[] {
  const dir = process.env.NETSYNC_BENCH_PROFILE;
  return ['-r', RSS, ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])];
}

interface Server {
  port: number;
  stop(): Promise<{ maxRssMiB: number | null }>;
}

async function serve(db: string, env: NodeJS.ProcessEnv): Promise<Server> {
  // Port 0: the system picks a free one and the server says which. A fixed port in the
  // ephemeral range was once taken by some outgoing connection ("address in use").
  const child = spawn(process.execPath, [...nodeArgs(), CLI, '--db', db, 'serve', '--bind', '127.0.0.1:0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let stdout = '';
  const port = await new Promise<number>((ok, fail) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) ok(Number(m[1]));
    });
    child.on('exit', (code) => fail(new Error(`server exited ${code}: ${stderr}`)));
  });
  return {
    port,
    stop: () =>
      new Promise((ok) => {
        child.on('exit', () => {
          const m = /NETSYNC_MAXRSS_KIB=(\d+)/.exec(stderr);
          ok({ maxRssMiB: m ? Math.round(Number(m[1]) / 1024) : null });
        });
        child.kill('SIGTERM');
      }),
  };
}

interface ClientRun {
  ms: number;
  maxRssMiB: number | null;
  json: Record<string, number>;
}

async function client(db: string, verb: string, port: number, pattern: string, env: NodeJS.ProcessEnv): Promise<ClientRun> {
  const r = await runChild(process.execPath, [...nodeArgs(), CLI, '--db', db, verb, `127.0.0.1:${port}`, pattern, '--json'], env);
  if (r.code !== 0) throw new Error(`${verb} failed: ${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop()!;
  return { ms: r.ms, maxRssMiB: r.maxRssMiB, json: JSON.parse(last) as Record<string, number> };
}

/**
 * A fresh copy of a database, flushed to disk before anything is timed: a
 * served database is at rest, and the kernel writing back a just-copied
 * 110 MB file slowed the server's reads of it 2x (its first listing of the
 * 100k clone's branch: 733 ms unsynced, 325 ms synced, 263-278 ms warm).
 */
function copyDb(from: string, to: string): string {
  for (const suffix of ['', '-wal', '-shm']) rmSync(to + suffix, { force: true });
  copyFileSync(from, to);
  const fd = openSync(to, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return to;
}

function freshDb(path: string): string {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  WriteStore.open(path, { create: true }).close();
  return path;
}

/**
 * This machine's environment sets NODE_EXTRA_CA_CERTS, and Node 20 then
 * parses its own root store and that file at start-up, before the first line
 * of JavaScript: ~30 ms on every node process, which no code of ours can
 * avoid (and Netsync checks keys by fingerprint, never against a CA). The
 * client commands are timed as they run here and, when the variable is set,
 * once more without it, as on a machine that does not set it.
 */
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS ? 'NODE_EXTRA_CA_CERTS' : null;

function withoutExtraCa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, NODE_EXTRA_CA_CERTS: '' }; // empty: Node loads no extra certificates
}

/** `node -e 0`, median of 11: the floor under every command's time, in both environments. */
export async function nodeStart(): Promise<Row> {
  const time = async (env: NodeJS.ProcessEnv) => {
    const runs: number[] = [];
    for (let i = 0; i < 11; i++) runs.push((await runChild(process.execPath, ['-e', '0'], env)).ms);
    return Math.round(median(runs));
  };
  return {
    bench: 'node -e 0 (process start, the floor under every command; median of 11)',
    ms: await time({}),
    ...(EXTRA_CA ? { msNoExtraCa: await time(withoutExtraCa({})) } : {}),
  };
}

function reconBytes(j: Record<string, number>): number {
  return j.reconBytesSent! + j.reconBytesReceived!;
}

/**
 * `d` differences: tags (one item each) added to the server only, or split
 * between both sides. Each sample starts from fresh copies. A server is a
 * long-running process, so the client is timed against a server that has
 * served one session before (another client pulling a different difference:
 * its code is compiled and optimised, as on any server that has been up a
 * while); `msFirstSession` times the very first session of a fresh server.
 * Medians of `samples` runs (the VM drifts by 30%; one run says little).
 */
async function difference(work: string, manifests: number, d: number, twoSided: boolean, env: NodeJS.ProcessEnv, samples: number): Promise<Row> {
  const base = bigDatabase(work, manifests);
  const signer = benchSigner();
  const { encodeKey } = await import('../src/engine/items/format.js');
  const onServer = twoSided ? Math.ceil(d / 2) : d;
  let sampleNo = 0;
  const prepare = (path: string, n: number, salt: string): string => {
    copyDb(base, path);
    const store = WriteStore.open(path);
    store.put(encodeKey(signer.name, signer.pair.publicKey));
    if (n > 0) addTags(store, 'bench.big', signer, n, `${salt}-${sampleNo}`);
    store.close();
    return path;
  };
  const once = async (clientEnv: NodeJS.ProcessEnv, warm: boolean) => {
    sampleNo++;
    const a = prepare(join(work, 'diff-server.db'), onServer, 'server');
    const b = prepare(join(work, 'diff-client.db'), d - onServer, 'client');
    const w = warm ? prepare(join(work, 'diff-warm.db'), Math.max(d, 1), 'warm') : null;
    const server = await serve(a, env);
    if (w) await client(w, 'pull', server.port, 'bench.big', env); // the server's earlier session
    const run = await client(b, 'sync', server.port, 'bench.big', clientEnv);
    const { maxRssMiB } = await server.stop();
    return { run, serverRss: maxRssMiB };
  };
  const series = async (n: number, clientEnv: NodeJS.ProcessEnv, warm: boolean) => {
    const out: Awaited<ReturnType<typeof once>>[] = [];
    for (let i = 0; i < n; i++) out.push(await once(clientEnv, warm));
    return out;
  };
  const ms = (xs: { run: ClientRun }[]) => Math.round(median(xs.map((x) => x.run.ms)));
  const here = await series(EXTRA_CA ? Math.max(1, Math.ceil(samples / 2)) : samples, env, true);
  const noExtraCa = EXTRA_CA ? await series(samples, withoutExtraCa(env), true) : null;
  const goalEnv = EXTRA_CA ? withoutExtraCa(env) : env;
  const first = await series(Math.max(1, Math.ceil(samples / 2)), goalEnv, false);
  const judged = noExtraCa ?? here;
  const mid = judged.slice().sort((x, y) => x.run.ms - y.run.ms)[Math.floor(judged.length / 2)]!;
  return {
    bench: `sync d=${d} ${twoSided ? 'two-sided' : 'one-sided'} in ${manifests * 1000}+ items (median of ${judged.length})`,
    items: mid.run.json.itemsReceived! + mid.run.json.itemsSent!,
    ms: ms(here),
    ...(noExtraCa ? { msNoExtraCa: ms(noExtraCa) } : {}),
    msFirstSession: ms(first),
    sessionMs: Math.round(median(judged.map((x) => x.run.json.ms!))),
    roundTrips: Math.max(...judged.map((x) => x.run.json.roundTrips!)),
    reconBytes: Math.max(...judged.map((x) => reconBytes(x.run.json))),
    totalBytes: mid.run.json.bytesSent! + mid.run.json.bytesReceived!,
    clientRssMiB: Math.max(...judged.map((x) => x.run.maxRssMiB ?? 0)),
    serverRssMiB: Math.max(...judged.map((x) => x.serverRss ?? 0)),
  };
}

async function upToDate(work: string, manifests: number, env: NodeJS.ProcessEnv): Promise<Row> {
  const base = bigDatabase(work, manifests);
  const a = copyDb(base, join(work, 'same-server.db'));
  const b = copyDb(base, join(work, 'same-client.db'));
  const server = await serve(a, env);
  const runs: ClientRun[] = [];
  for (let i = 0; i < 7; i++) runs.push(await client(b, 'sync', server.port, 'bench.big', env));
  const plain: ClientRun[] = [];
  for (let i = 0; EXTRA_CA && i < 7; i++) plain.push(await client(b, 'sync', server.port, 'bench.big', withoutExtraCa(env)));
  const { maxRssMiB } = await server.stop();
  const last = runs[runs.length - 1]!;
  return {
    bench: `up-to-date check of ${manifests * 1000}+ items (median of 7)`,
    items: 0,
    ms: Math.round(median(runs.map((r) => r.ms))),
    ...(plain.length ? { msNoExtraCa: Math.round(median(plain.map((r) => r.ms))) } : {}),
    sessionMs: last.json.ms!,
    roundTrips: last.json.roundTrips!,
    reconBytes: reconBytes(last.json),
    totalBytes: last.json.bytesSent! + last.json.bytesReceived!,
    clientRssMiB: last.maxRssMiB,
    serverRssMiB: maxRssMiB,
  };
}

async function firstClone(
  work: string,
  label: string,
  manifests: number,
  filesPerManifest: number,
  fileBytes: number,
  env: NodeJS.ProcessEnv,
  runs = 1,
): Promise<Row> {
  return cloneOf(work, label, cloneSource(work, manifests, filesPerManifest, fileBytes), 'bench.clone', env, runs);
}

/** The database a first clone pulls from (and a first push pushes): branch bench.clone, made once and cached. */
function cloneSource(work: string, manifests: number, filesPerManifest: number, fileBytes: number): string {
  const source = join(work, `clone-${manifests}x${filesPerManifest}x${fileBytes}.db`);
  if (!existsSync(source)) {
    const tmp = freshDb(`${source}.tmp`);
    const store = WriteStore.open(tmp);
    populate(store, { branch: 'bench.clone', manifests, filesPerManifest, fileBytes, signer: benchSigner() });
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    copyDb(tmp, source);
    for (const suffix of ['', '-wal', '-shm']) rmSync(tmp + suffix, { force: true });
  }
  return source;
}

/**
 * A first clone (pull into an empty database) of `branch` from a copy of
 * `source`: the command as a user runs it, a fresh client process each time.
 * With `runs` > 1 (the 100k clone, compared with the ingest): the median of
 * `runs`, each into a new empty database, from one server that has served
 * one untimed clone first, as a server that has been running has (its code
 * compiled and optimised: a server process's first session after its start
 * cost the clone ~0.14 s more, 3 alternating runs at 12:00 UTC), and the
 * client runs without NODE_EXTRA_CA_CERTS, as the other goals are judged
 * (see above; it costs every command ~35 ms here). With one run (the large
 * clones, which measure memory): a fresh server, its peak RSS that of this
 * one clone.
 */
async function cloneOf(work: string, label: string, source: string, branch: string, env: NodeJS.ProcessEnv, runs = 1): Promise<Row> {
  const done: ClientRun[] = [];
  const clientEnv = runs > 1 && EXTRA_CA ? withoutExtraCa(env) : env;
  const server = await serve(copyDb(source, join(work, 'clone-server.db')), env);
  for (let i = runs > 1 ? -1 : 0; i < runs; i++) {
    const b = freshDb(join(work, 'clone-client.db'));
    const run = await client(b, 'pull', server.port, branch, clientEnv);
    for (const suffix of ['', '-wal', '-shm']) rmSync(b + suffix, { force: true });
    if (i >= 0) done.push(run);
  }
  const { maxRssMiB: serverRssMiB } = await server.stop();
  const run = done.sort((x, y) => x.ms - y.ms)[Math.floor(runs / 2)]!;
  const items = run.json.itemsReceived!;
  const bytes = run.json.bytesReceived!;
  return {
    bench: `first clone: ${label}${runs > 1 ? ` (median of ${runs}, a server that has served one before${clientEnv === env ? '' : `, without ${EXTRA_CA}`})` : ''}`,
    items,
    ms: Math.round(run.ms),
    itemsPerSec: Math.round((items * 1000) / run.ms),
    MBps: bytes / 1e6 / (run.ms / 1000),
    roundTrips: run.json.roundTrips!,
    reconBytes: reconBytes(run.json),
    totalBytes: run.json.bytesSent! + bytes,
    clientRssMiB: run.maxRssMiB,
    serverRssMiB,
  };
}

/**
 * The first clone as the desktop app runs it: the engine's client in a
 * process that lives on (here this benchmark's process), against a server
 * process that lives on too. The first clone warms both up (their code
 * compiled and optimised, as in an app that has synced before and a server
 * that has served before) and is not timed; then `runs` clones are timed,
 * each into a new empty database, from the call until that database is
 * closed (its last checkpoint included, as in the ingest). The like-for-like
 * counterpart of `ingest`, which is timed warm in one process too; the
 * command-line clone above pays a process's start and its cold code, as a
 * user running the command does, and compares with `ingest-cold`.
 * clientRssMiB is this whole process's peak, the client's and the harness's.
 */
async function warmClone(work: string, label: string, source: string, branch: string, env: NodeJS.ProcessEnv, runs: number): Promise<Row> {
  const done: { ms: number; summary: SessionSummary }[] = [];
  const server = await serve(copyDb(source, join(work, 'clone-server.db')), env);
  for (let i = 0; i <= runs; i++) {
    const run = await cloneInProcess(work, server.port, branch, env);
    if (i > 0) done.push(run);
  }
  const { maxRssMiB } = await server.stop();
  const run = done.sort((x, y) => x.ms - y.ms)[Math.floor(runs / 2)]!;
  const s = run.summary;
  return {
    bench: `first clone, in a process that lives on (as the app runs it): ${label} (median of ${runs}, after one untimed)`,
    items: s.itemsReceived,
    ms: Math.round(run.ms),
    itemsPerSec: Math.round((s.itemsReceived * 1000) / run.ms),
    MBps: s.bytesReceived / 1e6 / (run.ms / 1000),
    roundTrips: s.roundTrips,
    reconBytes: s.reconBytesSent + s.reconBytesReceived,
    totalBytes: s.bytesSent + s.bytesReceived,
    clientRssMiB: peakRssMiB(),
    serverRssMiB: maxRssMiB,
  };
}

/** One first clone by the engine's client in this process, into a new empty database: its time and summary. */
async function cloneInProcess(work: string, port: number, branch: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; summary: SessionSummary }> {
  const b = freshDb(join(work, 'clone-client.db'));
  const t0 = process.hrtime.bigint();
  const summary = await runClientSession({
    db: b,
    host: '127.0.0.1',
    port,
    patterns: [branch],
    direction: 'pull',
    dryRun: false,
    configDir: env.NETSYNC_CONFIG_DIR,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const suffix of ['', '-wal', '-shm']) rmSync(b + suffix, { force: true });
  return { ms, summary };
}

/**
 * The first clone's share of the ingest's throughput, measured in pairs run
 * back to back: this VM's speed drifts by up to 40% within an hour, and
 * rows of one run taken minutes apart carry that drift into their ratio.
 * `pairs` times, each pairing of `cloneRatios` (bench/main.ts) as an ingest
 * then a clone, adjacent in time: the app's (an ingest and a clone in this
 * process, which lives on) and the command's (an ingest in a fresh process,
 * then `netsync pull` in a fresh process; and the strictest, that command
 * against the ingest in this process). One server that has served
 * before; the first clone and ingest of this process are not timed. The
 * median ratio of the pairs, and their range.
 */
async function pairedRatios(work: string, manifests: number, env: NodeJS.ProcessEnv, pairs: number): Promise<Row> {
  const source = cloneSource(work, manifests, 1000, 1024);
  const server = await serve(copyDb(source, join(work, 'clone-server.db')), env);
  const { all } = ingestItems(manifests);
  const ingestDb = join(work, 'ingest-paired.db');
  await cloneInProcess(work, server.port, 'bench.clone', env);
  timeIngest(ingestDb, all);
  const app: number[] = [];
  const command: number[] = [];
  const strictest: number[] = [];
  const commandEnv = EXTRA_CA ? withoutExtraCa(env) : env;
  for (let i = 0; i < pairs; i++) {
    const ingestMs = timeIngest(ingestDb, all);
    app.push(ingestMs / (await cloneInProcess(work, server.port, 'bench.clone', env)).ms);
    const cold = await runChild(process.execPath, ['--expose-gc', process.argv[1]!, '--case', 'ingest-once', ...(manifests < 100 ? ['--quick'] : [])]);
    const coldRow = /BENCH_ROW (.*)/.exec(cold.stdout);
    if (!coldRow) throw new Error(`ingest-once failed: ${cold.stderr}`);
    const b = freshDb(join(work, 'clone-client.db'));
    const run = await client(b, 'pull', server.port, 'bench.clone', commandEnv);
    for (const suffix of ['', '-wal', '-shm']) rmSync(b + suffix, { force: true });
    command.push(((JSON.parse(coldRow[1]!) as Row).ms as number) / run.ms);
    strictest.push(ingestMs / run.ms);
  }
  await server.stop();
  for (const suffix of ['', '-wal', '-shm']) rmSync(ingestDb + suffix, { force: true });
  const pct = (xs: number[]) => Math.round(100 * median(xs));
  const range = (xs: number[]) => `${Math.round(100 * Math.min(...xs))}-${Math.round(100 * Math.max(...xs))}%`;
  return {
    bench: `first clone / ingest of the same items, in ${pairs} pairs back to back (median; range)`,
    items: all.length,
    appPercent: pct(app),
    appRange: range(app),
    commandPercent: pct(command),
    commandRange: range(command),
    strictestPercent: pct(strictest),
    strictestRange: range(strictest),
  };
}

/** A first push: `source`'s branch into a server whose database is empty (WELCOME EMPTY: whole slots). */
async function firstPush(work: string, label: string, manifests: number, env: NodeJS.ProcessEnv): Promise<Row> {
  const source = cloneSource(work, manifests, 1000, 1024);
  const a = freshDb(join(work, 'push-server.db'));
  const b = copyDb(source, join(work, 'push-client.db'));
  const server = await serve(a, env);
  const run = await client(b, 'push', server.port, 'bench.clone', EXTRA_CA ? withoutExtraCa(env) : env);
  const { maxRssMiB } = await server.stop();
  rmSync(a, { force: true });
  const items = run.json.itemsSent!;
  return {
    bench: `first push: ${label}${EXTRA_CA ? ` (without ${EXTRA_CA})` : ''}`,
    items,
    ms: Math.round(run.ms),
    itemsPerSec: Math.round((items * 1000) / run.ms),
    MBps: run.json.bytesSent! / 1e6 / (run.ms / 1000),
    roundTrips: run.json.roundTrips!,
    reconBytes: reconBytes(run.json),
    totalBytes: run.json.bytesSent! + run.json.bytesReceived!,
    clientRssMiB: run.maxRssMiB,
    serverRssMiB: maxRssMiB,
  };
}

export function cases(work: string, quick: boolean, huge = false): { name: string; run: () => Promise<Row> }[] {
  const manifests = quick ? 100 : 1000;
  // One identity for both processes: a server's own key may read and write
  // everything (docs/SECURITY.md), which is what a benchmark wants.
  const env = { NETSYNC_CONFIG_DIR: join(work, 'config') };
  mkdirSync(env.NETSYNC_CONFIG_DIR, { recursive: true });
  const keys = new KeyStore(join(env.NETSYNC_CONFIG_DIR, 'keys'));
  if (!keys.has('bench@example.org')) keys.generate('bench@example.org');
  const bigManifests = quick ? 1 : 10; // x 100 files of 1 MiB
  return [
    { name: 'node-start', run: () => nodeStart() },
    { name: 'uptodate', run: () => upToDate(work, manifests, env) },
    // --huge: the same checks over 10,000,000 items (a 3 GB database, made once and cached).
    ...(huge
      ? [
          { name: 'uptodate-10m', run: () => upToDate(work, 10_000, env) },
          { name: 'd100-one-10m', run: () => difference(work, 10_000, 100, false, env, 3) },
        ]
      : []),
    ...[1, 100, 10_000].flatMap((d) => {
      const samples = quick ? 1 : d === 100 ? 5 : 3; // d = 100 carries the command-time goal
      return [
        { name: `d${d}-one`, run: () => difference(work, manifests, d, false, env, samples) },
        { name: `d${d}-two`, run: () => difference(work, manifests, d, true, env, samples) },
      ];
    }),
    { name: 'clone-100k', run: () => firstClone(work, `${quick ? 10 : 100}k items of 1 KiB`, quick ? 10 : 100, 1000, 1024, env, quick ? 1 : 3) },
    {
      name: 'clone-100k-warm',
      run: () => warmClone(work, `${quick ? 10 : 100}k items of 1 KiB`, cloneSource(work, quick ? 10 : 100, 1000, 1024), 'bench.clone', env, quick ? 1 : 3),
    },
    { name: 'clone-ratio', run: () => pairedRatios(work, quick ? 10 : 100, env, quick ? 1 : 5) },
    { name: 'push-100k', run: () => firstPush(work, `${quick ? 10 : 100}k items of 1 KiB into an empty server`, quick ? 10 : 100, env) },
    // Memory per item moved, at scale: the 1,005,001-item collection (16-byte files) into an empty database.
    {
      name: 'clone-1m',
      run: () => cloneOf(work, `${manifests * 1000}+ items of 16 B (the up-to-date collection)`, bigDatabase(work, manifests), 'bench.big', env),
    },
    { name: 'clone-1g', run: () => firstClone(work, `${bigManifests * 100} MiB in 1 MiB items`, bigManifests, 100, 1 << 20, env) },
  ];
}
