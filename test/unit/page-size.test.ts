/**
 * A new database gets pages of 8 KiB (small file items fill them better
 * than SQLite's 4 KiB: docs/PERFORMANCE.md, "Page size"); a database made
 * with another page size keeps it and works as before; either way the WAL
 * is checkpointed every 32 MB, whatever a page holds.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeInlineFile } from '../../src/engine/items/format.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';

const pragma = (store: WriteStore, name: string) => store.db.pragma(name, { simple: true }) as number;

describe('the page size of a database', () => {
  it('a new database has 8 KiB pages and checkpoints every 32 MB of log', () => {
    const store = WriteStore.open(join(tempDir('netsync-page-'), 'new.db'), { create: true });
    expect(pragma(store, 'page_size')).toBe(8192);
    expect(pragma(store, 'wal_autocheckpoint') * 8192).toBe(32 << 20);
    store.close();
  });

  it('a database of 4 KiB pages keeps them, and stores and reads as before', () => {
    const path = join(tempDir('netsync-page-'), 'old.db');
    WriteStore.open(path, { create: true }).close();
    const raw = new Database(path);
    raw.pragma('journal_mode = DELETE');
    raw.pragma('page_size = 4096');
    raw.exec('VACUUM');
    raw.close();
    const store = WriteStore.open(path);
    expect(pragma(store, 'page_size')).toBe(4096);
    expect(pragma(store, 'wal_autocheckpoint') * 4096).toBe(32 << 20);
    const id = store.batch(() => store.put(encodeInlineFile(pseudoRandomBytes(3000, 'page/old'))).id);
    store.close();
    const again = WriteStore.open(path);
    expect(pragma(again, 'page_size')).toBe(4096);
    expect(again.get(id)?.data.length).toBeGreaterThan(3000);
    again.close();
  });
});
