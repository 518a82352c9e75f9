/**
 * Private keys, one JSON file per key in <config>/keys, mode 0600. A key may
 * be protected by a passphrase: scrypt derives a 256-bit key that seals the
 * Ed25519 seed with AES-256-GCM (both from node:crypto). The file never
 * holds the seed in clear when a passphrase was given, and nothing here is
 * ever written to the database or the wire.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { isValidKeyName } from '../items/format.js';
import { type KeyPair, generateKeyPair, publicKeyFromSeed } from './ed25519.js';

const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 };

interface KeyFile {
  format: 'netsync-private-key-v1';
  name: string;
  publicKey: string;
  seed?: string;
  sealed?: { salt: string; nonce: string; ciphertext: string; tag: string; N: number; r: number; p: number };
}

export interface StoredKeyInfo {
  name: string;
  publicKey: Buffer;
  encrypted: boolean;
}

export class KeyStore {
  constructor(readonly dir: string) {}

  private file(name: string): string {
    if (!isValidKeyName(name)) fail('usage', `"${name}" is not a valid key name (letters, digits, @ . _ + -)`);
    return join(this.dir, `${name}.key`);
  }

  has(name: string): boolean {
    return existsSync(this.file(name));
  }

  generate(name: string, passphrase?: string): KeyPair {
    const path = this.file(name);
    if (existsSync(path)) fail('key', `a private key named "${name}" already exists in ${this.dir}`);
    const pair = generateKeyPair();
    const body: KeyFile = { format: 'netsync-private-key-v1', name, publicKey: pair.publicKey.toString('hex') };
    if (passphrase) body.sealed = seal(pair.seed, passphrase, aad(name, pair.publicKey));
    else body.seed = pair.seed.toString('hex');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return pair;
  }

  list(): StoredKeyInfo[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.key'))
      .map((f) => this.read(f.slice(0, -4)))
      .map((k) => ({ name: k.name, publicKey: Buffer.from(k.publicKey, 'hex'), encrypted: !!k.sealed }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  isEncrypted(name: string): boolean {
    return !!this.read(name).sealed;
  }

  publicKey(name: string): Buffer {
    return Buffer.from(this.read(name).publicKey, 'hex');
  }

  /** The private seed; throws a one-line error on a missing or wrong passphrase, or a key file others may read. */
  unlock(name: string, passphrase?: string): KeyPair {
    const k = this.read(name);
    this.checkPrivate(this.file(name));
    const publicKey = Buffer.from(k.publicKey, 'hex');
    let seed: Buffer;
    if (k.sealed) {
      if (!passphrase) fail('key', `key "${name}" is protected by a passphrase; give it (NETSYNC_PASSPHRASE or a prompt)`);
      seed = unseal(k.sealed, passphrase, aad(name, publicKey), name);
    } else {
      seed = Buffer.from(k.seed ?? '', 'hex');
    }
    if (seed.length !== 32 || !publicKeyFromSeed(seed).equals(publicKey)) fail('key', `key file for "${name}" is damaged`);
    return { publicKey, seed };
  }

  /**
   * Like OpenSSH, a private key that its group or others may read or write is
   * not used: someone else may have read it, or may replace it. (Windows has
   * no such mode bits.)
   */
  private checkPrivate(path: string): void {
    if (process.platform === 'win32') return;
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) === 0) return;
    fail(
      'key',
      `private key file ${path} has mode ${mode.toString(8).padStart(4, '0')}: its group or others may use it, so it is not used; run "chmod 600 ${path}"`,
    );
  }

  private read(name: string): KeyFile {
    const path = this.file(name);
    if (!existsSync(path)) fail('key', `no private key named "${name}" in ${this.dir} (create one with "netsync key generate ${name}")`);
    try {
      const k = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
      if (k.format !== 'netsync-private-key-v1' || typeof k.publicKey !== 'string') throw new Error('unknown format');
      return k;
    } catch (e) {
      return fail('key', `key file ${path} is unreadable: ${(e as Error).message}`);
    }
  }
}

function aad(name: string, publicKey: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`netsync/key/v1\0${name}\0`), publicKey]);
}

function seal(seed: Buffer, passphrase: string, associated: Buffer): NonNullable<KeyFile['sealed']> {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const key = scryptSync(passphrase.normalize('NFC'), salt, 32, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associated);
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  const hex = (b: Buffer) => b.toString('hex');
  return { salt: hex(salt), nonce: hex(nonce), ciphertext: hex(ciphertext), tag: hex(cipher.getAuthTag()), N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p };
}

function unseal(s: NonNullable<KeyFile['sealed']>, passphrase: string, associated: Buffer, name: string): Buffer {
  const key = scryptSync(passphrase.normalize('NFC'), Buffer.from(s.salt, 'hex'), 32, { N: s.N, r: s.r, p: s.p, maxmem: SCRYPT.maxmem * 4 });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(s.nonce, 'hex'));
  decipher.setAAD(associated);
  decipher.setAuthTag(Buffer.from(s.tag, 'hex'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(s.ciphertext, 'hex')), decipher.final()]);
  } catch {
    return fail('key', `wrong passphrase for key "${name}"`);
  }
}
