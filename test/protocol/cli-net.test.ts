/**
 * The network commands as a user runs them: `serve` and `sync`/`push`/`pull`/
 * `diff` as child processes over loopback, built once (dist/netsync.cjs).
 * Checked with the CLI itself (`db check`, `branches`, `checkout` compared
 * byte for byte with the committed folder) and with brute force on the files.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AddressUse, readAddress } from '../../src/shared/address.js';
import { CLI_BIN, type CliPeer as Peer, cliEnv, ensureCliBuilt, peerCli as cli, peerOk as ok } from '../helpers/cli.js';
import {
  type ServeProcess,
  allIds,
  bruteSelection,
  OPEN_PERMISSIONS,
  lastJsonLine,
  selector,
  snapshotDb,
  sorted,
  spawnCli,
  startServe,
  union,
  withStore,
} from '../helpers/net.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';
import { compareTrees, makeTree } from '../helpers/tree.js';

let root: string;
const running: ServeProcess[] = [];
/** README, "Exit codes". */
const EXIT_NETWORK = 3;
/** script(1) (util-linux, BSD) gives a command a pseudo-terminal; without it the terminal case cannot be run. */
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

/**
 * A database with a key of its own and (when `tree` is given) one commit of
 * it on `branch`. Its config folder lets any key read and write (the
 * protocol suite tests the exchange; test/security tests permissions).
 */
async function makePeer(name: string, key: string, branch?: string, tree?: string): Promise<Peer> {
  const p: Peer = { db: join(root, `${name}.db`), cfg: join(root, `cfg-${name}`) };
  mkdirSync(p.cfg, { recursive: true });
  writeFileSync(join(p.cfg, 'permissions'), OPEN_PERMISSIONS);
  await ok(p, 'db', 'init');
  await ok(p, 'key', 'generate', key);
  if (branch && tree) await ok(p, 'commit', tree, '--branch', branch, '-m', `first of ${name}`);
  return p;
}

let treeA: string;
let treeB: string;

beforeAll(async () => {
  ensureCliBuilt();
  root = tempDir('netsync-cli-net-');
  treeA = join(root, 'tree-a');
  makeTree(treeA, {
    'README.md': '# project a\n',
    'src/main.c': 'int main(void) { return 0; }\n',
    'src/lib/util.h': '#pragma once\n',
    'bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
    'data/big.bin': pseudoRandomBytes((1 << 20) + 123_457, 'cli-net/big'), // chunked
    'data/empty': '',
    emptydir: { dir: true },
  });
  treeB = join(root, 'tree-b');
  mkdirSync(join(treeB, 'docs'), { recursive: true });
  writeFileSync(join(treeB, 'docs', 'b.txt'), 'project b\n');
  writeFileSync(join(treeB, 'tool'), '#!/bin/sh\n');
  chmodSync(join(treeB, 'tool'), 0o755);
});

afterAll(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL');
});

async function serve(p: Peer, patterns: string[] = []): Promise<ServeProcess> {
  const s = await startServe(p.db, patterns, { NETSYNC_CONFIG_DIR: p.cfg });
  running.push(s);
  return s;
}

async function stop(s: ServeProcess): Promise<number | null> {
  running.splice(running.indexOf(s), 1);
  return (await s.stop('SIGTERM')).code;
}

