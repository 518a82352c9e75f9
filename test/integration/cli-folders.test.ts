/**
 * Real folders commit as they are, through the real command line: symbolic
 * links recorded as links and checked out byte for byte (`diff -r
 * --no-dereference`, also after a sync to another database), ignore rules
 * (`.netsyncignore` at any depth, `--exclude`), and every refused entry
 * named with exit 10.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliPeer as Peer, ensureCliBuilt, peerCli as cli, peerOk as ok } from '../helpers/cli.js';
import { OPEN_PERMISSIONS, type ServeProcess, startServe, withStore } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { makeTree } from '../helpers/tree.js';

let root: string;
const running: ServeProcess[] = [];

async function makePeer(name: string): Promise<Peer> {
  const p: Peer = { db: join(root, `${name}.db`), cfg: join(root, `cfg-${name}`) };
  mkdirSync(p.cfg, { recursive: true });
  writeFileSync(join(p.cfg, 'permissions'), OPEN_PERMISSIONS);
  await ok(p, 'db', 'init');
  await ok(p, 'key', 'generate', `${name}@example.org`);
  return p;
}

/** The paths a revision holds, as `show` lists them (file, exec, dir, link). */
async function pathsOf(p: Peer, id: string): Promise<string[]> {
  return (await ok(p, 'show', id))
    .split('\n')
    .filter((l) => /^(file|exec|dir |link) /.test(l))
    .map((l) => l.slice(70).replace(/ -> .*$/, ''))
    .sort();
}

const idOf = (stdout: string) => stdout.trim().split('\n').at(-1)!.split(' ')[0]!;

beforeAll(() => {
  ensureCliBuilt();
  root = tempDir('netsync-cli-folders-');
});

afterAll(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL');
});

