/**
 * Heads and merges as users meet them, through the real command line with
 * real processes and two databases: concurrent commits to one branch, a sync
 * that says the branch now has two heads, `heads`, `branches`, `log --graph`,
 * and (below) `merge`, `commit --parent`, links and ignore rules.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliPeer as Peer, ensureCliBuilt, peerCli as cli, peerOk as ok } from '../helpers/cli.js';
import { OPEN_PERMISSIONS, type ServeProcess, startServe, withStore } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { type TreeSpec, makeTree } from '../helpers/tree.js';

let root: string;
const running: ServeProcess[] = [];

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

describe('merge: joins two heads', () => {
  let a: Peer;
  let b: Peer;
  let server: ServeProcess;
  const BRANCH = 't.beta';

  beforeAll(async () => {
    a = await makePeer('ma', 'alice@example.org');
    b = await makePeer('mb', 'bob@example.org');
    const wa = join(root, 'ma-w');
    makeTree(wa, { 'notes.txt': 'one\ntwo\nthree\nfour\nfive\n', 'keep.txt': 'kept\n', 'gone.txt': 'to be removed by bob\n' });
    await ok(a, 'commit', wa, '--branch', BRANCH, '-m', 'first import');
    server = await serve(a);
    await ok(b, 'sync', `127.0.0.1:${server.port}`, 't.*');
    const wb = join(root, 'mb-w');
    await ok(b, 'checkout', BRANCH, wb);
    writeFileSync(join(wa, 'notes.txt'), 'ONE\ntwo\nthree\nfour\nfive\n');
    writeFileSync(join(wa, 'alice.txt'), 'alice was here\n');
    await ok(a, 'commit', wa, '--branch', BRANCH, '-m', 'alice: first line, a file');
    writeFileSync(join(wb, 'notes.txt'), 'one\ntwo\nthree\nfour\nFIVE\n');
    rmSync(join(wb, 'gone.txt'));
    await ok(b, 'commit', wb, '--branch', BRANCH, '-m', 'bob: last line, a file removed');
    await ok(b, 'sync', `127.0.0.1:${server.port}`, 't.*');
  });

  it('without conflicts: one head holding both sides, both heads its parents, db check clean on both sides', async () => {
    const before = (await ok(b, 'heads', BRANCH))
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]!);
    expect(before).toHaveLength(2);
    const r = await cli(b, 'merge', BRANCH);
    expect(r.code, r.stderr).toBe(0);
    const merged = r.stdoutLines[0]!;
    expect(merged).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toContain(`${BRANCH} now has 1 head`);
    expect((await ok(b, 'heads', BRANCH)).trim().split(' ')[0]).toBe(merged);
    const shown = await ok(b, 'show', merged);
    for (const h of before) expect(shown).toContain(`parent ${h}`);
    expect(shown).toContain('cert author=bob@example.org');
    const out = join(root, 'mb-merged');
    await ok(b, 'checkout', BRANCH, out);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('ONE\ntwo\nthree\nfour\nFIVE\n');
    expect(readFileSync(join(out, 'alice.txt'), 'utf8')).toBe('alice was here\n');
    expect(existsSync(join(out, 'gone.txt'))).toBe(false);
    await ok(b, 'sync', `127.0.0.1:${server.port}`, 't.*');
    for (const p of [a, b]) {
      await ok(p, 'db', 'check');
      expect(await ok(p, 'branches')).toMatch(/^t\.beta \(\d+ items, 1 head\)$/m);
    }
    const graph = (await ok(a, 'log', BRANCH, '--graph')).trimEnd().split('\n');
    expect(graph[0]).toMatch(/^\* [0-9a-f]{12} \(head\) .*merge of/);
    expect(graph[1]).toBe('|\\');
  });

  it('one head: nothing to merge, a usage error', async () => {
    const r = await cli(b, 'merge', BRANCH);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has one head .*nothing to merge/);
  });
});

/** One database, a branch forked from `base` by two checkouts changed by `ours` and `theirs`. */
async function forked(name: string, spec: TreeSpec, ours: (dir: string) => void, theirs: (dir: string) => void): Promise<{ p: Peer; branch: string }> {
  const p = await makePeer(name, 'carol@example.org');
  const branch = `t.${name}`;
  const w = join(root, `${name}-base`);
  makeTree(w, spec);
  const base = idOf(await ok(p, 'commit', w, '--branch', branch));
  for (const [side, edit] of [
    ['1', ours],
    ['2', theirs],
  ] as const) {
    const dir = join(root, `${name}-${side}`);
    await ok(p, 'checkout', base, dir);
    edit(dir);
    await ok(p, 'commit', dir, '--branch', branch);
  }
  expect((await ok(p, 'heads', branch)).trim().split('\n')).toHaveLength(2);
  return { p, branch };
}

