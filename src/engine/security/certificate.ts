/**
 * The X.509 certificate a peer presents in the TLS handshake: self-signed by
 * the peer's Ed25519 identity key (the same key that signs its certs), made
 * with @peculiar/x509 over Node's WebCrypto. Nobody checks it against a CA:
 * a peer is known by the fingerprint of the public key inside it
 * (docs/SECURITY.md §Identities), and TLS 1.3's CertificateVerify proves the
 * peer holds the matching private key.
 *
 * The certificate is deterministic (Ed25519 signatures are, and every field
 * is derived from the key), carries no name (the subject is always
 * CN=netsync, so the handshake never discloses the key's name), and does not
 * expire: revocation is by the pin and the permissions file, not by date.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fail } from '../errors.js';
import { type KeyPair, privateKeyObject, publicKeyObject, rawPublicKey } from '../keys/ed25519.js';
import { fingerprintHex } from './fingerprint.js';

export interface TlsCredentials {
  /** PEM of the self-signed certificate. */
  cert: string;
  /** PEM (PKCS#8) of the private key: handed to node:tls only, never logged, stored or sent. */
  key: string;
}

const cache = new Map<string, Promise<string>>();

/**
 * The certificate of a key pair, cached per public key for the life of the
 * process and, when `cacheDir` is given, on disk (it is public and
 * deterministic). The X.509 library is loaded only to make a certificate not
 * cached yet: loading it is a large part of a command's start-up, which is
 * part of every sync's latency (docs/PERFORMANCE.md, "TLS certificate cache").
 */
export async function credentialsFor(pair: KeyPair, cacheDir?: string): Promise<TlsCredentials> {
  const id = pair.publicKey.toString('hex');
  let cert = cache.get(id);
  if (!cert) {
    cert = certificateOf(pair, cacheDir);
    cache.set(id, cert);
    cert.catch(() => cache.delete(id));
  }
  const key = privateKeyObject(pair.seed).export({ format: 'pem', type: 'pkcs8' }) as string;
  return { cert: await cert, key };
}

async function certificateOf(pair: KeyPair, cacheDir?: string): Promise<string> {
  const file = cacheDir ? join(cacheDir, 'certificates', `${fingerprintHex(pair.publicKey).slice(0, 32)}.pem`) : null;
  if (file) {
    const cached = readCached(file, pair.publicKey);
    if (cached) return cached;
  }
  const { makeCertificate } = await import('./certificate-maker.js');
  const pem = await makeCertificate(pair);
  if (file) {
    try {
      mkdirSync(join(cacheDir!, 'certificates'), { recursive: true });
      writeFileSync(`${file}.tmp`, pem);
      renameSync(`${file}.tmp`, file);
    } catch {
      // a cache that cannot be written only makes the next start make the certificate again
    }
  }
  return pem;
}

/** A cached certificate, used only if it holds this very key and is signed by it. */
function readCached(file: string, publicKey: Buffer): string | null {
  try {
    const pem = readFileSync(file, 'utf8');
    const cert = new X509Certificate(pem);
    if (!identityKeyOf(cert).equals(publicKey) || !cert.verify(publicKeyObject(publicKey))) return null;
    return pem;
  } catch {
    return null;
  }
}

/**
 * The raw Ed25519 public key the peer proved it holds in the handshake, or
 * null when it presented no certificate (an anonymous client). Throws a
 * one-line NetsyncError('key') on anything else: a chain instead of one
 * certificate, a key that is not Ed25519, a certificate not signed by its own key.
 */
export function peerPublicKey(socket: TLSSocket): Buffer | null {
  const peer = socket.getPeerX509Certificate();
  if (!peer) return null;
  return identityKeyOf(peer);
}

export function identityKeyOf(cert: X509Certificate): Buffer {
  if (cert.issuerCertificate && cert.issuerCertificate !== cert && cert.issuerCertificate.fingerprint256 !== cert.fingerprint256) {
    fail('key', 'the peer presented a certificate chain; Netsync peers present one self-signed certificate');
  }
  if (cert.publicKey.asymmetricKeyType !== 'ed25519') {
    fail('key', `the peer's certificate holds a ${cert.publicKey.asymmetricKeyType ?? 'unknown'} key; Netsync identities are Ed25519 keys`);
  }
  // The TLS handshake already proved the peer holds this key; checking the self-signature
  // only refuses certificates that no Netsync peer makes.
  if (!cert.verify(cert.publicKey)) fail('key', "the peer's certificate is not signed by its own key");
  return rawPublicKey(cert.publicKey);
}
