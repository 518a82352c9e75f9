/**
 * Key fingerprints: SHA-256 of the raw 32-byte Ed25519 public key, shown as
 * 64 hex digits in 16 groups of 4 separated by spaces. Everything that reads
 * a fingerprint (commands, known_servers, the permissions file) accepts it
 * with or without separators (spaces, ':' or '-') and in either case.
 */
import { formatFingerprint } from '../../shared/fingerprint.js';
import { sha256 } from '../hash.js';

export { formatFingerprint, parseFingerprint } from '../../shared/fingerprint.js';

/** The canonical form: 64 lowercase hex digits, no separators. */
export function fingerprintHex(publicKey: Uint8Array): string {
  return sha256(publicKey).toString('hex');
}

export function fingerprint(publicKey: Uint8Array): string {
  return formatFingerprint(fingerprintHex(publicKey));
}
