#!/usr/bin/env node
// Change-proportional history (format v4), measured: 100,000 files of 1 KiB, in 100
// folders of 1,000 and in one flat folder. For each shape, after a first commit and a
// first pull into a second database: change 1 file, then time the re-commit (netsync
// beside `git add -A && git commit` on the same tree, in the same run), count the bytes
// of the items that commit added, and time the pull of that change into the second
// database over loopback (bytes from the session's own count). Median of RUNS.
//
//   npm run build:cli && node bench/history.mjs [FILES] [RUNS]
//
// Prints a table and writes bench-results/history.json. Needs git on the PATH.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'netsync.cjs');
const FILES = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const work = mkdtempSync(join(tmpdir(), 'netsync-history-'));
const env = { ...process.env, NETSYNC_CONFIG_DIR: join(work, 'config'), HOME: work };
for (const k of Object.keys(env)) if (k.startsWith('NETSYNC_') && k !== 'NETSYNC_CONFIG_DIR') delete env[k];

function cli(db, ...args) {
  const r = spawnSync(process.execPath, [CLI, '--db', db, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`netsync ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function timed(fn) {
  const t = process.hrtime.bigint();
  const out = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, out };
}

/** git with its repository beside the tree, not in it (netsync would commit `.git` too). */
function git(dir, ...args) {
  execFileSync('git', [`--git-dir=${dir}.git`, `--work-tree=${dir}`, ...args], {
    stdio: 'ignore',
    env: { ...env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' },
  });
}

function maxRid(db) {
  const h = new Database(db, { readonly: true });
  try {
    return h.prepare('SELECT coalesce(max(rid), 0) AS r FROM items').get().r;
  } finally {
    h.close();
  }
}

function newItemsSince(db, rid) {
  const h = new Database(db, { readonly: true });
  try {
    return h.prepare('SELECT count(*) AS n, coalesce(sum(length(data)), 0) AS bytes FROM items WHERE rid > ?').get(rid);
  } finally {
    h.close();
  }
}

function makeTree(dir, folders) {
  const per = Math.ceil(FILES / folders);
  for (let f = 0; f < folders; f++) {
    const sub = folders === 1 ? dir : join(dir, `d${String(f).padStart(3, '0')}`);
    mkdirSync(sub, { recursive: true });
    for (let i = 0; i < per && f * per + i < FILES; i++) writeFileSync(join(sub, `f${String(f * per + i).padStart(6, '0')}.txt`), randomBytes(1024));
  }
}

async function serve(db) {
  const child = spawn(process.execPath, [CLI, '--db', db, 'serve', '--bind', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  for (let i = 0; i < 400; i++) {
    const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return { port: Number(m[1]), stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('serve did not start');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function shape(name, folders) {
  const dir = join(work, name);
  const a = join(work, `${name}-a.db`);
  const b = join(work, `${name}-b.db`);
  const branch = `bench.${name}`;
  makeTree(dir, folders);
  cli(a, 'db', 'init');
  cli(b, 'db', 'init');
  const first = timed(() => cli(a, 'commit', dir, '--branch', branch, '-m', 'first'));
  git(dir, 'init', '-q');
  const gitFirst = timed(() => git(dir, 'add', '-A') || git(dir, 'commit', '-q', '-m', 'first'));
  const server = await serve(a);
  const addr = `127.0.0.1:${server.port}`;
  const clone = timed(() => JSON.parse(cli(b, 'pull', addr, branch, '--json').trim().split('\n').pop()));
  const runs = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const target =
        folders === 1
          ? join(dir, `f${String(54_321 % FILES).padStart(6, '0')}.txt`)
          : join(dir, 'd054', `f${String(54 * Math.ceil(FILES / folders) + 321).padStart(6, '0')}.txt`);
      writeFileSync(target, randomBytes(1024));
      const before = maxRid(a);
      const commit = timed(() => cli(a, 'commit', dir, '--branch', branch, '-m', `change ${run}`));
      const added = newItemsSince(a, before);
      const gitCommit = timed(() => {
        git(dir, 'add', '-A');
        git(dir, 'commit', '-q', '-m', `change ${run}`);
      });
      const pull = timed(() => JSON.parse(cli(b, 'pull', addr, branch, '--json').trim().split('\n').pop()));
      runs.push({
        commitMs: commit.ms,
        gitCommitMs: gitCommit.ms,
        newItems: added.n,
        newItemBytes: added.bytes,
        pullMs: pull.ms,
        pullSessionMs: pull.out.ms,
        pullBytesReceived: pull.out.bytesReceived,
        pullBytesSent: pull.out.bytesSent,
        pullItems: pull.out.itemsReceived,
      });
    }
  } finally {
    server.stop();
  }
  const med = (k) => median(runs.map((r) => r[k]));
  return {
    shape: name,
    files: FILES,
    folders,
    firstCommitMs: first.ms,
    gitFirstCommitMs: gitFirst.ms,
    cloneMs: clone.ms,
    cloneBytesReceived: clone.out.bytesReceived,
    recommitMs: med('commitMs'),
    gitRecommitMs: med('gitCommitMs'),
    newItems: med('newItems'),
    newItemBytes: med('newItemBytes'),
    pullMs: med('pullMs'),
    pullSessionMs: med('pullSessionMs'),
    pullBytesReceived: med('pullBytesReceived'),
    pullBytesSent: med('pullBytesSent'),
    pullItems: med('pullItems'),
    runs,
  };
}

try {
  cli(join(work, 'keys.db'), 'db', 'init');
  cli(join(work, 'keys.db'), 'key', 'generate', 'bench@example.org');
  const results = [];
  for (const [name, folders] of [
    ['d100', 100],
    ['flat', 1],
  ]) {
    const r = await shape(name, folders);
    results.push(r);
    process.stderr.write(`${name} done\n`);
  }
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  console.log(`history bench: ${fmt(FILES)} files of 1 KiB, median of ${RUNS}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}`);
  console.log(
    '| shape | re-commit (1 file) | git add -A && commit | new items | new item bytes | pull: time | pull: bytes in / out | first commit | git first | clone |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.shape === 'flat' ? '1 folder' : '100 folders'} | ${fmt(r.recommitMs)} ms | ${fmt(r.gitRecommitMs)} ms | ${r.newItems} | ${fmt(r.newItemBytes)} B | ${fmt(r.pullMs)} ms (session ${fmt(r.pullSessionMs)} ms) | ${fmt(r.pullBytesReceived)} B / ${fmt(r.pullBytesSent)} B | ${fmt(r.firstCommitMs)} ms | ${fmt(r.gitFirstCommitMs)} ms | ${fmt(r.cloneMs)} ms, ${fmt(r.cloneBytesReceived)} B |`,
    );
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'history.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
