/**
 * The commit's file reader, in its worker and on the calling thread: contents
 * come back in order and byte for byte, up to a byte budget; a large file, a
 * missing one, a folder and a symbolic link are told apart; and a commit that
 * goes through the worker checks out exactly the tree it read.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INLINE_MAX } from '../../src/engine/items/format.js';
import { checkDatabase } from '../../src/engine/store/maintenance.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { checkoutManifest } from '../../src/engine/workspace/checkout.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';
import { type BatchRead, Found, Listed, TreeReader, type WalkSteps, readBatch, walkHere } from '../../src/engine/workspace/file-reader.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { fixedSigner } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { compareTrees } from '../helpers/tree.js';

const readers: WalkSteps[] = [];
afterAll(async () => {
  for (const r of readers) await r.close();
});

/** The contents of a batch's Small files, in order. */
function contents(b: BatchRead): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  b.found.forEach((f, i) => {
    if (f !== Found.Small) return;
    out.push(Buffer.from(b.buffer, at, b.sizes[i]));
    at += b.sizes[i]!;
  });
  return out;
}

describe('reading a batch', () => {
  const dir = tempDir('netsync-reader-');
  const files = Array.from({ length: 50 }, (_, i) => ({ abs: join(dir, `f${i}`), content: pseudoRandomBytes(i * 97, `reader/${i}`) }));
  for (const f of files) writeFileSync(f.abs, f.content);
  writeFileSync(join(dir, 'large'), Buffer.alloc(101, 7));
  writeFileSync(join(dir, 'exec'), 'x', { mode: 0o755 });
  mkdirSync(join(dir, 'folder'));
  symlinkSync(join(dir, 'exec'), join(dir, 'link'));

  it('every file byte for byte and in order; stops at the byte budget', async () => {
    const all = readBatch(
      fs,
      files.map((f) => f.abs),
      INLINE_MAX,
      1 << 20,
    );
    expect(all.found).toEqual(files.map(() => Found.Small));
    contents(all).forEach((c, i) => expect(c.equals(files[i]!.content)).toBe(true));
    // A budget of 1,000 bytes stops after the files that reach it (at least one file is read).
    const some = readBatch(
      fs,
      files.map((f) => f.abs),
      INLINE_MAX,
      1000,
    );
    const sizes = files.map((f) => f.content.length);
    let expected = 0;
    for (let total = 0; expected < sizes.length && (total < 1000 || expected === 0); expected++) total += sizes[expected]!;
    expect(some.found).toHaveLength(expected);
  });

  it('a large file, a missing one, a folder and a symbolic link are told apart; modes come back', async () => {
    const r = readBatch(
      fs,
      ['large', 'missing', 'folder', 'link', 'exec'].map((n) => join(dir, n)),
      100,
      1 << 20,
    );
    expect(r.found).toEqual([Found.Large, Found.Unreadable, Found.NotAFile, Found.NotAFile, Found.Small]);
    expect(r.sizes[0]).toBe(101);
    expect(r.codes[1]).toBe('ENOENT');
    expect(r.codes[2]).toBe('a folder');
    expect(r.codes[3]).toBe('a symbolic link');
    expect(r.modes[4]! & 0o111).not.toBe(0);
    expect(contents(r).map(String)).toEqual(['x']);
  });
});

