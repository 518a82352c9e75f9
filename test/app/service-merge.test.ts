/**
 * The app's Merge, against a real database: a branch forked by two
 * checkouts of one version shows its heads, and `merge` joins them into one
 * revision signed with the identity's key, or lists the conflicts and
 * commits nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { checkoutManifest } from '../../src/engine/workspace/checkout.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';
import { setupService } from '../helpers/service.js';
import { makeTree } from '../helpers/tree.js';

const BRANCH = 'org.example.fork';

async function forkedDatabase(dir: string, ours: string, theirs: string): Promise<string> {
  const db = join(dir, 'fork.db');
  const pair = new KeyStore(join(dir, 'config', 'keys')).generate('alice@example.org');
  const signer = { name: 'alice@example.org', pair };
  const store = WriteStore.open(db, { create: true });
  try {
    const base = join(dir, 'base');
    makeTree(base, { 'notes.txt': 'one\ntwo\nthree\n' });
    const first = await commitDirectory(store, base, { branch: BRANCH, signer });
    for (const [side, text] of [
      ['a', ours],
      ['b', theirs],
    ] as const) {
      const w = join(dir, side);
      checkoutManifest(store, Buffer.from(first.revision, 'hex'), w, undefined, BRANCH);
      writeFileSync(join(w, 'notes.txt'), text);
      await commitDirectory(store, w, { branch: BRANCH, signer });
    }
  } finally {
    store.close();
  }
  return db;
}

describe('NetsyncService.merge', () => {
  it('joins two heads: the list and the log show two heads before, one after', async () => {
    const { service, dir } = setupService();
    const db = await forkedDatabase(dir, 'ONE\ntwo\nthree\n', 'one\ntwo\nTHREE\n');
    expect((await service.openDatabase(db)).ok).toBe(true);
    expect(await service.listBranches()).toMatchObject({ ok: true, value: [{ name: BRANCH, heads: 2 }] });
    const log = await service.log(BRANCH);
    expect(log.ok && log.value.filter((e) => e.head)).toHaveLength(2);
    const r = await service.merge(BRANCH);
    expect(r).toMatchObject({ ok: true, value: { branch: BRANCH, heads: 1, conflicts: [] } });
    const revision = r.ok ? r.value.revision! : '';
    expect(await service.listBranches()).toMatchObject({ ok: true, value: [{ name: BRANCH, heads: 1 }] });
    const out = join(dir, 'merged');
    expect((await service.checkout(BRANCH, out)).ok).toBe(true);
    const after = await service.log(BRANCH);
    expect(after.ok && after.value.find((e) => e.head)?.manifest).toBe(revision);
    expect(after.ok && after.value.find((e) => e.head)?.certs.some((c) => c.name === 'author' && c.value === 'alice@example.org')).toBe(true);
    expect(await service.merge(BRANCH)).toMatchObject({ ok: false, error: { code: 'usage' } });
  });

  it('on a conflict commits nothing and lists it', async () => {
    const { service, dir } = setupService();
    const db = await forkedDatabase(dir, 'one\nOURS\nthree\n', 'one\nTHEIRS\nthree\n');
    expect((await service.openDatabase(db)).ok).toBe(true);
    expect(await service.merge(BRANCH)).toEqual({
      ok: true,
      value: { branch: BRANCH, revision: null, heads: 2, conflicts: [{ kind: 'content', path: 'notes.txt' }] },
    });
    expect(await service.listBranches()).toMatchObject({ ok: true, value: [{ name: BRANCH, heads: 2 }] });
  });
});
