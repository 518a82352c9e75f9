/**
 * The secure channel: every session runs inside TLS 1.3 (node:tls, OpenSSL),
 * both peers present their self-signed identity certificate (certificate.ts),
 * or the client presents none and is anonymous. Nothing is checked against a
 * CA: the server checks the client's key against its permissions file, the
 * client checks the server's key against its pin (known-servers.ts), both in
 * code, right after the handshake and before the first protocol byte.
 */
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import type { TlsCredentials } from './certificate.js';

/** ALPN name of protocol version 1: a Netsync peer never talks to something else over TLS by mistake. */
export const ALPN = 'netsync/1';

const COMMON: Pick<TlsOptions, 'minVersion' | 'maxVersion' | 'ALPNProtocols' | 'rejectUnauthorized' | 'ca'> = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  ALPNProtocols: [ALPN],
  // Self-signed by design: the fingerprint checks in code replace CA validation.
  rejectUnauthorized: false,
  // No CA at all: without this Node parses its bundled root certificates for
  // every new TLS context, on every command's start-up (docs/PERFORMANCE.md,
  // "No CA store in TLS contexts").
  ca: [],
};

export function serverTlsOptions(credentials: TlsCredentials, handshakeMs: number): TlsOptions {
  return {
    ...COMMON,
    cert: credentials.cert,
    key: credentials.key,
    // Ask every client for its certificate; one that sends none is anonymous.
    requestCert: true,
    handshakeTimeout: handshakeMs,
  };
}

export function clientTlsOptions(credentials: TlsCredentials | null): ConnectionOptions {
  return {
    ...COMMON,
    ...(credentials ? { cert: credentials.cert, key: credentials.key } : {}),
    // The server is identified by its key, not by a host name: no SNI to leak the name either.
    servername: '',
    checkServerIdentity: () => undefined,
  };
}
