/**
 * The change notifier (store/collection-watch.ts): a commit through another
 * connection, or by the command line in another process, is noticed and
 * told as the branches that changed with their new roots; nothing is told
 * when nothing was committed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/engine/hash.js';
import { type CollectionChange, CollectionWatch } from '../../src/engine/store/collection-watch.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import { fixedSigner, keyItemOf, newStoreWithKey, putRandomRevision } from '../helpers/store.js';

const open: CollectionWatch[] = [];
afterEach(() => {
  for (const w of open.splice(0)) w.close();
});

function watch(path: string, intervalMs?: number): CollectionWatch {
  const w = CollectionWatch.open(path, intervalMs);
  open.push(w);
  return w;
}

describe('CollectionWatch', () => {
  beforeAll(() => ensureCliBuilt());

  it('tells a commit through another connection as the changed branch with its new root, once', () => {
    const { store, path, signer } = newStoreWithKey();
    putRandomRevision(store, signer, 'org.example.a', [Buffer.from('one')]);
    const w = watch(path, 60_000);
    const heard: CollectionChange[] = [];
    w.subscribe((c) => heard.push(c));
    expect(w.check()).toBeNull();

    putRandomRevision(store, signer, 'org.example.b', [Buffer.from('two')]);
    const change = w.check();
    const b = store.branches().find((x) => x.name === 'org.example.b')!;
    expect(change).toEqual({ branches: [{ name: 'org.example.b', root: toHex(b.root), items: b.items, heads: 1 }] });
    expect(heard).toEqual([change]);
    // Nothing committed since: nothing to tell.
    expect(w.check()).toBeNull();

    putRandomRevision(store, signer, 'org.example.a', [Buffer.from('three')]);
    expect(w.check()?.branches.map((x) => x.name)).toEqual(['org.example.a']);
    store.close();
  });

  it('tells a change outside every branch (a key) with no branch', () => {
    const { store, path } = newStoreWithKey();
    const w = watch(path, 60_000);
    store.put(keyItemOf(fixedSigner('bob@example.org')));
    expect(w.check()).toEqual({ branches: [] });
    store.close();
  });

  it('notices the command line committing in another process, by itself, within a few seconds', async () => {
    const { store, path, dir } = newStoreWithKey();
    store.close();
    const w = watch(path);
    const heard: CollectionChange[] = [];
    w.subscribe((c) => heard.push(c));
    const tree = join(dir, 'tree');
    mkdirSync(tree);
    writeFileSync(join(tree, 'README'), 'from another process\n');
    const config = join(dir, 'config');
    expect((await runCli(['--db', path, 'key', 'generate', 'carol@example.org'], { NETSYNC_CONFIG_DIR: config })).code).toBe(0);
    const committed = await runCli(['--db', path, 'commit', tree, '--branch', 'org.example.cli', '-m', 'x'], { NETSYNC_CONFIG_DIR: config });
    expect(committed.code).toBe(0);
    // The watch looks every half second; the bound is generous for a loaded machine. The key
    // generated first may have been told on its own, before the commit.
    const told = () => heard.flatMap((c) => c.branches).filter((b) => b.name === 'org.example.cli');
    const deadline = Date.now() + 10_000;
    while (told().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const seen = WriteStore.open(path);
    const now = seen.branches().find((b) => b.name === 'org.example.cli')!;
    seen.close();
    expect(told()).toEqual([{ name: 'org.example.cli', root: toHex(now.root), items: now.items, heads: 1 }]);
  });
});
