/**
 * `netsync watch` as a user runs it, against `netsync serve`, each a real
 * process: what the server has arrives, a commit by another process on the
 * watching side goes out once the change notifier sees it, a commit on the
 * server arrives within the interval, and SIGTERM stops it cleanly (exit 0).
 * An unreachable server is retried with growing waits, never an exit.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import { type CliProcess, OPEN_PERMISSIONS, type ServeProcess, allIds, spawnCli, startServe, waitUntil, withStore } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';

interface Side {
  db: string;
  cfg: string;
}

let root: string;
const procs: CliProcess[] = [];
const env = (s: Side) => ({ NETSYNC_CONFIG_DIR: s.cfg });

async function ok(s: Side, ...args: string[]): Promise<string> {
  const r = await runCli(['--db', s.db, ...args], env(s), { timeoutMs: 60_000 });
  expect(r.code, `netsync ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function side(name: string): Promise<Side> {
  const s = { db: join(root, `${name}.db`), cfg: join(root, `cfg-${name}`) };
  mkdirSync(s.cfg, { recursive: true });
  writeFileSync(join(s.cfg, 'permissions'), OPEN_PERMISSIONS);
  await ok(s, 'db', 'init');
  await ok(s, 'key', 'generate', `${name}@example.org`);
  return s;
}

function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const ids = (s: Side) => withStore(s.db, (store) => allIds(store));
const holds = (big: Side, small: Side) => {
  const have = ids(big);
  return [...ids(small)].every((id) => have.has(id));
};

beforeAll(() => {
  ensureCliBuilt();
  root = tempDir('netsync-cli-watch-');
});

afterAll(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
});

describe('netsync watch', () => {
  it('keeps both sides in sync with no further command, and stops cleanly on SIGTERM', async () => {
    const server = await side('srv');
    const here = await side('here');
    await ok(server, 'commit', folder('s1', { 'a.txt': 'from the server\n' }), '--branch', 'org.example.w', '-m', 'one');
    const serve: ServeProcess = await startServe(server.db, [], env(server));
    procs.push(serve);

    const watch = spawnCli(['--db', here.db, 'watch', `127.0.0.1:${serve.port}`, 'org.example.*', '--interval', '1'], env(here));
    procs.push(watch);
    // At once: what the server has is here.
    expect(await waitUntil(() => ids(here).size > 1 && holds(here, server), 20_000, 100)).toBe(true);
    expect(watch.stderr()).toMatch(/watching 127\.0\.0\.1:\d+ \(org\.example\.\*\) every 1 s/);

    // A commit by another process here goes out: the change notifier sees it.
    await ok(here, 'commit', folder('h1', { 'b.txt': 'from here\n' }), '--branch', 'org.example.w', '--parent', 'head', '-m', 'two');
    expect(await waitUntil(() => holds(server, here), 20_000, 100)).toBe(true);

    // A commit on the server arrives within the interval.
    await ok(server, 'commit', folder('s2', { 'c.txt': 'later, on the server\n' }), '--branch', 'org.example.w', '--parent', 'head', '-m', 'three');
    expect(await waitUntil(() => holds(here, server), 20_000, 100)).toBe(true);
    expect(watch.stdout()).toMatch(/received \d+ items/);
    expect(watch.stdout()).toMatch(/sent \d+ items/);

    watch.child.kill('SIGTERM');
    const exit = await watch.exited;
    expect(exit.code, watch.stderr()).toBe(0);
    expect(watch.stderr()).toContain('SIGTERM: stopping');
    // The database it wrote checks clean.
    await ok(here, 'db', 'check');
  }, 90_000);

  it('retries an unreachable server with growing waits instead of exiting; Ctrl-C ends it with 0', async () => {
    const here = await side('lonely');
    // A port nobody listens on: a server that is down.
    const watch = spawnCli(['--db', here.db, 'watch', '127.0.0.1:9', '--interval', '60'], env(here));
    procs.push(watch);
    expect(await waitUntil(() => (watch.stderr().match(/trying again in/g) ?? []).length >= 2, 20_000, 50)).toBe(true);
    expect(watch.stderr()).toMatch(/trying again in 2 s[\s\S]*trying again in 4 s/);
    expect(watch.child.exitCode).toBeNull();
    watch.child.kill('SIGINT');
    expect((await watch.exited).code).toBe(0);
  }, 60_000);

  it('ends with the key exit code (7) when the server presents another key than the one pinned: no retry mends that', async () => {
    const server = await side('moved');
    const serve: ServeProcess = await startServe(server.db, [], env(server));
    procs.push(serve);
    const here = await side('pinned');
    await ok(here, 'trust', `127.0.0.1:${serve.port}`, 'ab'.repeat(32));
    const r = await runCli(['--db', here.db, 'watch', `127.0.0.1:${serve.port}`], env(here), { timeoutMs: 30_000 });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('SERVER KEY CHANGED');
  }, 60_000);

  it('refuses a wrong interval or address with a usage error (2)', async () => {
    const here = await side('usage');
    const bad = await runCli(['--db', here.db, 'watch', '127.0.0.1:1', '--interval', 'soon'], env(here));
    expect(bad.code).toBe(2);
    expect(bad.stderrLines).toEqual(['netsync: watch: --interval "soon" is not a number of seconds from 1 to 86400']);
    const address = await runCli(['--db', here.db, 'watch', 'a b:x'], env(here));
    expect(address.code).toBe(2);
    expect(address.stderrLines).toHaveLength(1);
  });
});
