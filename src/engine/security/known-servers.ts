/**
 * Pins of server keys, trust on first use: `<config>/known_servers`, one
 * line per server, `HOST:PORT FINGERPRINT` (64 hex digits), `#` comments.
 * The first session with a server pins the key it presents; a later session
 * that meets another key is refused (ServerKeyChangedError) until the user
 * accepts the new key deliberately with `netsync trust HOST:PORT FINGERPRINT`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NetsyncError, fail } from '../errors.js';
import { formatFingerprint, parseFingerprint } from './fingerprint.js';

export const KNOWN_SERVERS_FILE = 'known_servers';

/** `host:port` as pins are keyed: host lowercased, IPv6 in brackets. */
export function serverAddress(host: string, port: number): string {
  const h = host.toLowerCase();
  return h.includes(':') && !h.startsWith('[') ? `[${h}]:${port}` : `${h}:${port}`;
}

export class ServerKeyChangedError extends NetsyncError {
  constructor(
    readonly address: string,
    readonly pinned: string,
    readonly presented: string,
  ) {
    super(
      'key',
      `SERVER KEY CHANGED: ${address} presented the key with fingerprint ${formatFingerprint(presented)}, ` +
        `but the key pinned for it has fingerprint ${formatFingerprint(pinned)}. ` +
        `Someone may be intercepting the connection (a man-in-the-middle), so nothing was sent. ` +
        `If you know the server's key was replaced (ask its owner for the new fingerprint), accept it with: ` +
        `netsync trust ${address} ${presented}`,
    );
    this.name = 'ServerKeyChangedError';
  }
}

export class KnownServers {
  readonly path: string;

  constructor(configDir: string) {
    this.path = join(configDir, KNOWN_SERVERS_FILE);
  }

  private read(): Map<string, string> {
    const pins = new Map<string, string>();
    if (!existsSync(this.path)) return pins;
    const lines = readFileSync(this.path, 'utf8').split('\n');
    lines.forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const [address, ...rest] = line.split(/\s+/);
      const fp = parseFingerprint(rest.join(''));
      if (!address || !fp) fail('key', `${this.path}:${i + 1}: expected "HOST:PORT FINGERPRINT"`);
      pins.set(address.toLowerCase(), fp);
    });
    return pins;
  }

  /** The pinned fingerprint (canonical hex) of `address`, or null on first contact. */
  lookup(address: string): string | null {
    return this.read().get(address.toLowerCase()) ?? null;
  }

  list(): { address: string; fingerprint: string }[] {
    return [...this.read()].map(([address, fingerprint]) => ({ address, fingerprint }));
  }

  /** Pins (or re-pins) `address` to a fingerprint; returns the one it replaced, if any. */
  pin(address: string, fingerprint: string): string | null {
    const fp = parseFingerprint(fingerprint);
    if (!fp) fail('usage', `"${fingerprint}" is not a fingerprint (64 hex digits, spaces allowed)`);
    const pins = this.read();
    const before = pins.get(address.toLowerCase()) ?? null;
    pins.set(address.toLowerCase(), fp);
    this.write(pins);
    return before;
  }

  private write(pins: Map<string, string>): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const body = `# Netsync: server keys pinned on first use (docs/SECURITY.md). HOST:PORT FINGERPRINT\n${[...pins].map(([a, f]) => `${a} ${f}\n`).join('')}`;
    // Write then rename: a crash never leaves a half-written pin file.
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, body, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