const itemsIn = (p: Peer) => withStore(p.db, (s) => s.itemCount());

describe('merge: each kind of conflict commits nothing, lists it, exits 12', () => {
  const cases: { kind: string; path: string; base: TreeSpec; ours: (d: string) => void; theirs: (d: string) => void }[] = [
    {
      kind: 'content',
      path: 'notes.txt',
      base: { 'notes.txt': 'a\nb\nc\n' },
      ours: (d) => writeFileSync(join(d, 'notes.txt'), 'a\nOURS\nc\n'),
      theirs: (d) => writeFileSync(join(d, 'notes.txt'), 'a\nTHEIRS\nc\n'),
    },
    {
      kind: 'modify/delete',
      path: 'f.txt',
      base: { 'f.txt': 'x\n' },
      ours: (d) => writeFileSync(join(d, 'f.txt'), 'changed\n'),
      theirs: (d) => rmSync(join(d, 'f.txt')),
    },
    {
      kind: 'file/folder',
      path: 'x',
      base: { x: 'a file\n' },
      ours: (d) => writeFileSync(join(d, 'x'), 'still a file, changed\n'),
      theirs: (d) => {
        rmSync(join(d, 'x'));
        makeTree(join(d, 'x'), { 'inside.txt': 'now a folder\n' });
      },
    },
    {
      kind: 'executable',
      path: 'run.sh',
      base: { 'other.txt': 'o\n' },
      ours: (d) => makeTree(d, { 'run.sh': { content: '#!/bin/sh\n', mode: 0o755 } }),
      theirs: (d) => makeTree(d, { 'run.sh': { content: '#!/bin/sh\n', mode: 0o644 } }),
    },
    {
      kind: 'binary',
      path: 'img.bin',
      base: { 'img.bin': Buffer.from([1, 0, 2, 3]) },
      ours: (d) => writeFileSync(join(d, 'img.bin'), Buffer.from([1, 0, 9, 3])),
      theirs: (d) => writeFileSync(join(d, 'img.bin'), Buffer.from([1, 0, 2, 8])),
    },
  ];
  for (const c of cases) {
    it(`${c.kind}: ${c.path}`, async () => {
      const { p, branch } = await forked(`c${cases.indexOf(c)}`, c.base, c.ours, c.theirs);
      const before = itemsIn(p);
      const r = await cli(p, 'merge', branch);
      expect(r.code, r.stderr).toBe(12);
      expect(r.stdoutLines).toContain(`conflict (${c.kind}): ${c.path}`);
      expect(r.stderr).toMatch(/conflicts?; nothing was committed; `netsync merge .* --into DIR`/);
      expect(itemsIn(p)).toBe(before);
      expect((await ok(p, 'heads', branch)).trim().split('\n')).toHaveLength(2);
    });
  }

  it('--into with a file against a folder: the folder kept, the file beside it as PATH~ours or PATH~theirs', async () => {
    const { p, branch } = await forked(
      'aside',
      { x: 'a file\n', 'keep.txt': 'k\n' },
      (d) => writeFileSync(join(d, 'x'), 'still a file, changed\n'),
      (d) => {
        rmSync(join(d, 'x'));
        makeTree(join(d, 'x'), { 'inside.txt': 'now a folder\n' });
      },
    );
    const dir = join(root, 'aside-merged');
    const r = await cli(p, 'merge', branch, '--into', dir);
    expect(r.code, r.stderr).toBe(12);
    expect(r.stdoutLines).toContain('conflict (file/folder): x');
    expect(readFileSync(join(dir, 'x', 'inside.txt'), 'utf8')).toBe('now a folder\n');
    const aside = ['x~ours', 'x~theirs'].filter((n) => existsSync(join(dir, n)));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('still a file, changed\n');
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('k\n');
  });

  it('--into writes the markers and a record; its commit has both heads as parents', async () => {
    const { p, branch } = await forked(
      'into',
      { 'notes.txt': 'a\nb\nc\n', 'same.txt': 's\n' },
      (d) => writeFileSync(join(d, 'notes.txt'), 'a\nOURS\nc\n'),
      (d) => writeFileSync(join(d, 'notes.txt'), 'a\nTHEIRS\nc\n'),
    );
    const heads = (await ok(p, 'heads', branch))
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]!);
    const dir = join(root, 'into-merged');
    const r = await cli(p, 'merge', branch, '--into', dir);
    expect(r.code, r.stderr).toBe(12);
    expect(r.stdoutLines).toContain('conflict (content): notes.txt');
    const text = readFileSync(join(dir, 'notes.txt'), 'utf8');
    expect(text).toMatch(/^a\n<<<<<<< ours\n(OURS|THEIRS)\n\|\|\|\|\|\|\| base\nb\n=======\n(OURS|THEIRS)\n>>>>>>> theirs\nc\n$/);
    expect(readFileSync(join(dir, 'same.txt'), 'utf8')).toBe('s\n');
    expect((await ok(p, 'heads', branch)).trim().split('\n')).toHaveLength(2);
    writeFileSync(join(dir, 'notes.txt'), 'a\nBOTH\nc\n');
    const merged = idOf(await ok(p, 'commit', dir, '--branch', branch, '-m', 'resolved'));
    const shown = await ok(p, 'show', merged);
    for (const h of heads) expect(shown).toContain(`parent ${h}`);
    expect((await ok(p, 'heads', branch)).trim().split(' ')[0]).toBe(merged);
    await ok(p, 'db', 'check');
  });
});

