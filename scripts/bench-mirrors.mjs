// Measures how long mirrors take to agree (issue #20): N `netsync serve`
// processes on loopback in a full mesh (each names every other with
// --mirror), sharing one server key; a client pushes a new commit to one of
// them, and the clock runs until every server holds every item of it.
// Prints a table and writes bench-results/mirrors.json; never a pass/fail.
//
//   node scripts/bench-mirrors.mjs [N...]      (default: 3 5; runs 5 pushes each)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'netsync.cjs');
const PUSHES = 5;
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n >= 2);

function cli(cfg, args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, NETSYNC_CONFIG_DIR: cfg }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`netsync ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function freePort() {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every item id of a database. */
function idsOf(db) {
  const d = new Database(db, { readonly: true });
  try {
    return d
      .prepare('SELECT id FROM items')
      .all()
      .map((r) => r.id);
  } finally {
    d.close();
  }
}

async function run(n) {
  const root = mkdtempSync(join(tmpdir(), 'netsync-mirrors-'));
  const procs = [];
  try {
    const servers = Array.from({ length: n }, (_, i) => ({ db: join(root, `s${i}.db`), cfg: join(root, `cfg-${i}`) }));
    mkdirSync(servers[0].cfg, { recursive: true });
    cli(servers[0].cfg, ['--db', servers[0].db, 'key', 'generate', 'mirror@example.org']);
    for (const s of servers) {
      if (s !== servers[0]) cpSync(join(servers[0].cfg, 'keys'), join(s.cfg, 'keys'), { recursive: true });
      writeFileSync(join(s.cfg, 'permissions'), 'read * *\nwrite * *\n');
      cli(s.cfg, ['--db', s.db, 'db', 'init']);
    }
    const ports = await Promise.all(servers.map(() => freePort()));
    const address = (i) => `127.0.0.1:${ports[i]}`;
    servers.forEach((s, i) => {
      const mirrors = servers.flatMap((_, j) => (j === i ? [] : ['--mirror', address(j)]));
      const p = spawn(process.execPath, [CLI, '--db', s.db, 'serve', '--bind', address(i), ...mirrors], {
        env: { ...process.env, NETSYNC_CONFIG_DIR: s.cfg },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      p.log = '';
      p.stderr.on('data', (d) => (p.log += d));
      procs.push(p);
    });
    // Settled: every server has met every other (early tries met servers not yet started and backed off).
    const settled = () => procs.every((p, i) => servers.every((_, j) => j === i || p.log.includes(`up to date with ${address(j)}`)));
    for (let t = 0; t < 1200 && !settled(); t++) await sleep(100);
    if (!settled()) throw new Error(`${n} servers did not all meet each other within 120 s`);

    const client = { db: join(root, 'client.db'), cfg: join(root, 'cfg-client') };
    mkdirSync(client.cfg, { recursive: true });
    cli(client.cfg, ['--db', client.db, 'db', 'init']);
    cli(client.cfg, ['--db', client.db, 'key', 'generate', 'client@example.org']);
    const times = [];
    for (let k = 0; k < PUSHES; k++) {
      const work = join(root, `work-${k}`);
      mkdirSync(work, { recursive: true });
      writeFileSync(join(work, 'file.txt'), `push ${k} ${Date.now()}\n`);
      cli(client.cfg, ['--db', client.db, 'commit', work, '--branch', 'org.example.bench', '-m', `push ${k}`]);
      const want = idsOf(client.db).map((b) => b.toString('hex'));
      const target = k % n;
      cli(client.cfg, ['--db', client.db, 'push', address(target), 'org.example.*']);
      const pushed = performance.now();
      const handles = servers.map((s) => new Database(s.db, { readonly: true }));
      // Ids as hex in a JSON array: one query per server and look.
      const wantJson = JSON.stringify(want.map((h) => h.toUpperCase()));
      const holding = handles.map((h) => h.prepare('SELECT count(*) AS n FROM items WHERE hex(id) IN (SELECT value FROM json_each(?))'));
      for (;;) {
        if (holding.every((q) => q.get(wantJson).n === want.length)) break;
        if (performance.now() - pushed > 60_000) throw new Error(`no convergence within 60 s for ${n} servers`);
        await sleep(10);
      }
      times.push(performance.now() - pushed);
      for (const h of handles) h.close();
      await sleep(1500);
    }
    return times;
  } finally {
    // Every server stopped before its files go.
    await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((done) => p.once('exit', done).kill('SIGTERM')))));
    rmSync(root, { recursive: true, force: true, maxRetries: 5 });
  }
}

const results = [];
for (const n of sizes.length ? sizes : [3, 5]) {
  const times = await run(n);
  const sorted = [...times].sort((a, b) => a - b);
  results.push({
    servers: n,
    pushes: times.length,
    medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]),
    maxMs: Math.round(sorted.at(-1)),
    times: times.map(Math.round),
  });
}
console.log('servers  pushes  median ms  max ms   (push done -> every server holds every item; full mesh, loopback)');
for (const r of results)
  console.log(`${String(r.servers).padStart(7)}  ${String(r.pushes).padStart(6)}  ${String(r.medianMs).padStart(9)}  ${String(r.maxMs).padStart(6)}`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/mirrors.json', `${JSON.stringify({ when: new Date().toISOString(), results }, null, 2)}\n`);