describe('walking a tree (in the worker and on this thread alike)', () => {
  const root = tempDir('netsync-walk-');
  const expectedPaths: string[] = [];
  const expectedTypes: Listed[] = [];
  const content = new Map<string, Buffer>();
  // Depth first, each folder's names sorted: b/ before b0 ('/' is not compared: names are).
  const tree: [string, 'dir' | 'file' | 'link'][] = [
    ['a', 'dir'],
    ['a/x', 'file'],
    ['a/y', 'dir'],
    ['a/y/z', 'file'],
    ['b', 'dir'],
    ['b0', 'file'],
    ['c', 'link'],
  ];
  for (let i = 0; i < 40; i++) tree.push([`d/f${String(i).padStart(2, '0')}`, 'file']);
  tree.splice(
    tree.findIndex(([p]) => p === 'd/f00'),
    0,
    ['d', 'dir'],
  );
  for (const [path, type] of tree) {
    const abs = join(root, path);
    if (type === 'dir') mkdirSync(abs);
    else if (type === 'link') symlinkSync('a', abs);
    else {
      const bytes = pseudoRandomBytes(path.length * 61, `walk/${path}`);
      writeFileSync(abs, bytes);
      content.set(path, bytes);
    }
    expectedPaths.push(path);
    expectedTypes.push(type === 'dir' ? Listed.Dir : type === 'file' ? Listed.File : Listed.SymbolicLink);
  }
  const options = { sep, firstFiles: 3, batchFiles: 10, max: INLINE_MAX, budget: 400, prefix: new Uint8Array(0) };

  const ways: [string, () => Promise<WalkSteps>][] = [
    ['worker', async () => TreeReader.start(root, options)],
    ['this thread', async () => walkHere(root, options)],
  ];
  for (const [way, start] of ways) {
    it(`${way}: every path in walk order with its type, every file byte for byte, in steps of the sizes asked`, async () => {
      const steps = await start();
      readers.push(steps);
      const paths: string[] = [];
      const types: Listed[] = [];
      const read: Buffer[] = [];
      const stepFiles: number[] = [];
      for (;;) {
        const step = await steps.next();
        expect(step.failed).toBeNull();
        if (step.paths) paths.push(...step.paths.split('\0'));
        types.push(...step.types);
        read.push(...contents(step));
        stepFiles.push(step.types.filter((t) => t === Listed.File).length);
        if (step.done) break;
      }
      expect(paths).toEqual(expectedPaths);
      expect(types).toEqual(expectedTypes);
      const files = expectedPaths.filter((_, i) => expectedTypes[i] === Listed.File);
      expect(read).toHaveLength(files.length);
      read.forEach((bytes, i) => expect(bytes.equals(content.get(files[i]!)!), files[i]).toBe(true));
      // A step comes once 3 (the first) or 10 files wait to be read; what the 400-byte budget
      // leaves unread waits for the next step, so later steps list fewer than 10.
      expect(stepFiles[0]).toBe(3);
      expect(Math.max(...stepFiles)).toBeLessThanOrEqual(10);
      expect(stepFiles.length).toBeGreaterThan(4);
    });
  }

  it('a root that cannot be listed ends the walk at once, saying why', async () => {
    const missing = join(root, 'nowhere');
    for (const steps of [walkHere(missing, options), await TreeReader.start(missing, options)]) {
      readers.push(steps);
      const step = await steps.next();
      expect(step.failed).toEqual({ abs: missing, code: 'ENOENT' });
      expect(step.done).toBe(true);
    }
  });
});

describe('commit through the reader', () => {
  it('a FIFO deep in a tree too large for this thread is refused by name; nothing joins the branch; a link there is recorded', async () => {
    for (const odd of ['link', 'pipe']) {
      const dir = tempDir('netsync-reader-odd-');
      for (let d = 0; d < 3; d++) {
        mkdirSync(join(dir, `d${d}`));
        for (let f = 0; f < 100; f++) writeFileSync(join(dir, `d${d}`, `f${f}`), `content ${d}/${f}`);
      }
      const at = join(dir, 'd2', `zz-${odd}`);
      if (odd === 'link') symlinkSync('f1', at);
      else execFileSync('mkfifo', [at]);
      const store = WriteStore.open(join(tempDir('netsync-reader-db-'), 'a.db'), { create: true });
      try {
        const refused: string[] = [];
        const commit = commitDirectory(store, dir, { branch: 'org.example.odd', signer: fixedSigner(), onRefused: (path) => refused.push(path) });
        if (odd === 'link') {
          // A link is recorded as a link, in the worker's walk as on this thread.
          expect((await commit).files).toBe(300);
          expect(store.branchId('org.example.odd')).not.toBeNull();
          continue;
        }
        await expect(commit).rejects.toThrow(/refused 1 entry of .*; nothing was committed/);
        expect(refused).toEqual(['d2/zz-pipe']);
        expect(store.branchId('org.example.odd')).toBeNull();
        expect(checkDatabase(store).problems).toEqual([]);
      } finally {
        store.close();
      }
    }
  });

  it('a tree of more files than the reader threshold checks out identical (contents, executable bits, empty files, a big file among them)', async () => {
    const dir = tempDir('netsync-reader-tree-');
    for (let d = 0; d < 3; d++) {
      mkdirSync(join(dir, `d${d}`, 'sub'), { recursive: true });
      for (let f = 0; f < 100; f++) {
        writeFileSync(join(dir, `d${d}`, f % 2 ? 'sub' : '', `f${f}`), pseudoRandomBytes(f * 13, `tree/${d}/${f}`), { mode: f % 7 ? 0o644 : 0o755 });
      }
    }
    writeFileSync(join(dir, 'd1', 'big.bin'), pseudoRandomBytes(INLINE_MAX + 4096, 'tree/big'));
    const store = WriteStore.open(join(tempDir('netsync-reader-db-'), 'a.db'), { create: true });
    try {
      const result = await commitDirectory(store, dir, { branch: 'org.example.tree', signer: fixedSigner() });
      expect(result.files).toBe(301);
      const out = join(tempDir('netsync-reader-out-'), 'tree');
      checkoutManifest(store, Buffer.from(result.manifest, 'hex'), out);
      expect(compareTrees(dir, out)).toEqual([]);
      expect(checkDatabase(store).problems).toEqual([]);
    } finally {
      store.close();
    }
  });
});