describe('symbolic links', () => {
  it('relative, absolute, dangling links and links to folders round-trip exactly, here and after a sync', async () => {
    const a = await makePeer('la');
    const b = await makePeer('lb');
    const tree = join(root, 'links');
    makeTree(tree, { 'docs/readme.txt': 'read me\n', 'lib/impl.c': 'int x;\n', 'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 } });
    symlinkSync('readme.txt', join(tree, 'docs', 'README')); // relative, to a file
    symlinkSync('../lib', join(tree, 'docs', 'lib')); // relative, to a folder
    symlinkSync('/etc/hostname', join(tree, 'absolute')); // absolute
    symlinkSync('no/such/target', join(tree, 'dangling')); // dangling
    symlinkSync(join(tree, 'lib'), join(tree, 'abs-folder')); // absolute, to a folder
    const id = idOf(await ok(a, 'commit', tree, '--branch', 't.links'));
    const shown = await ok(a, 'show', id);
    expect(shown).toMatch(/^link -{64} docs\/lib -> \.\.\/lib$/m);
    expect(shown).toMatch(/^link -{64} dangling -> no\/such\/target$/m);
    // The link to a folder was recorded as a link, not followed: the folder's file is there once.
    expect(await pathsOf(a, id)).not.toContain('docs/lib/impl.c');

    const out = join(root, 'links-out');
    const co = await ok(a, 'checkout', 't.links', out);
    expect(co).toMatch(/5 links/);
    // Each folder's workspace record (.netsync) is its own; everything else is byte for byte the same.
    const diff = spawnSync('diff', ['-r', '--no-dereference', '-x', '.netsync', tree, out], { encoding: 'utf8' });
    expect(diff.stdout).toBe('');
    expect(diff.status).toBe(0);
    expect(lstatSync(join(out, 'docs', 'lib')).isSymbolicLink()).toBe(true);
    // Nor into a folder reached through a link.
    mkdirSync(join(root, 'empty-target'));
    symlinkSync(join(root, 'empty-target'), join(root, 'via-link'));
    const through = await cli(a, 'checkout', 't.links', join(root, 'via-link'));
    expect(through.code).toBe(2);
    expect(through.stderr).toMatch(/via-link is a symbolic link; check out into a new or empty folder, never through a link/);
    expect(readlinkSync(join(out, 'dangling'))).toBe('no/such/target');

    const server = await startServe(a.db, [], { NETSYNC_CONFIG_DIR: a.cfg });
    running.push(server);
    await ok(b, 'pull', `127.0.0.1:${server.port}`, 't.*');
    const there = join(root, 'links-there');
    await ok(b, 'checkout', 't.links', there);
    const diff2 = spawnSync('diff', ['-r', '--no-dereference', '-x', '.netsync', tree, there], { encoding: 'utf8' });
    expect(diff2.stdout).toBe('');
    expect(diff2.status).toBe(0);
    await ok(b, 'db', 'check');
  });

  it('a changed link target is a change; two sides changing it differently is a link conflict', async () => {
    const p = await makePeer('lc');
    const tree = join(root, 'link-conflict');
    makeTree(tree, { 'f.txt': 'f\n' });
    symlinkSync('f.txt', join(tree, 'ln'));
    const base = idOf(await ok(p, 'commit', tree, '--branch', 't.lc'));
    for (const [side, target] of [
      ['1', 'one'],
      ['2', 'two'],
    ] as const) {
      const dir = join(root, `link-conflict-${side}`);
      await ok(p, 'checkout', base, dir);
      spawnSync('rm', [join(dir, 'ln')]);
      symlinkSync(target, join(dir, 'ln'));
      await ok(p, 'commit', dir, '--branch', 't.lc');
    }
    const r = await cli(p, 'merge', 't.lc');
    expect(r.code).toBe(12);
    expect(r.stdoutLines).toContain('conflict (link): ln');
  });
});

describe('ignore rules and refused entries', () => {
  it('.netsyncignore at any depth and --exclude leave paths out; .netsyncignore itself and .netsync are as the rules say', async () => {
    const p = await makePeer('ia');
    const tree = join(root, 'ignoring');
    makeTree(tree, {
      '.netsyncignore': '*.log\nbuild/\n',
      'main.c': 'int main;\n',
      'debug.log': 'noise\n',
      'build/out.o': 'obj\n',
      'sub/.netsyncignore': '!keep.log\nsecret.txt\n',
      'sub/keep.log': 'kept\n',
      'sub/other.log': 'left out\n',
      'sub/secret.txt': 'left out\n',
      'sub/deeper/secret.txt': 'left out too (a pattern without a slash matches at any depth below)\n',
      'node_modules/pkg/index.js': 'x\n',
      'src/node_modules/y.js': 'y\n',
    });
    const id = idOf(await ok(p, 'commit', tree, '--branch', 't.ignore', '--exclude', 'node_modules', '--exclude', '*.o'));
    expect(await pathsOf(p, id)).toEqual(['.netsyncignore', 'main.c', 'src', 'sub', 'sub/.netsyncignore', 'sub/deeper', 'sub/keep.log'].sort());
  });

  it('a large tree walked in the worker starts again on this thread when it meets a nested .netsyncignore', async () => {
    const p = await makePeer('ib');
    const tree = join(root, 'ignoring-large');
    const spec: Record<string, string> = { 'z/.netsyncignore': '*.tmp\n', 'z/a.tmp': 'no\n', 'z/b.txt': 'yes\n' };
    for (let i = 0; i < 400; i++) spec[`many/f${i}.txt`] = `file ${i}\n`;
    makeTree(tree, spec);
    const id = idOf(await ok(p, 'commit', tree, '--branch', 't.large'));
    const paths = await pathsOf(p, id);
    expect(paths).toContain('z/b.txt');
    expect(paths).not.toContain('z/a.tmp');
    expect(paths.filter((x) => x.startsWith('many/'))).toHaveLength(400);
  });

  it('a commit refusing entries names every one of them, exit 10, nothing committed', async () => {
    const p = await makePeer('ic');
    const tree = join(root, 'refusing');
    makeTree(tree, { 'ok.txt': 'fine\n', 'a/b/c.txt': 'fine\n' });
    expect(spawnSync('mkfifo', [join(tree, 'pipe-one')]).status).toBe(0);
    expect(spawnSync('mkfifo', [join(tree, 'a', 'b', 'pipe-two')]).status).toBe(0);
    const before = withStore(p.db, (s) => s.itemCount());
    const r = await cli(p, 'commit', tree, '--branch', 't.refused');
    expect(r.code).toBe(10);
    expect(r.stderrLines.filter((l) => l.startsWith('refused: '))).toEqual([
      'refused: a/b/pipe-two: not a regular file, folder or symbolic link (a FIFO, a socket or a device)',
      'refused: pipe-one: not a regular file, folder or symbolic link (a FIFO, a socket or a device)',
    ]);
    expect(r.stderrLines.at(-1)).toMatch(
      /refused 2 entries of .*; nothing was committed \(make them readable, or leave them out with --exclude or a \.netsyncignore\)$/,
    );
    expect((await cli(p, 'branches')).stdout).toBe('');
    expect(withStore(p.db, (s) => s.branches().length)).toBe(0);
    expect(before).toBeGreaterThan(0);
    // Left out, they are no longer refused.
    await ok(p, 'commit', tree, '--branch', 't.refused', '--exclude', 'pipe-*');
    expect(existsSync(join(tree, '.netsync'))).toBe(true);
  });
});
