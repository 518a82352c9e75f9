/**
 * Makes the self-signed X.509 certificate of an identity key with
 * @peculiar/x509 over Node's WebCrypto (certificate.ts loads this module
 * only when no cached certificate exists). See certificate.ts for what the
 * certificate holds and why.
 */
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API before it loads
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { type KeyPair, privateKeyObject, publicKeyObject } from '../keys/ed25519.js';
import { fingerprintHex } from './fingerprint.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export async function makeCertificate(pair: KeyPair): Promise<string> {
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey('pkcs8', privateKeyObject(pair.seed).export({ format: 'der', type: 'pkcs8' }), { name: 'Ed25519' }, false, [
    'sign',
  ]);
  const publicKey = await subtle.importKey('spki', publicKeyObject(pair.publicKey).export({ format: 'der', type: 'spki' }), { name: 'Ed25519' }, true, [
    'verify',
  ]);
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
