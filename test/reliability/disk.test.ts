/**
 * Disk full and read-only databases (docs/RELIABILITY.md §Disks), with real
 * `netsync` processes:
 *   - a pull into a database on a nearly full file system (an 8 MiB tmpfs,
 *     mounted for the test) and a push into a server whose database is on
 *     one: a clear one-line error, the database consistent (`db check`),
 *     what was stored before kept; the server keeps serving; with space
 *     again, the next sync finishes the job;
 *   - the same with the write failure injected into SQLite itself (a page
 *     limit, `PRAGMA max_page_count`, set in the child process by a preload
 *     hook): runs everywhere, also where mount is not permitted;
 *   - a database on a read-only file system (the tmpfs remounted read-only),
 *     and a read-only database file (mode 0444) used by a user who may not
 *     write it (root ignores file modes, so that child runs as `nobody`):
 *     a clear one-line error, nothing changed, nothing crashed.
 */
import { type ChildProcess, type SpawnOptions, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, PROJECT_ROOT, cliEnv, ensureCliBuilt, runCli } from '../helpers/cli.js';
import { type ServeProcess, aliceSigner, bobSigner, checkClean, lastJsonLine, newDbPath, startServe, withStore } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { copyDb, itemIdSet, keyedConfig, missingFrom, putRevisions, range, setEquals } from './helpers.js';

/** Whether this process may mount a tmpfs (root in a container that allows it). */
const CAN_MOUNT = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = tempDir('netsync-mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

const mounts: string[] = [];
function mountTmpfs(sizeMiB: number): string {
  const dir = tempDir('netsync-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0777`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}
function remount(dir: string, options: string): void {
  execFileSync('mount', ['-o', `remount,${options}`, dir]);
}

let bigDb: string;
let bigIds: Set<string>;
let config: { dir: string };
let serve: ServeProcess;

beforeAll(async () => {
  ensureCliBuilt();
  bigDb = newDbPath('netsync-disk-big-');
  // 12.5 MiB of incompressible files: more than the 8 MiB file systems below hold.
  withStore(bigDb, (s) => putRevisions(s, aliceSigner(), 'org.disk.big', range(0, 40), 10, 32 << 10, 1));
  bigIds = itemIdSet(bigDb);
  config = keyedConfig();
  serve = await startServe(bigDb, [], { NETSYNC_CONFIG_DIR: config.dir });
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      // busy or already gone; the OS cleans up tmpfs mounts with the container
    }
  }
});

/** A small database of our own (the state "committed before"), at `path`. */
function ownDb(path: string): Set<string> {
  const tmp = newDbPath('netsync-disk-own-');
  withStore(tmp, (s) => putRevisions(s, bobSigner(), 'org.disk.mine', range(0, 3), 5, 64, 2));
  copyDb(tmp, path);
  return itemIdSet(path);
}

/** The lines of stderr that report an error (the CLI's contract: exactly one). */
const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('netsync:'));

/** After a failed pull: one clear line, no stack trace, the database consistent, nothing of before lost. */
function expectCleanFailure(r: { code: number; stderr: string }, db: string, before: Set<string>, why: RegExp): Set<string> {
  expect(r.code, r.stderr).toBe(6); // a database problem (README, "Exit codes")
  expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
  expect(errorLines(r.stderr)[0]).toMatch(why);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  const now = itemIdSet(db);
  expect(missingFrom(before, now), 'what was stored before is kept').toEqual([]);
  expect(checkClean(db)).toEqual([]);
  return now;
}

const PRELOAD = `// Test hook (test/reliability/disk.test.ts): every better-sqlite3 connection of this
// process may grow its database to at most NETSYNC_TEST_MAX_PAGES pages; beyond, SQLite
// fails the transaction with SQLITE_FULL, exactly as on a full disk.
const Module = require('node:module');
const original = Module.prototype.require;
const pages = Number(process.env.NETSYNC_TEST_MAX_PAGES);
Module.prototype.require = function (id) {
  const m = original.apply(this, arguments);
  if (id !== 'better-sqlite3' || m.limitedForTest) return m;
  class Limited extends m {
    constructor(...args) {
      super(...args);
      if (!this.readonly && !this.memory) this.pragma('max_page_count = ' + pages);
    }
  }
  Limited.limitedForTest = true;
  return Limited;
};
`;

