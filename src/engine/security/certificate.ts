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
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API before it loads
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { fail } from '../errors.js';
import { type KeyPair, privateKeyObject, publicKeyObject, rawPublicKey } from '../keys/ed25519.js';
import { fingerprintHex } from './fingerprint.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface TlsCredentials {
  /** PEM of the self-signed certificate. */
  cert: string;
  /** PEM (PKCS#8) of the private key: handed to node:tls only, never logged, stored or sent. */
  key: string;
}

const cache = new Map<string, Promise<string>>();

/** The certificate of a key pair (cached per public key for the life of the process). */
export async function credentialsFor(pair: KeyPair): Promise<TlsCredentials> {
  const id = pair.publicKey.toString('hex');
  let cert = cache.get(id);
  if (!cert) {
    cert = makeCertificate(pair);
    cache.set(id, cert);
    cert.catch(() => cache.delete(id));
  }
  const key = privateKeyObject(pair.seed).export({ format: 'pem', type: 'pkcs8' }) as string;
  return { cert: await cert, key };
}

async function makeCertificate(pair: KeyPair): Promise<string> {
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey('pkcs8', privateKeyObject(pair.seed).export({ format: 'der', type: 'pkcs8' }), { name: 'Ed25519' }, false, ['sign']);
  const publicKey = await subtle.importKey('spki', publicKeyObject(pair.publicKey).export({ format: 'der', type: 'spki' }), { name: 'Ed25519' }, true, ['verify']);
  // A positive 16-byte serial derived from the key: the same key always makes the same certificate.
  const serial = Buffer.from(fingerprintHex(pair.publicKey).slice(0, 32), 'hex');
  serial[0]! &= 0x7f;
  serial[0]! |= 0x01;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: 'CN=netsync',
    notBefore: new Date('2000-01-01T00:00:00Z'),
    notAfter: new Date('9999-12-31T23:59:59Z'), // RFC 5280 §4.1.2.5: no well-defined expiration date
    signingAlgorithm: { name: 'Ed25519' },
    keys: { privateKey, publicKey: publicKey as CryptoKey },
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return cert.toString('pem');
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
