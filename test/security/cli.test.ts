/**
 * The security commands as a user runs them (child processes, real
 * sockets): serve needs a key, first contact prints the pinned fingerprint,
 * a changed server key is refused with both fingerprints and the way to
 * accept it, a stranger's push fails, log marks untrusted signers, and no
 * private key shows up in any output or database.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, ensureCliBuilt, runCli } from '../helpers/cli.js';
import { type CliProcess, spawnCli, waitUntil } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { makeTree } from '../helpers/tree.js';

let root: string;
const outputs: CliResult[] = [];
const servers: CliProcess[] = [];
const cfg = (name: string) => join(root, `cfg-${name}`);

async function cli(who: string, ...args: string[]): Promise<CliResult> {
  const r = await runCli(args, { NETSYNC_CONFIG_DIR: cfg(who) }, { timeoutMs: 60_000 });
  outputs.push(r);
  return r;
}

async function ok(who: string, ...args: string[]): Promise<CliResult> {
  const r = await cli(who, ...args);
  expect(r.code, `netsync ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

async function fingerprintOf(who: string): Promise<string> {
  const r = await ok(who, 'key', 'fingerprint');
  return r.stdout.trim().split(' ').slice(1).join(' ');
}

async function serve(who: string, db: string, bind: string, permissions: string): Promise<{ p: CliProcess; port: number }> {
  const p = spawnCli(['--db', db, 'serve', '--bind', bind, '--permissions', permissions], { NETSYNC_CONFIG_DIR: cfg(who) });
  servers.push(p);
  let port = 0;
  await waitUntil(() => {
    const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(p.stdout());
    if (m) port = Number(m[1]);
    return port > 0 || p.child.exitCode !== null;
  }, 20_000);
  if (!port) throw new Error(`serve did not start: ${p.stderr()}`);
  return { p, port };
}

async function stop(p: CliProcess): Promise<void> {
  p.child.kill('SIGTERM');
  await p.exited;
}

let serverDb: string;
let aliceDb: string;
let strangerDb: string;
let permissions: string;

beforeAll(async () => {
  ensureCliBuilt();
  root = tempDir('netsync-sec-cli-');
  const tree = join(root, 'tree');
  makeTree(tree, { README: 'secure project\n', 'src/a.c': 'int a;\n' });
  serverDb = join(root, 'server.db');
  aliceDb = join(root, 'alice.db');
  strangerDb = join(root, 'stranger.db');
  await ok('server', '--db', serverDb, 'db', 'init');
  await ok('server', 'key', 'generate', 'server@example.org');
  await ok('server', '--db', serverDb, 'commit', tree, '--branch', 'proj.main', '-m', 'first');
  await ok('alice', '--db', aliceDb, 'db', 'init');
  await ok('alice', 'key', 'generate', 'alice@example.org');
  await ok('stranger', '--db', strangerDb, 'db', 'init');
  await ok('stranger', 'key', 'generate', 'mallory@example.org');
  await ok('stranger', '--db', strangerDb, 'commit', tree, '--branch', 'proj.main', '-m', 'mallory was here');
  permissions = join(root, 'permissions');
  const alice = await fingerprintOf('alice');
  writeFileSync(permissions, `read ${alice} proj.*\nwrite ${alice} proj.*\n`);
});

afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

describe('netsync security commands', () => {
  it('serve without a key refuses to start, in one line', async () => {
    const r = await cli('nobody', '--db', serverDb, 'serve', '--bind', '127.0.0.1:0');
    expect(r.code).toBe(7); // a key problem (README, "Exit codes")
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderrLines[0]).toMatch(/^netsync: a server needs a key/);
  });

  it('pins on first contact, refuses a changed key naming both fingerprints, and accepts it after `netsync trust`', async () => {
    const serverFp = await fingerprintOf('server');
    const first = await serve('server', serverDb, '127.0.0.1:0', permissions);
    const address = `127.0.0.1:${first.port}`;
    const pull = await ok('alice', '--db', aliceDb, 'pull', address, 'proj.*');
    expect(pull.stderr).toContain(`pinned new server ${address} with fingerprint ${serverFp}`);
    expect(pull.stdout).toMatch(/received [1-9]\d* items/);
    const again = await ok('alice', '--db', aliceDb, 'pull', address, 'proj.*');
    expect(again.stderr).not.toContain('pinned');

    // The server is replaced by one with another key, at the same address.
    await stop(first.p);
    await ok('server2', 'key', 'generate', 'impostor@example.org');
    const newFp = await fingerprintOf('server2');
    const second = await serve('server2', serverDb, address, permissions);
    expect(second.port).toBe(first.port);
    const refused = await cli('alice', '--db', aliceDb, 'pull', address, 'proj.*');
    expect(refused.code).toBe(7); // a key problem: the server's changed
    expect(refused.stderrLines).toHaveLength(1);
    expect(refused.stderr).toContain('SERVER KEY CHANGED');
    expect(refused.stderr).toContain(serverFp);
    expect(refused.stderr).toContain(newFp);
    expect(refused.stderr).toContain(`netsync trust ${address} `);

    const trust = await ok('alice', 'trust', address, ...newFp.split(' '));
    expect(trust.stdout).toContain(`replaced the pinned key ${serverFp} with ${newFp}`);
    await ok('alice', '--db', aliceDb, 'pull', address, 'proj.*');
    await stop(second.p);
  });

  it("a stranger's push is refused with a clear error and a non-zero exit", async () => {
    const s = await serve('server', serverDb, '127.0.0.1:0', permissions);
    const r = await cli('stranger', '--db', strangerDb, 'push', `127.0.0.1:${s.port}`, 'proj.*');
    expect(r.code).toBe(4); // the peer refused (README, "Exit codes")
    expect(r.stderr).toMatch(/refused: your key may not read branch "proj\.main"/);
    expect(r.stderr).toMatch(/netsync: the server refused the push into "proj\.main"/);
    const log = await ok('server', '--db', serverDb, 'log', 'proj.main');
    expect(log.stdout).not.toContain('mallory was here');
    const anon = await cli('stranger', '--db', strangerDb, 'pull', `127.0.0.1:${s.port}`, 'proj.*', '--anonymous');
    expect(anon.code, 'a pull that could not read a branch did not do what was asked').toBe(4);
    expect(anon.stderr).toMatch(/an anonymous client may not read branch "proj\.main"/);
    await stop(s.p);
  });

  it('a pull or sync of a pattern the server offers nothing for says so with the key, and exits 11; a push that creates a branch does not', async () => {
    const s = await serve('server', serverDb, '127.0.0.1:0', permissions);
    const address = `127.0.0.1:${s.port}`;
    const aliceFp = await fingerprintOf('alice');
    const typo = await cli('alice', '--db', aliceDb, 'pull', address, 'proj.mian');
    expect(typo.code).toBe(11); // README, "Exit codes"
    expect(typo.stdout).toMatch(/received 0 items/);
    expect(typo.stderr).toContain(`netsync: The server offers no branch matching 'proj.mian' to key ${aliceFp} (alice@example.org)`);
    expect(typo.stderr).toContain('ask its owner for a read rule for that key');
    // A key granted nothing (the stranger's), a branch that exists: the same words, so nothing leaks.
    const fresh = join(root, 'fresh.db');
    await ok('stranger', '--db', fresh, 'db', 'init');
    const nothing = await cli('stranger', '--db', fresh, 'sync', address, 'proj.*', '--json');
    expect(nothing.code).toBe(11);
    expect(nothing.stderr).toMatch(/The server offers no branch matching 'proj\.\*' to key .* \(mallory@example\.org\)/);
    expect(JSON.parse(nothing.stdout.trim().split('\n').pop()!)).toMatchObject({ itemsReceived: 0, unmatchedPatterns: ['proj.*'] });
    // A pattern that matched: exit 0, no such line.
    const fine = await ok('alice', '--db', aliceDb, 'pull', address, 'proj.main');
    expect(fine.stderr).not.toContain('offers no branch');
    // Alice may write proj.*: a push of a branch the server lacks creates it.
    const tree = join(root, 'tree-new');
    makeTree(tree, { NEW: 'a new branch\n' });
    await ok('alice', '--db', aliceDb, 'commit', tree, '--branch', 'proj.new', '-m', 'new');
    const push = await ok('alice', '--db', aliceDb, 'push', address, 'proj.new');
    expect(push.stdout).toMatch(/sent [1-9]\d* items/);
    await stop(s.p);
  });

  it('log marks certs signed by keys the user has not chosen to trust; key trust and untrust change that', async () => {
    const marked = await ok('alice', '--db', aliceDb, 'log', 'proj.main');
    expect(marked.stdout).toMatch(/signed by: server@example\.org \[UNTRUSTED key [0-9a-f]{16}\] \(.*branch.*\)/);
    expect(marked.stdout).toContain('netsync key trust NAME|ID');
    const t = await ok('alice', '--db', aliceDb, 'key', 'trust', 'server@example.org');
    expect(t.stdout).toMatch(/^trusted: server@example\.org [0-9a-f]{64}/);
    const clean = await ok('alice', '--db', aliceDb, 'log', 'proj.main');
    expect(clean.stdout).not.toContain('UNTRUSTED');
    expect(clean.stdout).toMatch(/signed by: server@example\.org \(/);
    await ok('alice', '--db', aliceDb, 'key', 'untrust', 'server@example.org');
    expect((await ok('alice', '--db', aliceDb, 'log', 'proj.main')).stdout).toContain('UNTRUSTED');
    // Your own signatures are trusted without asking.
    expect((await ok('server', '--db', serverDb, 'log', 'proj.main')).stdout).not.toContain('UNTRUSTED');
  });

  it("key fingerprint without a name is your own key's, even when another key in the database has its name", async () => {
    const own = await fingerprintOf('alice');
    await ok('namesake', 'key', 'generate', 'alice@example.org');
    const exported = join(root, 'namesake.pub');
    writeFileSync(exported, (await ok('namesake', 'key', 'export', 'alice@example.org')).stdout);
    await ok('alice', '--db', aliceDb, 'key', 'import', exported);
    expect(await fingerprintOf('alice')).toBe(own);
    const byName = await cli('alice', '--db', aliceDb, 'key', 'fingerprint', 'alice@example.org');
    expect(byName.code).toBe(2);
    expect(byName.stderrLines).toHaveLength(1);
    expect(byName.stderr).toMatch(/several keys match "alice@example\.org" .*; give the id/);
  });

  it('no private key appears in any command output, server log or database', async () => {
    for (const s of servers) outputs.push({ code: 0, stdout: s.stdout(), stderr: s.stderr(), stdoutLines: [], stderrLines: [] });
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n');
    const dbs = [serverDb, aliceDb, strangerDb]
      .flatMap((d) => [d, `${d}-wal`])
      .filter(existsSync)
      .map((f) => readFileSync(f));
    for (const [who, name] of [
      ['server', 'server@example.org'],
      ['server2', 'impostor@example.org'],
      ['alice', 'alice@example.org'],
      ['stranger', 'mallory@example.org'],
    ]) {
      const file = JSON.parse(readFileSync(join(cfg(who!), 'keys', `${name}.key`), 'utf8')) as { seed: string };
      const seed = Buffer.from(file.seed, 'hex');
      expect(seed.length).toBe(32);
      for (const form of [file.seed, seed.toString('base64')]) expect(text.includes(form), `${name}'s key in the output`).toBe(false);
      for (const db of dbs) expect(db.indexOf(seed), `${name}'s key in a database`).toBe(-1);
    }
  });
});
