/**
 * Helpers of the security suite: servers with a chosen key and permissions
 * file, clients with a chosen key (or none) that record the decrypted
 * stream both ways, a TCP relay that stands at a "pinned address" and
 * records the bytes on the wire, and the forms a private key could leak in.
 */
import { writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer, connect } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { privateKeyObject } from '../../src/engine/keys/ed25519.js';
import type { ClientOptions, Identity, RunningServer, ServerEvent } from '../../src/engine/protocol/api.js';
import { runClientSession } from '../../src/engine/protocol/client.js';
import { startServer } from '../../src/engine/protocol/server.js';
import { fingerprintHex } from '../../src/engine/security/fingerprint.js';
import type { SessionSummary } from '../../src/shared/sync.js';
import type { Signer } from '../../src/engine/workspace/commit.js';
import { fixedSigner } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';

export const signer = (name: string): Signer => fixedSigner(name);
export const identity = (s: Signer): Identity => ({ name: s.name, keyPair: s.pair });
/** The fingerprint as a permissions file names a key. */
export const fp = (s: Signer): string => fingerprintHex(s.pair.publicKey);

export interface SecureServer {
  server: RunningServer;
  port: number;
  events: ServerEvent[];
  permissionsFile: string;
  setPermissions(text: string): void;
}

export async function secureServer(db: string, owner: Signer, permissions: string | null, port = 0): Promise<SecureServer> {
  const configDir = tempDir('netsync-sec-srv-');
  const permissionsFile = join(configDir, 'permissions');
  if (permissions !== null) writeFileSync(permissionsFile, permissions);
  const events: ServerEvent[] = [];
  const server = await startServer({
    db,
    host: '127.0.0.1',
    port,
    patterns: [],
    identity: identity(owner),
    permissionsFile,
    configDir,
    onEvent: (e) => events.push(e),
  });
  return { server, port: server.port, events, permissionsFile, setPermissions: (text) => writeFileSync(permissionsFile, text) };
}

export interface Captured {
  /** Decrypted bytes the client received (the server's frames). */
  received: Buffer[];
  /** Decrypted bytes the client wrote (its frames). */
  sent: Buffer[];
}

/**
 * A session as `who` (or anonymously), recording the decrypted stream on
 * the client side: a second 'data' listener on the TLS socket sees every
 * chunk the protocol layer sees, and `write` is wrapped for the other way.
 */
export async function secureClient(
  opts: Partial<ClientOptions> & { db: string; port: number; patterns: string[] },
  who: Signer | 'anonymous',
  capture?: Captured,
): Promise<SessionSummary> {
  return runClientSession(
    {
      host: '127.0.0.1',
      direction: 'sync',
      dryRun: false,
      listLimit: 100_000,
      identity: who === 'anonymous' ? 'anonymous' : identity(who),
      configDir: tempDir('netsync-sec-cli-'),
      ...opts,
    },
    undefined,
    capture ? { onSecureSocket: (socket) => record(socket, capture) } : {},
  );
}

function record(socket: TLSSocket, capture: Captured): void {
  socket.on('data', (b: Buffer) => capture.received.push(Buffer.from(b)));
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk)) capture.sent.push(Buffer.from(chunk));
    else if (typeof chunk === 'string') capture.sent.push(Buffer.from(chunk));
    return write(chunk, ...rest);
  }) as TLSSocket['write'];
}

export const newCapture = (): Captured => ({ received: [], sent: [] });

/**
 * A TCP relay on 127.0.0.1 (the address a client pins) that forwards to
 * whichever server `target` names at connect time, and records every byte
 * that crosses it: what a network attacker sees.
 */
export class Relay {
  target = 0;
  readonly wire: Buffer[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor() {
    this.server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: this.target });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (b: Buffer) => this.wire.push(Buffer.from(b)));
      upstream.on('data', (b: Buffer) => this.wire.push(Buffer.from(b)));
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Every form in which a private key could leak: raw seed, hex, base64, PKCS#8 DER and its PEM body. */
export function secretForms(s: Signer): { binary: Buffer[]; text: string[] } {
  const der = privateKeyObject(s.pair.seed).export({ format: 'der', type: 'pkcs8' });
  const pem = privateKeyObject(s.pair.seed).export({ format: 'pem', type: 'pkcs8' }) as string;
  const pemBody = pem
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  const seed = Buffer.from(s.pair.seed);
  return {
    binary: [seed, der, Buffer.from(seed.toString('hex')), Buffer.from(seed.toString('base64')), Buffer.from(pemBody)],
    text: [seed.toString('hex'), seed.toString('hex').toUpperCase(), seed.toString('base64'), seed.toString('base64url'), pemBody],
  };
}

/** True when `needle` occurs anywhere in the chunks (searched on their concatenation, so a split across chunks is found). */
export function contains(chunks: Buffer[] | Buffer, needle: Buffer): boolean {
  const all = Buffer.isBuffer(chunks) ? chunks : Buffer.concat(chunks);
  return all.indexOf(needle) !== -1;
}
