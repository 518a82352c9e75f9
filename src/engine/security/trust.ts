/**
 * Which signers the user trusts for content (docs/SECURITY.md §Trust in
 * content): `<config>/trusted_keys`, one line per key, `KEY_ID NAME`, where
 * KEY_ID is the id of the key item (64 hex digits: SHA-256 of its name and
 * public key, what certs name). The user's own keys (those with a private
 * half in the config folder) are always trusted. Every cert is
 * signature-checked whatever this list says; the list only decides which
 * valid signatures `log` shows as trusted.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { encodeKey, itemId } from '../items/format.js';
import { KeyStore } from '../keys/keystore.js';

export const TRUSTED_KEYS_FILE = 'trusted_keys';

export class TrustList {
  readonly path: string;

  constructor(private readonly configDir: string) {
    this.path = join(configDir, TRUSTED_KEYS_FILE);
  }

  /** Key id (hex) → name, for keys trusted explicitly. */
  explicit(): Map<string, string> {
    const out = new Map<string, string>();
    if (!existsSync(this.path)) return out;
    readFileSync(this.path, 'utf8')
      .split('\n')
      .forEach((raw, i) => {
        const line = raw.replace(/#.*/, '').trim();
        if (!line) return;
        const [id, name = ''] = line.split(/\s+/);
        if (!id || !/^[0-9a-f]{64}$/i.test(id)) fail('key', `${this.path}:${i + 1}: expected "KEY_ID NAME"`);
        out.set(id.toLowerCase(), name);
      });
    return out;
  }

  /** Ids (hex) of the user's own keys: trusted without being listed. */
  own(): Set<string> {
    const keys = new KeyStore(join(this.configDir, 'keys'));
    return new Set(keys.list().map((k) => itemId(encodeKey(k.name, k.publicKey)).toString('hex')));
  }

  /** A predicate over key ids, reading the files once. */
  checker(): (keyId: Uint8Array) => boolean {
    const trusted = new Set([...this.explicit().keys(), ...this.own()]);
    return (keyId) => trusted.has(Buffer.from(keyId).toString('hex'));
  }

  trust(keyId: Buffer, name: string): boolean {
    const all = this.explicit();
    const hex = keyId.toString('hex');
    if (all.has(hex)) return false;
    all.set(hex, name);
    this.write(all);
    return true;
  }

  untrust(keyId: Buffer): boolean {
    const all = this.explicit();
    if (!all.delete(keyId.toString('hex'))) return false;
    this.write(all);
    return true;
  }

  private write(all: Map<string, string>): void {
    mkdirSync(this.configDir, { recursive: true, mode: 0o700 });
    const body = `# Netsync: keys whose signatures you trust (docs/SECURITY.md). KEY_ID NAME\n${[...all].map(([id, n]) => `${id} ${n}\n`).join('')}`;
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, body, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
