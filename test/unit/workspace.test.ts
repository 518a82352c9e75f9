/**
 * The workspace record DIR/.netsync (src/engine/workspace/record.ts): a
 * commit's parent is the version the folder came from, a re-commit reads
 * only files whose stat changed, a racy entry is read again, and checkout
 * creates files as git does (0666/0777 masked by the umask).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kind, decodeItem } from '../../src/engine/items/format.js';
import { branchHeads, branchLog } from '../../src/engine/store/history.js';
import { checkDatabase } from '../../src/engine/store/maintenance.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { checkoutManifest } from '../../src/engine/workspace/checkout.js';
import { type CommitOptions, commitDirectory } from '../../src/engine/workspace/commit.js';
import { readRecord, writeRecord } from '../../src/engine/workspace/record.js';
import { fixedSigner, newStore, putCert, putInlineFile, putManifest } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { compareTrees, makeTree } from '../helpers/tree.js';

const BRANCH = 'org.example.work';
const opened: WriteStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function setup() {
  const s = newStore();
  opened.push(s.store);
  const dir = join(tempDir(), 'work');
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`d${i % 4}/f${i}.txt`] = `content ${i}\n`;
  makeTree(dir, { ...files, 'run.sh': { content: '#!/bin/sh\n', mode: 0o755 } });
  const commit = (folder: string, extra: Partial<CommitOptions> = {}) => commitDirectory(s.store, folder, { branch: BRANCH, signer: fixedSigner(), ...extra });
  return { ...s, dir, commit };
}

function parentsOf(store: WriteStore, revision: string): string[] {
  const item = decodeItem(store.get(Buffer.from(revision, 'hex'))!.data);
  if (item.kind !== Kind.Revision) throw new Error('not a revision');
  return item.parents.map((p) => p.toString('hex'));
}

/** Sets a file's mtime to `ms` (the record keeps mtimes to the sub-millisecond). */
function setMtime(path: string, ms: number): void {
  utimesSync(path, new Date(ms), new Date(ms));
}

describe('the workspace record', () => {
  it('a re-commit reads only the changed file and names the revision the folder came from', async () => {
    const { store, dir, commit } = setup();
    const first = await commit(dir);
    expect(first.read).toBe(41);
    // Age every file past the stamp, as time does: their entries are no longer racy.
    const record = readRecord(dir, store.path)!;
    expect(record.version.toString('hex')).toBe(first.revision);
    for (const path of record.stats.keys()) setMtime(join(dir, path), record.stamp - 10_000);
    const aged = await commit(dir, { rehash: true });
    expect(aged.changed).toBe(false);

    writeFileSync(join(dir, 'd1/f5.txt'), 'changed\n');
    const second = await commit(dir);
    expect(second.changed).toBe(true);
    expect(second.read).toBe(1);
    expect(parentsOf(store, second.revision)).toEqual([first.revision]);
    const rehash = await commit(dir, { rehash: true });
    expect([rehash.changed, rehash.read]).toEqual([false, 41]);
    expect(checkDatabase(store).problems).toEqual([]);
  });

  it('a re-commit builds the tree a full read builds, whatever changed (reused folders included)', async () => {
    const { dir, commit } = setup();
    await commit(dir);
    const changes = [
      () => rmSync(join(dir, 'd1/f5.txt')),
      () => chmodSync(join(dir, 'd2/f6.txt'), 0o755),
      () => mkdirSync(join(dir, 'd3/empty')),
      () => {
        rmSync(join(dir, 'd0/f0.txt'));
        mkdirSync(join(dir, 'd0/f0.txt'));
      },
      () => renameSync(join(dir, 'd1/f9.txt'), join(dir, 'd1/g9.txt')),
      () => rmSync(join(dir, 'd3'), { recursive: true }),
    ];
    for (const change of changes) {
      change();
      const quick = await commit(dir);
      expect(quick.changed).toBe(true);
      const full = await commit(dir, { rehash: true });
      expect([full.changed, full.tree]).toEqual([false, quick.tree]);
    }
  });

  it('a racy entry (mtime not older than the stamp) is read again, even with the same size and mtime', async () => {
    const { store, dir, commit } = setup();
    await commit(dir);
    const record = readRecord(dir, store.path)!;
    const path = join(dir, 'd2/f6.txt');
    const entry = record.stats.get('d2/f6.txt')!;
    // Changed within the stamp's tick: same size, and the mtime put back to what the cache holds.
    writeFileSync(path, 'CONTENT 6\n');
    const racyMtime = Math.ceil(Math.max(entry.mtimeMs, record.stamp));
    setMtime(path, racyMtime);
    const racyRecord = readRecord(dir, store.path)!;
    racyRecord.stats.set('d2/f6.txt', { ...entry, mtimeMs: statSync(path).mtimeMs });
    writeRecord(dir, racyRecord);
    const again = await commit(dir);
    expect(again.changed).toBe(true);
    expect(again.read).toBeGreaterThanOrEqual(1);
    const out = join(tempDir(), 'out');
    checkoutManifest(store, Buffer.from(again.revision, 'hex'), out);
    expect(readFileSync(join(out, 'd2/f6.txt'), 'utf8')).toBe('CONTENT 6\n');
  });

  it('a commit whose recorded parent is no longer the only head makes a second head, swallowing nothing', async () => {
    const { store, dir, commit } = setup();
    const base = await commit(dir);
    const other = join(tempDir(), 'other');
    checkoutManifest(store, Buffer.from(base.revision, 'hex'), other, undefined, BRANCH);
    writeFileSync(join(dir, 'mine.txt'), 'mine\n');
    const mine = await commit(dir);
    expect(mine.heads).toBe(1);
    writeFileSync(join(other, 'theirs.txt'), 'theirs\n');
    const theirs = await commit(other);
    expect(parentsOf(store, theirs.revision)).toEqual([base.revision]);
    expect(theirs.heads).toBe(2);
    expect(
      branchHeads(store, BRANCH)
        .map((h) => h.toString('hex'))
        .sort(),
    ).toEqual([mine.revision, theirs.revision].sort());
  });

  it('a record naming a version this database does not hold (made anew at the same path) is ignored', async () => {
    const { store, path, dir, commit } = setup();
    await commit(dir);
    store.close();
    opened.length = 0;
    rmSync(path);
    const again = WriteStore.open(path, { create: true });
    opened.push(again);
    const r = await commitDirectory(again, dir, { branch: BRANCH, signer: fixedSigner() });
    expect([r.changed, r.read]).toEqual([true, 41]);
    expect(checkDatabase(again).problems).toEqual([]);
  });

  it('a record written for another database is ignored', async () => {
    const { dir, commit } = setup();
    await commit(dir);
    const elsewhere = newStore();
    opened.push(elsewhere.store);
    const r = await commitDirectory(elsewhere.store, dir, { branch: BRANCH, signer: fixedSigner() });
    expect([r.changed, r.read]).toEqual([true, 41]);
    expect(checkDatabase(elsewhere.store).problems).toEqual([]);
  });
});

