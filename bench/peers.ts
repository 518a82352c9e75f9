/**
 * The user's commands side by side with git's (and fossil's and rsync's, when
 * installed): the same tree committed by each tool's own command, served by
 * its own server on 127.0.0.1 (`netsync serve`, `git daemon`, `fossil
 * server`, `rsync --daemon`), then a first clone into an empty store and an up-to-date check,
 * each timed as a user times it: process start to exit, the client's
 * environment without NODE_EXTRA_CA_CERTS, as on a user's machine. The runs
 * are interleaved, tool after tool, and each ratio is taken within one such
 * round (the VM's speed drifts within minutes); medians are reported. The
 * servers are started fresh and every timed run counts, the first session
 * of each server included, as an outside harness sees them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { type Row, median, runChild } from './util.js';

const CLI = resolve('bin/netsync.cjs');
const BRANCH = 'bench.peers';

/** One tool's side: an empty store to clone into, the two timed commands, and what a clone occupies. */
interface Tool {
  name: string;
  /** An empty store for run `i` (not timed): its path. */
  prepare(i: number): string;
  clone(target: string): string[];
  /** The up-to-date check of the cloned store `target`. */
  fetch(target: string): string[];
  /** Bytes on disk of a cloned store (netsync: the database with its -wal and -shm; git: .git/objects; fossil: its file; rsync: the files). */
  bytes(target: string): number;
  stop(): void;
}

/** Every tool's environment: a HOME of its own, no CA variable (netsync uses no CA). */
function toolEnv(work: string): NodeJS.ProcessEnv {
  const home = join(work, 'home');
  mkdirSync(home, { recursive: true });
  return {
    ...process.env,
    HOME: home,
    USER: 'bench', // fossil names the committer after it
    NODE_EXTRA_CA_CERTS: '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.org',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.org',
    NETSYNC_CONFIG_DIR: join(work, 'netsync-config'),
  };
}

function run(argv: string[], env: NodeJS.ProcessEnv, cwd?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { env, cwd, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Files 0..n-1 of `size` bytes in folders of 1,000, each different and incompressible; made once. */
function generatedTree(work: string, n: number, size: number): string {
  const dir = join(work, `peers-tree-${n}x${size}`);
  if (existsSync(`${dir}.complete`)) return dir;
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${String(Math.floor(i / 1000)).padStart(4, '0')}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    const out = Buffer.alloc(size);
    for (let at = 0, block = 0; at < size; at += 32, block++) createHash('sha256').update(`1/${i}/${block}`).digest().copy(out, at);
    writeFileSync(join(sub, `f${String(i).padStart(7, '0')}.bin`), out);
  }
  writeFileSync(`${dir}.complete`, '');
  return dir;
}

function diskBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + diskBytes(join(path, name)), 0);
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
  });
}

