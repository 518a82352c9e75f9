/**
 * Files that must stay private (issue #18): a private key that its group or
 * others may read is refused with the chmod that fixes it, and a new
 * database, its write-ahead files and the folders made for it are the
 * owner's alone.
 */
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { encodeInlineFile } from '../../src/engine/items/format.js';
import { tempDir } from '../helpers/temp.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe.skipIf(process.platform === 'win32')('private files', () => {
  it('a private key of mode 0644 or 0660 is not used; the message names the chmod; 0600 and 0400 are', () => {
    const dir = join(tempDir(), 'keys');
    const keys = new KeyStore(dir);
    const pair = keys.generate('alice@example.org');
    const file = join(dir, 'alice@example.org.key');
    for (const loose of [0o644, 0o660, 0o604]) {
      chmodSync(file, loose);
      expect(() => keys.unlock('alice@example.org')).toThrow(`run "chmod 600 ${file}"`);
      expect(() => keys.unlock('alice@example.org')).toThrow(/mode 0[0-7]{3}/);
    }
    for (const tight of [0o600, 0o400]) {
      chmodSync(file, tight);
      expect(keys.unlock('alice@example.org').publicKey.equals(pair.publicKey)).toBe(true);
    }
    chmodSync(file, 0o644);
    expect(keys.list().map((k) => k.name)).toEqual(['alice@example.org']); // listing public halves still works
  });

  it('a new database is created 0600 in folders made 0700 (missing ones included), and so are its -wal and -shm', () => {
    const root = tempDir();
    const path = join(root, 'a', 'b', 'netsync.db');
    const store = WriteStore.open(path, { create: true });
    store.put(encodeInlineFile(Buffer.from('private')));
    expect(mode(path)).toBe(0o600);
    expect(mode(`${path}-wal`)).toBe(0o600);
    expect(mode(`${path}-shm`)).toBe(0o600);
    expect(mode(join(root, 'a'))).toBe(0o700);
    expect(mode(join(root, 'a', 'b'))).toBe(0o700);
    store.close();
  });
});
