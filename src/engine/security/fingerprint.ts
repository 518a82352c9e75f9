/**
 * Key fingerprints: SHA-256 of the raw 32-byte Ed25519 public key, shown as
 * 64 hex digits in 16 groups of 4 separated by spaces. Everything that reads
 * a fingerprint (commands, known_servers, the permissions file) accepts it
 * with or without separators (spaces, ':' or '-') and in either case.
 */
import { sha256 } from '../hash.js';

/** The canonical form: 64 lowercase hex digits, no separators. */
export function fingerprintHex(publicKey: Uint8Array): string {
  return sha256(publicKey).toString('hex');
}

/** The form people read: `3f2a 9b01 …` (16 groups of 4). */
export function formatFingerprint(hex: string): string {
  return hex.match(/.{1,4}/g)!.join(' ');
}

export function fingerprint(publicKey: Uint8Array): string {
  return formatFingerprint(fingerprintHex(publicKey));
}

/** The canonical form of a fingerprint typed or pasted by someone, or null when it is not one. */
export function parseFingerprint(text: string): string | null {
  const compact = text
    .trim()
    .replace(/[\s:-]/g, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(compact) ? compact : null;
}