describe('netsync serve + sync/push/pull/diff over loopback', () => {
  it('sync: both sides end with the union; db check, branches and a byte-exact checkout agree; --json has its fields', async () => {
    const a = await makePeer('sa', 'alice@example.org', 'org.a.main', treeA);
    const b = await makePeer('sb', 'bob@example.org', 'org.b.main', treeB);
    const sel = selector(['org.*']);
    const before = {
      a: withStore(a.db, (s) => ({ all: allIds(s), sel: bruteSelection(s, sel) })),
      b: withStore(b.db, (s) => ({ all: allIds(s), sel: bruteSelection(s, sel) })),
    };
    const server = await serve(a);
    const r = await cli(b, 'sync', `127.0.0.1:${server.port}`, 'org.*', '--json');
    expect(r.code, r.stderr).toBe(0);
    // Not a terminal: plain lines only, no progress bar and no escape code.
    expect(r.stderrLines).toEqual([expect.stringMatching(/^pinned new server 127\.0\.0\.1:\d+ with fingerprint [0-9a-f ]+$/)]);
    const json = lastJsonLine(r.stdout);
    for (const f of ['itemsSent', 'itemsReceived', 'bytesSent', 'bytesReceived', 'reconBytesSent', 'reconBytesReceived', 'roundTrips', 'ms']) {
      expect(typeof json[f], f).toBe('number');
    }
    expect(json).toHaveProperty('weLack');
    expect(json).toHaveProperty('theyLack');
    expect(json.itemsReceived).toBe(before.a.sel.size);
    expect(json.itemsSent).toBe(before.b.sel.size);
    expect(json.bytesReceived as number).toBeGreaterThan((1 << 20) + 123_457); // the big file crossed
    // The command exits without checkpointing (ReadStore.closeAtExit): what it received is in the
    // write-ahead log beside the file, and everything below reads it back from there.
    expect(statSync(`${b.db}-wal`).size).toBeGreaterThan(0);

    const union_ = sorted(union(before.a.all, before.b.all));
    expect(sorted(snapshotDb(a.db).all)).toEqual(union_);
    expect(sorted(snapshotDb(b.db).all)).toEqual(union_);
    expect(await ok(a, 'db', 'check')).toMatch(/verified/);
    expect(await ok(b, 'db', 'check')).toMatch(/verified/);
    const branchesA = await ok(a, 'branches');
    expect(await ok(b, 'branches')).toBe(branchesA);
    expect(branchesA).toMatch(/^org\.a\.main \(\d+ items, 1 head\)\norg\.b\.main \(\d+ items, 1 head\)\n$/);

    // The synced branch checks out on the other side exactly as committed.
    const outB = join(root, 'out-b');
    await ok(b, 'checkout', 'org.a.main', outB);
    expect(compareTrees(treeA, outB)).toEqual([]);
    const outA = join(root, 'out-a');
    await ok(a, 'checkout', 'org.b.main', outA);
    expect(compareTrees(treeB, outA)).toEqual([]);

    // Up to date: one round trip, nothing moves.
    const again = lastJsonLine((await cli(b, 'sync', `127.0.0.1:${server.port}`, 'org.*', '--json')).stdout);
    expect([again.itemsSent, again.itemsReceived, again.roundTrips]).toEqual([0, 0, 1]);
    expect(await stop(server)).toBe(0);
  });

  it('push changes only the server, pull only the client, diff nothing', async () => {
    const a = await makePeer('pa', 'alice@example.org', 'org.a.main', treeA);
    const b = await makePeer('pb', 'bob@example.org', 'org.b.main', treeB);
    const sel = selector(['org.*']);
    const a0 = withStore(a.db, (s) => ({ all: allIds(s), sel: bruteSelection(s, sel) }));
    const b0 = withStore(b.db, (s) => ({ all: allIds(s), sel: bruteSelection(s, sel) }));
    const server = await serve(a);
    const addr = `127.0.0.1:${server.port}`;

    const d = await cli(b, 'diff', addr, 'org.*');
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(`we lack: ${a0.sel.size} items`);
    expect(d.stdout).toContain(`they lack: ${b0.sel.size} items`);
    const dj = lastJsonLine((await cli(b, 'sync', addr, 'org.*', '--dry-run', '--json')).stdout);
    expect(dj).toMatchObject({ dryRun: true, itemsSent: 0, itemsReceived: 0 });
    expect((dj.weLack as { count: number }).count).toBe(a0.sel.size);
    expect((dj.theyLack as { count: number }).count).toBe(b0.sel.size);
    expect(sorted(snapshotDb(a.db).all)).toEqual(sorted(a0.all));
    expect(sorted(snapshotDb(b.db).all)).toEqual(sorted(b0.all));

    const p = lastJsonLine(await ok(b, 'push', addr, 'org.*', '--json'));
    expect([p.itemsSent, p.itemsReceived]).toEqual([b0.sel.size, 0]);
    expect(sorted(snapshotDb(a.db).all)).toEqual(sorted(union(a0.all, b0.sel)));
    expect(sorted(snapshotDb(b.db).all)).toEqual(sorted(b0.all));

    const q = lastJsonLine(await ok(b, 'pull', addr, 'org.*', '--json'));
    expect([q.itemsSent, q.itemsReceived]).toEqual([0, a0.sel.size]);
    expect(sorted(snapshotDb(b.db).all)).toEqual(sorted(union(a0.all, b0.all)));
    expect(await ok(a, 'db', 'check')).toMatch(/verified/);
    expect(await ok(b, 'db', 'check')).toMatch(/verified/);
    const out = join(root, 'out-pull');
    await ok(b, 'checkout', 'org.a.main', out);
    expect(compareTrees(treeA, out)).toEqual([]);
    expect(await stop(server)).toBe(0);
  });

  it('a server offering only some branches: the rest never moves', async () => {
    const a = await makePeer('oa', 'alice@example.org', 'org.a.main', treeA);
    const b = await makePeer('ob', 'bob@example.org');
    const server = await serve(a, ['org.b.*']);
    const pulled = await cli(b, 'pull', `127.0.0.1:${server.port}`, 'org.*', '--json');
    // Nothing the server offers matches: said, with exit 11 (README, "Exit codes"), never a silent success.
    expect(pulled.code).toBe(11);
    expect(pulled.stderr).toMatch(/The server offers no branch matching 'org\.\*' to key /);
    const r = lastJsonLine(pulled.stdout);
    expect(r.itemsReceived).toBe(0);
    expect(await ok(b, 'branches')).toBe('');
    expect(await stop(server)).toBe(0);
  });

  it('a bad address fails with one line on stderr and exit 3 (network)', async () => {
    const db = await makePeer('bad', 'bob@example.org');
    const r = await cli(db, 'sync', '127.0.0.1:1', 'org.*');
    expect(r.code).toBe(EXIT_NETWORK);
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderrLines[0]).toMatch(/^netsync: .*127\.0\.0\.1:1.*refused/);
    const j = await cli(db, 'pull', '127.0.0.1:1', 'org.*', '--json');
    expect(j.code).toBe(EXIT_NETWORK);
    expect(j.stderrLines).toHaveLength(1);
  });

  it('an address the app refuses is refused here too, naming what was typed (shared/address.ts; usage, exit 2)', async () => {
    const db = await makePeer('typed', 'bob@example.org');
    const cases: [args: string[], typed: string, use: AddressUse][] = [
      [['sync', 'host_name:4691', 'org.*'], 'host_name:4691', 'connect'],
      [['pull', 'peer:0', 'org.*'], 'peer:0', 'connect'],
      [['trust', 'bad host:1', 'ab'], 'bad host:1', 'connect'],
      [['serve', '--bind', '[nothex]:1'], '[nothex]:1', 'bind'],
    ];
    for (const [args, typed, use] of cases) {
      const r = await cli(db, ...args);
      const read = readAddress(typed, use);
      expect(read.ok).toBe(false);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderrLines).toEqual([`netsync: "${typed}" is not an address: ${!read.ok && read.problem}`]);
    }
  });

  it('Ctrl-C (SIGINT) while connecting: one line, exit 130', async () => {
    const db = await makePeer('interrupted', 'bob@example.org');
    // Accepts the connection and never answers: the client waits in its TLS handshake.
    const silent = createServer(() => {});
    const connected = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const p = spawnCli(['--db', db.db, 'pull', `127.0.0.1:${port}`, 'org.*'], { NETSYNC_CONFIG_DIR: db.cfg });
      await connected;
      p.child.kill('SIGINT');
      const { code } = await p.exited;
      expect(code, p.stderr()).toBe(130);
      expect(p.stderr()).toBe(`netsync: cancelled while connecting to 127.0.0.1:${port}; nothing was sent or received\n`);
    } finally {
      silent.close();
    }
  });

  it.runIf(HAS_SCRIPT)('on a terminal: a bar while the pull runs, the "pinned new server" note above it, and a clean line at the end', async () => {
    const a = await makePeer('ttya', 'alice@example.org', 'org.a.main', treeA);
    const b = await makePeer('ttyb', 'bob@example.org');
    const server = await serve(a);
    // script(1) runs the command on a pseudo-terminal and copies what it draws.
    const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI_BIN, '--db', b.db, 'pull', `127.0.0.1:${server.port}`, 'org.*'].map(quote).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      env: cliEnv({ NETSYNC_CONFIG_DIR: b.cfg, TERM: 'xterm' }),
      input: '',
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stdout).toBe(0);
    const screen = r.stdout;
    const CLEAR = '\r\x1b[2K';
    // The bar was drawn (the phase first), the note cleared it and took its own line, and the bar came back below it.
    const note = screen.indexOf(`${CLEAR}pinned new server 127.0.0.1:${server.port} with fingerprint `);
    expect(note, JSON.stringify(screen)).toBeGreaterThan(0);
    expect(screen.slice(0, note)).toContain(`${CLEAR}pull: `);
    expect(screen.slice(note).split('\n')[1]).toMatch(/^pull/);
    // The result line starts on a cleared line: no bar left before it.
    expect(screen).toContain(`${CLEAR}received `);
    expect(await stop(server)).toBe(0);
  });

  it('SIGTERM and SIGINT stop the server cleanly with exit 0', async () => {
    const db = await makePeer('term', 'alice@example.org');
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const s = await serve(db);
      running.splice(running.indexOf(s), 1);
      const { code } = await s.stop(signal);
      expect(code, s.stderr()).toBe(0);
      expect(s.stdout()).toMatch(/^serving .* on 127\.0\.0\.1:\d+/);
    }
  });
});