describe('commit onto an existing branch from a folder without a record', () => {
  let p: Peer;
  const BRANCH = 't.gamma';
  let first: string;

  beforeAll(async () => {
    p = await makePeer('pa', 'dave@example.org');
    const w = join(root, 'pa-w');
    makeTree(w, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'sub/c.txt': 'c\n' });
    first = idOf(await ok(p, 'commit', w, '--branch', BRANCH));
  });

  it('without --parent: refused in one line saying what to do, exit 10, nothing committed', async () => {
    const w = join(root, 'pa-export');
    makeTree(w, { 'a.txt': 'a\n' });
    const before = itemsIn(p);
    const r = await cli(p, 'commit', w, '--branch', BRANCH);
    expect(r.code).toBe(10);
    expect(r.stderrLines).toHaveLength(1);
    expect(r.stderr).toMatch(/has no workspace record .*name the version it starts from with --parent ID\|head, or check out t\.gamma/);
    expect(itemsIn(p)).toBe(before);
  });

  it('with --parent head: prints what it adds, changes and removes, then commits on top of that head', async () => {
    const w = join(root, 'pa-export2');
    makeTree(w, { 'a.txt': 'A changed\n', 'sub/c.txt': 'c\n', 'new.txt': 'n\n' });
    const r = await cli(p, 'commit', w, '--branch', BRANCH, '--parent', 'head');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdoutLines.slice(0, -1)).toEqual([`relative to ${first.slice(0, 12)}: 3 paths`, 'M a.txt', 'D b.txt', 'A new.txt']);
    const id = idOf(r.stdout);
    expect(await ok(p, 'show', id)).toContain(`parent ${first}`);
    expect((await ok(p, 'heads', BRANCH)).trim().split(' ')[0]).toBe(id);
  });

  it('with --parent ID of an older version: a new head beside the newer one, nothing reverted', async () => {
    const w = join(root, 'pa-export3');
    makeTree(w, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'sub/c.txt': 'c\n', 'side.txt': 's\n' });
    const r = await cli(p, 'commit', w, '--branch', BRANCH, '--parent', first.slice(0, 16));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdoutLines[1]).toBe('A side.txt');
    expect(r.stderrLines).toContain('t.gamma now has 2 heads; `netsync merge t.gamma` joins them');
    const two = await cli(p, 'commit', w, '--branch', BRANCH, '--parent', 'head');
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/--parent head: t\.gamma has 2 heads/);
  });
});