describe('a full disk', () => {
  it.runIf(CAN_MOUNT)(
    'a pull into a database on a nearly full file system (8 MiB tmpfs): one clear line, consistent, kept; with space, the next pull finishes',
    async () => {
      const fs = mountTmpfs(8);
      const db = join(fs, 'client.db');
      const before = ownDb(db);
      const r = await runCli(['--db', db, 'pull', `127.0.0.1:${serve.port}`, 'org.disk.*'], { NETSYNC_CONFIG_DIR: config.dir });
      const now = expectCleanFailure(r, db, before, /disk is full/);
      expect(now.size, 'some batches were stored before the disk filled').toBeGreaterThan(before.size);

      remount(fs, 'size=64m');
      const again = await runCli(['--db', db, 'pull', `127.0.0.1:${serve.port}`, 'org.disk.*', '--json'], { NETSYNC_CONFIG_DIR: config.dir });
      expect(again.code, again.stderr).toBe(0);
      expect(lastJsonLine(again.stdout).itemsReceived, 'exactly what was still missing').toBe([...bigIds].filter((id) => !now.has(id)).length);
      expect(setEquals(itemIdSet(db), new Set([...before, ...bigIds]))).toBe(true);
      expect(checkClean(db)).toEqual([]);
    },
    60_000,
  );

  it.runIf(CAN_MOUNT)(
    'a push into a server whose database is on a full file system: the pusher gets one clear line; the server keeps serving and stays consistent',
    async () => {
      const fs = mountTmpfs(8);
      const serverDb = join(fs, 'server.db');
      const before = ownDb(serverDb);
      const server = await startServe(serverDb, [], { NETSYNC_CONFIG_DIR: config.dir });
      try {
        const r = await runCli(['--db', bigDb, 'push', `127.0.0.1:${server.port}`, 'org.disk.*'], { NETSYNC_CONFIG_DIR: config.dir });
        expect(r.code, r.stderr).toBe(3); // the peer broke off the session (README, "Exit codes")
        expect(errorLines(r.stderr)).toHaveLength(1);
        expect(errorLines(r.stderr)[0]).toMatch(/server ended the session: cannot store .*disk is full/);
        expect(server.child.exitCode, `the server died: ${server.stderr()}`).toBeNull();
        expect(server.stderr()).toMatch(/ended: (internal: )?cannot store the items that arrived: the disk is full/);
        // Still serving: a pull of what it holds works.
        const reader = newDbPath('netsync-disk-reader-');
        const pull = await runCli(['--db', reader, 'pull', `127.0.0.1:${server.port}`, 'org.disk.mine'], { NETSYNC_CONFIG_DIR: config.dir });
        expect(pull.code, pull.stderr).toBe(0);
        expect(setEquals(itemIdSet(reader), before)).toBe(true);
      } finally {
        expect((await server.stop()).code).toBe(0);
      }
      expect(missingFrom(before, itemIdSet(serverDb))).toEqual([]);
      expect(checkClean(serverDb)).toEqual([]);
    },
    60_000,
  );

  it('the same failure injected into SQLite (a page limit in the child process, where mount is not needed): one clear line, consistent, kept', async () => {
    const dir = tempDir('netsync-disk-inject-');
    const hook = join(dir, 'max-pages.cjs');
    writeFileSync(hook, PRELOAD);
    const db = join(dir, 'client.db');
    const before = ownDb(db);
    const pages = withStore(db, (s) => s.db.pragma('page_count', { simple: true }) as number);
    const env = { NETSYNC_CONFIG_DIR: config.dir, NODE_OPTIONS: `--require ${hook}`, NETSYNC_TEST_MAX_PAGES: String(pages + 600) };
    const r = await runCli(['--db', db, 'pull', `127.0.0.1:${serve.port}`, 'org.disk.*'], env);
    const now = expectCleanFailure(r, db, before, /disk is full/);
    expect(now.size).toBeGreaterThan(before.size);
    const again = await runCli(['--db', db, 'pull', `127.0.0.1:${serve.port}`, 'org.disk.*'], { NETSYNC_CONFIG_DIR: config.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(setEquals(itemIdSet(db), new Set([...before, ...bigIds]))).toBe(true);
  }, 60_000);
});

/** Runs the CLI as another user (root ignores file modes), with stdin closed. */
function runAs(uid: number, args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const opts: SpawnOptions = {
      cwd: PROJECT_ROOT,
      env: cliEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid !== process.getuid?.() ? { uid, gid: uid } : {}),
    };
    const child = spawn(process.execPath, [CLI_BIN, ...args], opts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid);
}

/** `netsync serve` as another user; resolves once it prints its port. */
async function serveAs(uid: number, db: string, configDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI_BIN, '--db', db, 'serve', '--bind', '127.0.0.1:0'], {
    cwd: PROJECT_ROOT,
    env: cliEnv({ NETSYNC_CONFIG_DIR: configDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid !== process.getuid?.() ? { uid, gid: uid } : {}),
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20_000);
    const look = () => {
      const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', look);
    child.once('close', () => reject(new Error(`serve exited: ${err}`)));
  });
  return { child, port };
}