/** Starts a server; waits until `ready` matches its output (its first group: the port) or `ready`, a port, accepts. */
async function startServer(argv: string[], env: NodeJS.ProcessEnv, ready: RegExp | number, cwd?: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  child.on('exit', () => (exited = true));
  for (let tries = 0; tries < 600; tries++) {
    if (exited) throw new Error(`${argv.join(' ')} exited: ${out}`);
    if (typeof ready === 'number') {
      if (await accepts(ready)) return { child, port: ready };
    } else {
      const m = ready.exec(out);
      if (m) return { child, port: Number(m[1]) };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${argv.join(' ')} did not start: ${out}`);
}

async function netsyncTool(work: string, tree: string, env: NodeJS.ProcessEnv): Promise<Tool> {
  const ns = (...args: string[]) => run([process.execPath, CLI, ...args], env);
  mkdirSync(env.NETSYNC_CONFIG_DIR!, { recursive: true });
  writeFileSync(join(env.NETSYNC_CONFIG_DIR!, 'permissions'), 'read * bench.*\nwrite * bench.*\n');
  for (const key of ['server@bench.example', 'client@bench.example']) if (!ns('key', 'list').includes(key)) ns('key', 'generate', key);
  const db = join(work, 'netsync-server.db');
  if (!existsSync(`${db}.complete`)) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
    ns('--db', db, 'db', 'init');
    ns('--db', db, 'commit', tree, '--branch', BRANCH, '--message', 'base', '--key', 'server@bench.example');
    writeFileSync(`${db}.complete`, '');
  }
  const serve = [process.execPath, CLI, '--db', db, 'serve', '--bind', '127.0.0.1:0', '--key', 'server@bench.example', 'bench.*'];
  const { child, port } = await startServer(serve, env, /serving .* on 127\.0\.0\.1:(\d+)/);
  const pull = (target: string) => [process.execPath, CLI, '--db', target, 'pull', `127.0.0.1:${port}`, 'bench.*', '--key', 'client@bench.example'];
  return {
    name: 'netsync',
    prepare: (i) => {
      const target = join(work, `netsync-clone-${i}.db`);
      for (const suffix of ['', '-wal', '-shm']) rmSync(target + suffix, { force: true });
      ns('--db', target, 'db', 'init');
      return target;
    },
    clone: pull,
    fetch: pull,
    bytes: (target) => diskBytes(target) + diskBytes(`${target}-wal`) + diskBytes(`${target}-shm`),
    stop: () => child.kill('SIGTERM'),
  };
}

async function gitTool(work: string, tree: string, env: NodeJS.ProcessEnv): Promise<Tool> {
  const base = join(work, 'git-server');
  const repo = join(base, 'bench.git');
  if (!existsSync(`${repo}.complete`)) {
    rmSync(base, { recursive: true, force: true });
    run(['git', 'init', '-q', '--bare', repo], env);
    const git = (...args: string[]) => run(['git', `--git-dir=${repo}`, `--work-tree=${tree}`, ...args], env, tree);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    git('repack', '-adbq'); // one pack and its bitmap, as a hosted repository after gc
    writeFileSync(`${repo}.complete`, '');
  }
  const port = await freePort();
  const daemon = ['git', 'daemon', '--listen=127.0.0.1', `--port=${port}`, '--export-all', `--base-path=${base}`, '--reuseaddr', base];
  const { child } = await startServer(daemon, env, port);
  const url = `git://127.0.0.1:${port}/bench.git`;
  return {
    name: 'git',
    prepare: (i) => {
      const target = join(work, `git-clone-${i}`);
      rmSync(target, { recursive: true, force: true });
      return target;
    },
    clone: (target) => ['git', 'clone', '-q', '--no-checkout', url, target],
    fetch: (target) => ['git', '-C', target, 'fetch', '-q', url, '+refs/heads/*:refs/remotes/origin/*'],
    bytes: (target) => diskBytes(join(target, '.git', 'objects')),
    stop: () => child.kill('SIGTERM'),
  };
}

async function fossilTool(work: string, tree: string, env: NodeJS.ProcessEnv): Promise<Tool> {
  const repo = join(work, 'fossil-server.fossil');
  const checkout = join(work, 'fossil-checkout');
  if (!existsSync(`${repo}.complete`)) {
    rmSync(repo, { force: true });
    rmSync(checkout, { recursive: true, force: true });
    run(['cp', '-al', tree, checkout], env); // fossil keeps its checkout file in the tree
    run(['fossil', 'new', '-A', 'bench', repo], env);
    run(['fossil', 'user', 'password', 'bench', 'bench', '-R', repo], env);
    run(['fossil', 'open', '-f', repo], env, checkout);
    run(['fossil', 'settings', 'autosync', 'off'], env, checkout);
    run(['fossil', 'add', '.'], env, checkout);
    run(['fossil', 'commit', '-m', 'base', '--no-warnings'], env, checkout);
    writeFileSync(`${repo}.complete`, '');
  }
  const port = await freePort();
  const { child } = await startServer(['fossil', 'server', '--port', String(port), '--localhost', repo], env, port);
  const url = `http://bench:bench@127.0.0.1:${port}/`;
  return {
    name: 'fossil',
    prepare: (i) => {
      const target = join(work, `fossil-clone-${i}.fossil`);
      rmSync(target, { force: true });
      return target;
    },
    clone: (target) => ['fossil', 'clone', '--once', '-A', 'bench', url, target],
    fetch: (target) => ['fossil', 'pull', '--once', url, '-R', target],
    bytes: (target) => diskBytes(target),
    stop: () => child.kill('SIGTERM'),
  };
}

/** rsync copies the files themselves (its clone writes the tree out, which git's and fossil's do not). */
async function rsyncTool(work: string, tree: string, env: NodeJS.ProcessEnv): Promise<Tool> {
  const port = await freePort();
  const config = join(work, 'rsyncd.conf');
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  writeFileSync(config, `uid = ${uid}\ngid = ${gid}\nuse chroot = false\n[tree]\npath = ${tree}\nread only = true\n`);
  const daemon = ['rsync', '--daemon', '--no-detach', '--address=127.0.0.1', `--port=${port}`, `--config=${config}`];
  const { child } = await startServer(daemon, env, port);
  const url = `rsync://127.0.0.1:${port}/tree/`;
  return {
    name: 'rsync',
    prepare: (i) => {
      const target = join(work, `rsync-clone-${i}`);
      rmSync(target, { recursive: true, force: true });
      return target;
    },
    clone: (target) => ['rsync', '-a', url, `${target}/`],
    fetch: (target) => ['rsync', '-a', url, `${target}/`],
    bytes: (target) => diskBytes(target),
    stop: () => child.kill('SIGTERM'),
  };
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

async function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const r = await runChild(argv[0]!, argv.slice(1), env);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.ms;
}

/**
 * A first clone and an up-to-date check of an `n`-file tree (files of
 * `size` bytes), netsync beside git and fossil: `clones` rounds of one
 * clone each, then `checks` rounds of one up-to-date check each.
 */
export async function sideBySide(work: string, n: number, size: number, clones: number, checks: number): Promise<Row> {
  const dir = join(work, `peers-${n}x${size}`);
  mkdirSync(dir, { recursive: true });
  const env = toolEnv(dir);
  const tree = generatedTree(work, n, size);
  const tools: Tool[] = [];
  try {
    tools.push(await netsyncTool(dir, tree, env));
    tools.push(await gitTool(dir, tree, env));
    if (hasCommand('fossil')) tools.push(await fossilTool(dir, tree, env));
    if (hasCommand('rsync')) tools.push(await rsyncTool(dir, tree, env));
    const clone = new Map<string, number[]>(tools.map((t) => [t.name, []]));
    const check = new Map<string, number[]>(tools.map((t) => [t.name, []]));
    const targets = new Map<string, string>();
    for (let i = 0; i < clones; i++) {
      for (const t of tools) {
        const target = t.prepare(i);
        run(['sync'], env); // the untimed preparation's writes do not land in the timed run
        clone.get(t.name)!.push(await timed(t.clone(target), env));
        targets.set(t.name, target);
      }
    }
    for (let i = 0; i < checks; i++) {
      for (const t of tools) check.get(t.name)!.push(await timed(t.fetch(targets.get(t.name)!), env));
    }
    const row: Row = {
      bench: `side by side: ${n} files of ${size} B, first clone (median of ${clones}) and up-to-date check (median of ${checks})`,
      // The machine's load at the end: above its 2 cores, other work shared them and every time grew.
      load1: Math.round(100 * loadavg()[0]!) / 100,
    };
    const ratio = (xs: Map<string, number[]>, peer: string) => {
      const own = xs.get('netsync')!;
      const theirs = xs.get(peer)!;
      return Math.round(100 * median(own.map((ms, i) => ms / theirs[i]!))) / 100;
    };
    for (const t of tools) {
      row[`${t.name}CloneMs`] = Math.round(median(clone.get(t.name)!));
      row[`${t.name}UpToDateMs`] = Math.round(median(check.get(t.name)!));
      row[`${t.name}MB`] = Math.round(t.bytes(targets.get(t.name)!) / 1e5) / 10;
    }
    for (const t of tools.filter((x) => x.name !== 'netsync')) {
      row[`cloneVs${t.name}`] = ratio(clone, t.name);
      row[`upToDateVs${t.name}`] = ratio(check, t.name);
    }
    return row;
  } finally {
    for (const t of tools) t.stop();
  }
}