describe('format v3 history under format v4', () => {
  it('a v3 manifest head is the parent of the first v4 commit; both check out, log both, one head', async () => {
    const { store, dir, commit } = setup();
    const signer = fixedSigner();
    const legacy = putManifest(store, { 'old.txt': putInlineFile(store, 'old\n') });
    for (const [name, value] of [
      ['date', '2026-01-01T00:00:00.000Z'],
      ['branch', BRANCH],
    ] as const)
      putCert(store, signer, legacy, name, value);
    expect(branchHeads(store, BRANCH)).toEqual([legacy]);
    // A folder without a workspace record names the version it starts from (commit --parent).
    const r = await commit(dir, { parent: legacy });
    expect(parentsOf(store, r.revision)).toEqual([legacy.toString('hex')]);
    expect(branchHeads(store, BRANCH).map((h) => h.toString('hex'))).toEqual([r.revision]);
    const log = branchLog(store, BRANCH);
    expect(log.map((e) => [e.manifest, e.revision !== null])).toEqual([
      [r.revision, true],
      [legacy.toString('hex'), false],
    ]);
    expect(log[0]!.parents).toEqual([legacy.toString('hex')]);
    const old = join(tempDir(), 'old');
    checkoutManifest(store, legacy, old);
    expect(readFileSync(join(old, 'old.txt'), 'utf8')).toBe('old\n');
    // The v3 manifest is in the branch's collection through the revision too; index and check agree.
    expect(store.isMember(store.branchId(BRANCH)!, legacy)).toBe(true);
    expect(checkDatabase(store).problems).toEqual([]);
  });
});

describe('checkout', () => {
  it("refuses a tree that holds the workspace record's name at its top, writing nothing", () => {
    const { store } = setup();
    const signer = fixedSigner();
    const manifest = putManifest(store, { '.netsync/record.json': putInlineFile(store, '{}') });
    putCert(store, signer, manifest, 'branch', 'org.example.clash');
    const out = join(tempDir(), 'clash');
    expect(() => checkoutManifest(store, manifest, out)).toThrow(/holds "\.netsync" at its top/);
    expect(existsSync(out)).toBe(false);
  });

  it('creates files 0666/0777 masked by the umask, and the record it writes makes the next commit unchanged', async () => {
    const { store, dir, commit } = setup();
    const r = await commit(dir);
    for (const [mask, file, exec] of [
      [0o022, 0o644, 0o755],
      [0o077, 0o600, 0o700],
    ] as const) {
      const out = join(tempDir(), `out-${mask.toString(8)}`);
      const old = process.umask(mask);
      try {
        checkoutManifest(store, Buffer.from(r.revision, 'hex'), out);
      } finally {
        process.umask(old);
      }
      expect(statSync(join(out, 'd0/f0.txt')).mode & 0o777).toBe(file);
      expect(statSync(join(out, 'run.sh')).mode & 0o777).toBe(exec);
      expect(compareTrees(dir, out)).toEqual([]);
      const again = await commit(out);
      expect([again.changed, again.revision]).toEqual([false, r.revision]);
    }
  });
});