describe('merge: more than two heads', () => {
  it('merges the two newest, says so, and a second merge joins the rest', async () => {
    const p = await makePeer('three', 'erin@example.org');
    const branch = 't.three';
    const w = join(root, 'three-base');
    makeTree(w, { 'a.txt': 'a\n' });
    const base = idOf(await ok(p, 'commit', w, '--branch', branch));
    for (const side of ['x', 'y', 'z']) {
      const dir = join(root, `three-${side}`);
      await ok(p, 'checkout', base, dir);
      writeFileSync(join(dir, `${side}.txt`), `${side}\n`);
      await ok(p, 'commit', dir, '--branch', branch);
    }
    const first = await cli(p, 'merge', branch);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/t\.three has 3 heads; merging the two newest \([0-9a-f]{12}, [0-9a-f]{12}\); run merge again for the others/);
    expect(first.stderr).toContain('t.three now has 2 heads');
    await ok(p, 'merge', branch);
    const out = join(root, 'three-out');
    await ok(p, 'checkout', branch, out);
    for (const side of ['x', 'y', 'z']) expect(readFileSync(join(out, `${side}.txt`), 'utf8')).toBe(`${side}\n`);
  });
});

describe('commit from an old checkout', () => {
  it('makes a new head beside the newer version, which keeps its files: nothing reverted', async () => {
    const p = await makePeer('old', 'frank@example.org');
    const branch = 't.old';
    const w = join(root, 'old-w');
    makeTree(w, { 'a.txt': 'v1\n' });
    const v1 = idOf(await ok(p, 'commit', w, '--branch', branch));
    writeFileSync(join(w, 'a.txt'), 'v2\n');
    writeFileSync(join(w, 'new-in-v2.txt'), 'added in v2\n');
    const v2 = idOf(await ok(p, 'commit', w, '--branch', branch));
    const old = join(root, 'old-checkout');
    await ok(p, 'checkout', v1, old);
    writeFileSync(join(old, 'other.txt'), 'edited from v1\n');
    const r = await cli(p, 'commit', old, '--branch', branch);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderrLines).toContain('t.old now has 2 heads; `netsync merge t.old` joins them');
    const v3 = idOf(r.stdout);
    expect(await ok(p, 'show', v3)).toContain(`parent ${v1}`);
    const heads = (await ok(p, 'heads', branch))
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    expect(heads.sort()).toEqual([v2, v3].sort());
    const newer = join(root, 'old-v2');
    await ok(p, 'checkout', v2, newer);
    expect(readFileSync(join(newer, 'a.txt'), 'utf8')).toBe('v2\n');
    expect(readFileSync(join(newer, 'new-in-v2.txt'), 'utf8')).toBe('added in v2\n');
    // Merged, the branch holds both: v2's files and the edit made from v1.
    await ok(p, 'merge', branch);
    const merged = join(root, 'old-merged');
    await ok(p, 'checkout', branch, merged);
    expect(readFileSync(join(merged, 'a.txt'), 'utf8')).toBe('v2\n');
    expect(readFileSync(join(merged, 'new-in-v2.txt'), 'utf8')).toBe('added in v2\n');
    expect(readFileSync(join(merged, 'other.txt'), 'utf8')).toBe('edited from v1\n');
  });
});
