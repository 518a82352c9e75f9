/**
 * The private key store: files only the owner can read, passphrase sealing
 * that keeps the seed out of the file, and one-line 'key' errors.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { publicKeyFromSeed, signBytes, verifySignature } from '../../src/engine/keys/ed25519.js';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import { tempDir } from '../helpers/temp.js';

function keyError(fn: () => unknown): NetsyncError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NetsyncError);
    expect((e as NetsyncError).code).toBe('key');
    expect((e as NetsyncError).message).not.toContain('\n');
    return e as NetsyncError;
  }
  throw new Error('expected a key error');
}

describe('keystore', () => {
  it('writes NAME.key with mode 0600 in a 0700 folder; the unprotected key unlocks', () => {
    const dir = join(tempDir(), 'keys');
    const keys = new KeyStore(dir);
    const pair = keys.generate('alice@example.org');
    const file = join(dir, 'alice@example.org.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(publicKeyFromSeed(pair.seed)).toEqual(pair.publicKey);
    expect(keys.unlock('alice@example.org').seed).toEqual(pair.seed);
    expect(keys.list()).toEqual([{ name: 'alice@example.org', publicKey: pair.publicKey, encrypted: false }]);
    expect(keys.isEncrypted('alice@example.org')).toBe(false);
  });

  it('a passphrase-protected key unlocks with the right passphrase and not with a wrong or missing one', () => {
    const keys = new KeyStore(join(tempDir(), 'keys'));
    const pair = keys.generate('bob@example.org', 'correct horse battery staple');
    expect(statSync(join(keys.dir, 'bob@example.org.key')).mode & 0o777).toBe(0o600);
    expect(keys.isEncrypted('bob@example.org')).toBe(true);
    const unlocked = keys.unlock('bob@example.org', 'correct horse battery staple');
    expect(unlocked.seed).toEqual(pair.seed);
    expect(verifySignature(pair.publicKey, Buffer.from('m'), signBytes(unlocked.seed, Buffer.from('m')))).toBe(true);

    expect(keyError(() => keys.unlock('bob@example.org', 'wrong')).message).toMatch(/wrong passphrase for key "bob@example.org"/);
    expect(keyError(() => keys.unlock('bob@example.org')).message).toMatch(/protected by a passphrase/);
    expect(keyError(() => keys.unlock('bob@example.org', '')).message).toMatch(/passphrase/);
  });

  it('the passphrase is compared after Unicode NFC normalisation', () => {
    const keys = new KeyStore(join(tempDir(), 'keys'));
    const pair = keys.generate('carol', 'caf\u00e9'); // precomposed é
    expect(keys.unlock('carol', 'cafe\u0301').seed).toEqual(pair.seed); // e + combining acute
  });

  it('the seed does not appear in a protected key file, in hex or base64', () => {
    const keys = new KeyStore(join(tempDir(), 'keys'));
    const pair = keys.generate('dave', 'secret');
    const text = readFileSync(join(keys.dir, 'dave.key'), 'utf8');
    expect(text.toLowerCase()).not.toContain(pair.seed.toString('hex'));
    expect(text).not.toContain(pair.seed.toString('base64').replace(/=+$/, ''));
    expect(text).toContain(pair.publicKey.toString('hex'));
    // Unprotected keys do keep the seed (in hex): the file mode is their protection.
    const plain = keys.generate('erin');
    expect(readFileSync(join(keys.dir, 'erin.key'), 'utf8')).toContain(plain.seed.toString('hex'));
  });

  it('a sealed key cannot be moved to another name (the name is authenticated)', () => {
    const keys = new KeyStore(join(tempDir(), 'keys'));
    keys.generate('frank', 'pw');
    const body = JSON.parse(readFileSync(join(keys.dir, 'frank.key'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(keys.dir, 'grace.key'), JSON.stringify({ ...body, name: 'grace' }), { mode: 0o600 });
    keyError(() => keys.unlock('grace', 'pw'));
  });

  it('refuses to overwrite a key, and reports missing or damaged key files as one-line key errors', () => {
    const keys = new KeyStore(join(tempDir(), 'keys'));
    keys.generate('heidi');
    expect(keyError(() => keys.generate('heidi')).message).toMatch(/already exists/);
    expect(keyError(() => keys.unlock('nobody')).message).toMatch(/no private key named "nobody"/);
    writeFileSync(join(keys.dir, 'ivan.key'), '{ not json');
    keyError(() => keys.unlock('ivan'));
    const body = JSON.parse(readFileSync(join(keys.dir, 'heidi.key'), 'utf8')) as Record<string, string>;
    writeFileSync(join(keys.dir, 'judy.key'), JSON.stringify({ ...body, name: 'judy', seed: '00'.repeat(32) }), { mode: 0o600 });
    expect(keyError(() => keys.unlock('judy')).message).toMatch(/damaged/);
  });

  it('refuses invalid key names before touching the file system', () => {
    const keys = new KeyStore(join(tempDir(), 'keys'));
    for (const name of ['../evil', 'a/b', '', '.hidden']) expect(() => keys.generate(name)).toThrow(/not a valid key name/);
  });
});
