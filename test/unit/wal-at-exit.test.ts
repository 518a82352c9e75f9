/**
 * A command that leaves its database open until it exits (closeAtExit)
 * first checkpoints and truncates a large write-ahead log (issue #21): after
 * a clone the log was left at 35 MB beside the database, and every later
 * command read it all again on open. A small log is left as it is, so a
 * small sync does not pay for a checkpoint.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeInlineFile } from '../../src/engine/items/format.js';
import { WAL_LEFT_MAX, WriteStore } from '../../src/engine/store/store.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';

const walBytes = (db: string) => statSync(`${db}-wal`).size;

/** A database holding `files` inline files of 1 KiB, its connection left open. */
function storeWith(files: number): { store: WriteStore; path: string } {
  const path = join(tempDir('netsync-wal-'), 'test.db');
  const store = WriteStore.open(path, { create: true });
  store.batch(() => {
    for (let i = 0; i < files; i++) store.put(encodeInlineFile(pseudoRandomBytes(1024, `wal/${i}`)));
  });
  return { store, path };
}

describe('the write-ahead log when a command leaves its database', () => {
  it('a log over the limit is copied into the database and truncated; nothing is lost', () => {
    const { store, path } = storeWith(6000);
    expect(walBytes(path)).toBeGreaterThan(WAL_LEFT_MAX);
    store.closeAtExit();
    expect(walBytes(path)).toBe(0);
    const again = WriteStore.open(path);
    expect(again.itemCount()).toBe(6000);
    again.close();
  });

  it('a small log is left for a later checkpoint (no checkpoint on a small sync)', () => {
    const { store, path } = storeWith(20);
    const before = walBytes(path);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(WAL_LEFT_MAX);
    store.closeAtExit();
    expect(walBytes(path)).toBe(before);
  });
});
