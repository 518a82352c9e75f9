/**
 * `netsync serve --mirror` (issue #20): three servers on loopback, each a
 * real process naming the other two (a full mesh), sharing one server key
 * as mirrors behind one address do (so that key is each one's own, and
 * mirrors need no rule to write to each other). A push to any one of them
 * reaches all three, with no other command; the convergence time itself is
 * measured in docs/ARCHITECTURE.md ("Mirrors"), not asserted here beyond a
 * generous bound.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import { type CliProcess, OPEN_PERMISSIONS, allIds, spawnCli, waitUntil, withStore } from '../helpers/net.js';
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const ids = (s: Side) => withStore(s.db, (store) => allIds(store));

beforeAll(() => {
  ensureCliBuilt();
  root = tempDir('netsync-cli-mirror-');
});

afterAll(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
});

describe('netsync serve --mirror', () => {
  it('three servers in a full mesh converge after a push to any one of them', async () => {
    const servers: Side[] = ['a', 'b', 'c'].map((n) => ({ db: join(root, `${n}.db`), cfg: join(root, `cfg-${n}`) }));
    const first = servers[0]!;
    mkdirSync(first.cfg, { recursive: true });
    await ok(first, 'db', 'init');
    await ok(first, 'key', 'generate', 'mirror@example.org');
    for (const s of servers) {
      if (s !== first) {
        // One server key for all three (README: mirrors behind one address share it).
        cpSync(join(first.cfg, 'keys'), join(s.cfg, 'keys'), { recursive: true });
        await ok(s, 'db', 'init');
      }
      writeFileSync(join(s.cfg, 'permissions'), OPEN_PERMISSIONS);
    }
    const ports = await Promise.all(servers.map(() => freePort()));
    const address = (i: number) => `127.0.0.1:${ports[i]}`;
    servers.forEach((s, i) => {
      const others = [0, 1, 2].filter((j) => j !== i).flatMap((j) => ['--mirror', address(j)]);
      procs.push(spawnCli(['--db', s.db, 'serve', '--bind', address(i), ...others, 'org.example.*'], env(s)));
    });
    // Each has found the other two (the first tries met servers not started yet, and backed off).
    expect(
      await waitUntil(
        () => procs.every((p, i) => [0, 1, 2].filter((j) => j !== i).every((j) => p.stderr().includes(`up to date with ${address(j)}`))),
        30_000,
        50,
      ),
    ).toBe(true);
    expect(procs[0]!.stderr()).toContain(`mirroring ${address(1)}, ${address(2)}`);

    // A client pushes to the second server only.
    const client: Side = { db: join(root, 'client.db'), cfg: join(root, 'cfg-client') };
    mkdirSync(client.cfg, { recursive: true });
    await ok(client, 'db', 'init');
    await ok(client, 'key', 'generate', 'dave@example.org');
    const work = join(root, 'work');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'pushed.txt'), 'pushed to one, served by all\n');
    await ok(client, 'commit', work, '--branch', 'org.example.mirrored', '-m', 'one push');
    await ok(client, 'push', address(1), 'org.example.*');
    const pushed = ids(client);
    const everyoneHas = () => servers.every((s) => [...pushed].every((id) => ids(s).has(id)));
    expect(await waitUntil(everyoneHas, 20_000, 25)).toBe(true);

    // The servers still serve: a stop is clean.
    for (const p of procs) p.child.kill('SIGTERM');
    for (const p of procs) expect((await p.exited).code).toBe(0);
    for (const s of servers) await ok(s, 'db', 'check');
  }, 120_000);

  it('refuses a mirror that is not an address before it listens (usage, 2)', async () => {
    const s: Side = { db: join(root, 'bad.db'), cfg: join(root, 'cfg-bad') };
    mkdirSync(s.cfg, { recursive: true });
    await ok(s, 'db', 'init');
    await ok(s, 'key', 'generate', 'x@example.org');
    const r = await runCli(['--db', s.db, 'serve', '--bind', '127.0.0.1:0', '--mirror', 'a b'], env(s));
    expect(r.code).toBe(2);
    expect(r.stderrLines).toHaveLength(1);
  });
});
