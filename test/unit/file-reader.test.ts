/**
 * The commit's file reader (a worker thread): contents come back in order and
 * byte for byte, a file longer than the limit reads as "grew", a file that
 * cannot be read gives its error code, and a commit that goes through the
 * reader checks out exactly the tree it read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { INLINE_MAX } from '../../src/engine/items/format.js';
import { checkDatabase } from '../../src/engine/store/maintenance.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { checkoutManifest } from '../../src/engine/workspace/checkout.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';
import { FileReader, contentOf } from '../../src/engine/workspace/file-reader.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { fixedSigner } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';
import { compareTrees } from '../helpers/tree.js';

const readers: FileReader[] = [];
afterAll(async () => {
  for (const r of readers) await r.close();
});

describe('FileReader', () => {
  it('returns each file byte for byte, in order, across batches', async () => {
    const dir = tempDir('netsync-reader-');
    const files = Array.from({ length: 50 }, (_, i) => ({ abs: join(dir, `f${i}`), content: pseudoRandomBytes(i * 97, `reader/${i}`) }));
    for (const f of files) writeFileSync(f.abs, f.content);
    const reader = new FileReader(INLINE_MAX);
    readers.push(reader);
    const [first, second] = await Promise.all([
      reader.read(files.slice(0, 30).map((f) => ({ abs: f.abs, size: f.content.length }))),
      reader.read(files.slice(30).map((f) => ({ abs: f.abs, size: f.content.length }))),
    ]);
    const all = [...first!, ...second!];
    expect(all).toHaveLength(50);
    all.forEach((r, i) => expect(contentOf(r, files[i]!.abs)!.equals(files[i]!.content)).toBe(true));
  });

  it('reports a file past the limit as grown, and a missing one by its error code', async () => {
    const dir = tempDir('netsync-reader-');
    writeFileSync(join(dir, 'small'), 'ok');
    writeFileSync(join(dir, 'big'), Buffer.alloc(101, 7));
    const reader = new FileReader(100);
    readers.push(reader);
    const [small, big, missing] = await reader.read([
      { abs: join(dir, 'small'), size: 2 },
      { abs: join(dir, 'big'), size: 10 }, // it "grew" since the walk said 10
      { abs: join(dir, 'missing'), size: 5 },
    ]);
    expect(contentOf(small!, 'small')!.toString()).toBe('ok');
    expect(big).toEqual({ ok: false, grew: true });
    expect(contentOf(big!, 'big')).toBeNull();
    expect(missing).toMatchObject({ ok: false, grew: false, code: 'ENOENT' });
    expect(() => contentOf(missing!, join(dir, 'missing'))).toThrow(NetsyncError);
    expect(() => contentOf(missing!, join(dir, 'missing'))).toThrow(/^cannot read .*missing: ENOENT$/);
  });
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
