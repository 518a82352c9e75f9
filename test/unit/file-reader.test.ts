/**
 * The commit's file reader, in its worker and on the calling thread: contents
 * come back in order and byte for byte, up to a byte budget; a large file, a
 * missing one, a folder and a symbolic link are told apart; and a commit that
 * goes through the worker checks out exactly the tree it read.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INLINE_MAX } from '../../src/engine/items/format.js';
import { checkDatabase } from '../../src/engine/store/maintenance.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { checkoutManifest } from '../../src/engine/workspace/checkout.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';
import { type BatchRead, FileReader, Found, readHere } from '../../src/engine/workspace/file-reader.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { fixedSigner } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { compareTrees } from '../helpers/tree.js';

const readers: FileReader[] = [];
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

describe('reading a batch (in a worker and on this thread alike)', () => {
  const dir = tempDir('netsync-reader-');
  const files = Array.from({ length: 50 }, (_, i) => ({ abs: join(dir, `f${i}`), content: pseudoRandomBytes(i * 97, `reader/${i}`) }));
  for (const f of files) writeFileSync(f.abs, f.content);
  writeFileSync(join(dir, 'large'), Buffer.alloc(101, 7));
  writeFileSync(join(dir, 'exec'), 'x', { mode: 0o755 });
  mkdirSync(join(dir, 'folder'));
  symlinkSync(join(dir, 'exec'), join(dir, 'link'));

  const ways: [string, (paths: string[], max: number, budget: number) => Promise<BatchRead>][] = [
    ['worker', async (paths, max, budget) => {
      const r = await FileReader.start(max, budget);
      readers.push(r);
      return r.read(paths);
    }],
    ['this thread', readHere],
  ];
  for (const [way, read] of ways) {
    it(`${way}: every file byte for byte and in order; stops at the byte budget`, async () => {
      const all = await read(files.map((f) => f.abs), INLINE_MAX, 1 << 20);
      expect(all.found).toEqual(files.map(() => Found.Small));
      contents(all).forEach((c, i) => expect(c.equals(files[i]!.content)).toBe(true));
      // A budget of 1,000 bytes stops after the files that reach it (at least one file is read).
      const some = await read(files.map((f) => f.abs), INLINE_MAX, 1000);
      const sizes = files.map((f) => f.content.length);
      let expected = 0;
      for (let total = 0; expected < sizes.length && (total < 1000 || expected === 0); expected++) total += sizes[expected]!;
      expect(some.found).toHaveLength(expected);
    });

    it(`${way}: a large file, a missing one, a folder and a symbolic link are told apart; modes come back`, async () => {
      const r = await read(['large', 'missing', 'folder', 'link', 'exec'].map((n) => join(dir, n)), 100, 1 << 20);
      expect(r.found).toEqual([Found.Large, Found.Unreadable, Found.NotAFile, Found.NotAFile, Found.Small]);
      expect(r.sizes[0]).toBe(101);
      expect(r.codes[1]).toBe('ENOENT');
      expect(r.codes[2]).toBe('a folder');
      expect(r.codes[3]).toBe('a symbolic link');
      expect(r.modes[4]! & 0o111).not.toBe(0);
      expect(contents(r).map(String)).toEqual(['x']);
    });
  }
});

describe('commit through the reader', () => {
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