describe('a read-only database', () => {
  it.runIf(CAN_MOUNT)(
    'on a read-only file system: every command says so in one line; nothing changes',
    async () => {
      const fs = mountTmpfs(8);
      const db = join(fs, 'client.db');
      const before = ownDb(db);
      const server = `127.0.0.1:${serve.port}`;
      // As a cleanly closed database is found: no -wal or -shm beside it. Even reading needs to make them.
      for (const f of [`${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
      remount(fs, 'ro');
      const bytes = readFileSync(db);
      for (const args of [
        ['pull', server, 'org.*'],
        ['sync', server, 'org.*'],
        ['push', server, 'org.nothing'],
        ['db', 'check'],
        ['db', 'rebuild-index'],
        ['branches'],
        ['serve', '--bind', '127.0.0.1:0'],
      ]) {
        const r = await runCli(['--db', db, ...args], { NETSYNC_CONFIG_DIR: config.dir }, { timeoutMs: 20_000 });
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(6); // a database problem (README, "Exit codes")
        expect(errorLines(r.stderr), args.join(' ')).toEqual([expect.stringMatching(/read-only file system/)]);
      }
      // Left behind by an earlier reader, -wal and -shm let it be read; what would write still fails in one line.
      remount(fs, 'rw');
      itemIdSet(db);
      remount(fs, 'ro');
      for (const args of [
        ['pull', server, 'org.*'],
        ['sync', server, 'org.*'],
        ['db', 'rebuild-index'],
      ]) {
        const r = await runCli(['--db', db, ...args], { NETSYNC_CONFIG_DIR: config.dir }, { timeoutMs: 20_000 });
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(6); // a database problem (README, "Exit codes")
        expect(errorLines(r.stderr), args.join(' ')).toEqual([expect.stringMatching(/read-only/)]);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      for (const args of [['branches'], ['db', 'check']]) {
        const r = await runCli(['--db', db, ...args], { NETSYNC_CONFIG_DIR: config.dir }, { timeoutMs: 20_000 });
        expect(r.code === 0 || (errorLines(r.stderr).length === 1 && /read-only/.test(r.stderr)), `${args.join(' ')}: ${r.stderr}`).toBe(true);
      }
      expect(readFileSync(db).equals(bytes)).toBe(true);
      remount(fs, 'rw');
      expect(setEquals(itemIdSet(db), before)).toBe(true);
      expect(checkClean(db)).toEqual([]);
    },
    60_000,
  );

  it('a database file of mode 0444 (a user who may not write it): reading works, a pull fails in one clear line, served by that user, a push into it fails in one clear line and the server keeps serving; nothing changes', async () => {
    const uid = IS_ROOT ? NOBODY : process.getuid!();
    const dir = tempDir('netsync-disk-ro-');
    chmodSync(dir, 0o755);
    const db = join(dir, 'client.db');
    const before = ownDb(db);
    const cfg = join(dir, 'config'); // the child's own config folder (no key: anonymous, which the server's permissions allow)
    mkdirSync(cfg);
    // The database's files are all that user's (a database is created private, 0600, and
    // SQLite gives its -wal and -shm the same owner and mode), the main file then made 0444.
    const files = readdirSync(dir)
      .filter((f) => f.startsWith('client.db'))
      .map((f) => join(dir, f));
    if (IS_ROOT) {
      chownSync(dir, uid, uid);
      chownSync(cfg, uid, uid);
      for (const f of files) chownSync(f, uid, uid);
    }
    chmodSync(db, 0o444);
    const bytes = readFileSync(db);
    const env = { NETSYNC_CONFIG_DIR: cfg };

    const branches = await runAs(uid, ['--db', db, 'branches'], env);
    expect(branches.code, branches.stderr).toBe(0);
    expect(branches.stdout).toMatch(/org\.disk\.mine/);
    const pull = await runAs(uid, ['--db', db, 'pull', `127.0.0.1:${serve.port}`, 'org.disk.*'], env);
    expect(pull.code, pull.stderr).toBe(6); // a database problem (README, "Exit codes")
    expect(errorLines(pull.stderr), pull.stderr).toEqual([expect.stringMatching(/read-only/)]);
    expect(pull.stderr).not.toMatch(/\n\s+at /);
    const rebuild = await runAs(uid, ['--db', db, 'db', 'rebuild-index'], env);
    expect(errorLines(rebuild.stderr), rebuild.stderr).toEqual([expect.stringMatching(/read-only/)]);

    // Served by that user: pulls work, a push into it fails in one clear line, the server keeps serving.
    const srvCfg = keyedConfig('readonly-server');
    if (IS_ROOT) chownTree(srvCfg.dir, uid);
    const server = await serveAs(uid, db, srvCfg.dir);
    try {
      const push = await runCli(['--db', bigDb, 'push', `127.0.0.1:${server.port}`, 'org.disk.*'], { NETSYNC_CONFIG_DIR: config.dir });
      expect(push.code, push.stderr).toBe(3); // the peer broke off the session (README, "Exit codes")
      expect(errorLines(push.stderr), push.stderr).toEqual([expect.stringMatching(/server ended the session: cannot store .*read-only/)]);
      const reader = newDbPath('netsync-disk-ro-reader-');
      const read = await runCli(['--db', reader, 'pull', `127.0.0.1:${server.port}`, 'org.disk.*'], { NETSYNC_CONFIG_DIR: config.dir });
      expect(read.code, read.stderr).toBe(0);
      expect(setEquals(itemIdSet(reader), before)).toBe(true);
      expect(server.child.exitCode).toBeNull();
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('close', r));
    }
    expect(readFileSync(db).equals(bytes), 'nothing changed').toBe(true);
    expect(statSync(db).mode & 0o777).toBe(0o444);
    chmodSync(db, 0o644);
    expect(setEquals(itemIdSet(db), before)).toBe(true);
    expect(checkClean(db)).toEqual([]);
  }, 60_000);
});
