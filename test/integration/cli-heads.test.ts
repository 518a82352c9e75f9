/**
 * Heads and merges as users meet them, through the real command line with
 * real processes and two databases: concurrent commits to one branch, a sync
 * that says the branch now has two heads, `heads`, `branches`, `log --graph`,
 * and (below) `merge`, `commit --parent`, links and ignore rules.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import { OPEN_PERMISSIONS, type ServeProcess, startServe } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { makeTree } from '../helpers/tree.js';

let root: string;
const running: ServeProcess[] = [];

interface Peer {
  db: string;
  cfg: string;
}

const cli = (p: Peer, ...args: string[]) => runCli(['--db', p.db, ...args], { NETSYNC_CONFIG_DIR: p.cfg }, { timeoutMs: 60_000 });

async function ok(p: Peer, ...args: string[]): Promise<string> {
  const r = await cli(p, ...args);
  expect(r.code, `netsync ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function makePeer(name: string, key: string): Promise<Peer> {
  const p: Peer = { db: join(root, `${name}.db`), cfg: join(root, `cfg-${name}`) };
  mkdirSync(p.cfg, { recursive: true });
  writeFileSync(join(p.cfg, 'permissions'), OPEN_PERMISSIONS);
  await ok(p, 'db', 'init');
  await ok(p, 'key', 'generate', key);
  return p;
}

async function serve(p: Peer): Promise<ServeProcess> {
  const s = await startServe(p.db, [], { NETSYNC_CONFIG_DIR: p.cfg });
  running.push(s);
  return s;
}

beforeAll(() => {
  ensureCliBuilt();
  root = tempDir('netsync-cli-heads-');
});

afterAll(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL');
});

/** The last line of a commit's stdout: the new revision's id. */
const idOf = (stdout: string) => stdout.trim().split('\n').at(-1)!.split(' ')[0]!;

describe('concurrent commits: two heads, seen everywhere', () => {
  let a: Peer;
  let b: Peer;
  let server: ServeProcess;
  const BRANCH = 't.alpha';
  let headA: string;
  let headB: string;
  let base: string;

  beforeAll(async () => {
    a = await makePeer('ha', 'alice@example.org');
    b = await makePeer('hb', 'bob@example.org');
    const wa = join(root, 'wa');
    makeTree(wa, { 'notes.txt': 'one\ntwo\nthree\n', 'shared.txt': 'same\n' });
    base = idOf(await ok(a, 'commit', wa, '--branch', BRANCH, '-m', 'first import'));
    server = await serve(a);
    await ok(b, 'sync', `127.0.0.1:${server.port}`, 't.*');
    const wb = join(root, 'wb');
    await ok(b, 'checkout', BRANCH, wb);
    writeFileSync(join(wa, 'notes.txt'), 'ONE\ntwo\nthree\n');
    headA = idOf(await ok(a, 'commit', wa, '--branch', BRANCH, '-m', 'alice edits the first line'));
    writeFileSync(join(wb, 'notes.txt'), 'one\ntwo\nTHREE\n');
    writeFileSync(join(wb, 'bob.txt'), 'new file of bob\n');
    headB = idOf(await ok(b, 'commit', wb, '--branch', BRANCH, '-m', 'bob edits the last line'));
  });

  it('sync says the branch now has 2 heads, in one line and in --json', async () => {
    const r = await cli(b, 'sync', `127.0.0.1:${server.port}`, 't.*', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderrLines).toContain('t.alpha now has 2 heads; `netsync merge t.alpha` joins them');
    const json = JSON.parse(r.stdoutLines.at(-1)!) as { forks?: unknown };
    expect(json.forks).toEqual([{ branch: 't.alpha', heads: 2 }]);
    // A second sync changes nothing: no line about forks.
    const again = await cli(b, 'sync', `127.0.0.1:${server.port}`, 't.*');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('heads');
  });

  it('heads lists both (id, date, author), branches counts them, on both sides', async () => {
    for (const p of [a, b]) {
      const r = await cli(p, 'heads', BRANCH);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdoutLines).toHaveLength(2);
      expect(r.stdoutLines.map((l) => l.split(' ')[0]).sort()).toEqual([headA, headB].sort());
      expect(r.stdout).toContain('alice@example.org');
      expect(r.stdout).toContain('bob@example.org');
      expect(r.stdoutLines[0]).toMatch(/^[0-9a-f]{64} \d{4}-\d\d-\d\dT[\d:.]+Z \S+$/);
      expect(await ok(p, 'branches')).toMatch(/^t\.alpha \(\d+ items, 2 heads\)$/m);
      await ok(p, 'db', 'check');
    }
  });

  it('log marks the heads; log --graph draws the fork', async () => {
    const log = await ok(b, 'log', BRANCH);
    expect(log).toContain(`revision ${headA} (head)`);
    expect(log).toContain(`revision ${headB} (head)`);
    expect(log).toMatch(new RegExp(`revision ${base}\\n`));
    const graph = (await ok(b, 'log', BRANCH, '--graph')).trimEnd().split('\n');
    expect(graph).toHaveLength(4);
    expect(graph[0]).toMatch(/^\* [0-9a-f]{12} \(head\) /);
    expect(graph[1]).toMatch(/^\| \* [0-9a-f]{12} \(head\) /);
    expect(graph[2]).toBe('|/');
    expect(graph[3]).toMatch(new RegExp(`^\\* ${base.slice(0, 12)} .*first import$`));
  });

  it('a commit from the folder of one head makes that head newer, never swallows the other', async () => {
    const wb = join(root, 'wb');
    writeFileSync(join(wb, 'bob.txt'), 'bob edits again\n');
    const r = await cli(b, 'commit', wb, '--branch', BRANCH);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderrLines).toContain('t.alpha now has 2 heads; `netsync merge t.alpha` joins them');
    headB = idOf(r.stdout);
    const heads = (await ok(b, 'heads', BRANCH))
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    expect(heads.sort()).toEqual([headA, headB].sort());
    expect(readFileSync(join(wb, 'bob.txt'), 'utf8')).toBe('bob edits again\n');
  });
});
