/** Ed25519 through node:crypto only: raw 32-byte public keys on the wire and in items. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

// SubjectPublicKeyInfo DER header for an Ed25519 key (RFC 8410): the raw key follows.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
// PKCS#8 DER header for an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface KeyPair {
  publicKey: Buffer;
  /** The 32-byte private seed. Never stored in the database or sent. */
  seed: Buffer;
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: rawPublicKey(publicKey), seed: rawSeed(privateKey) };
}

export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function rawSeed(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
}

export function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromSeed(seed: Uint8Array): Buffer {
  return rawPublicKey(createPublicKey(privateKeyObject(seed)));
}

export function signBytes(seed: Uint8Array | KeyObject, message: Uint8Array): Buffer {
  const key = seed instanceof Uint8Array ? privateKeyObject(seed) : seed;
  return sign(null, message, key);
}

const verifyCache = new Map<string, KeyObject>();

/** Verifies; never throws on a malformed key or signature, just says false. */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const hex = Buffer.from(publicKey).toString('hex');
    let key = verifyCache.get(hex);
    if (!key) {
      key = publicKeyObject(publicKey);
      if (verifyCache.size > 1024) verifyCache.clear();
      verifyCache.set(hex, key);
    }
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
