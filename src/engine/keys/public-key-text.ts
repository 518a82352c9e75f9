/**
 * The text form a public key travels in between people: one line,
 * `netsync-public-key-v1 NAME BASE64` (the raw 32-byte Ed25519 key). Written
 * by `netsync key export` and the app's Identity screen, read by `netsync key
 * import` and the app's import form.
 */
import { fail } from '../errors.js';
import { isValidKeyName } from '../items/format.js';

export const PUBLIC_KEY_TAG = 'netsync-public-key-v1';

export interface PublicKeyText {
  name: string;
  publicKey: Buffer;
}

export function formatPublicKey(name: string, publicKey: Buffer): string {
  return `${PUBLIC_KEY_TAG} ${name} ${publicKey.toString('base64')}`;
}

/** The name and key of one exported line; `source` names where it came from in the error. */
export function parsePublicKey(text: string, source = 'the text'): PublicKeyText {
  const words = text.trim().split(/\s+/);
  const [tag, name, b64] = words;
  const publicKey = Buffer.from(b64 ?? '', 'base64');
  if (words.length !== 3 || tag !== PUBLIC_KEY_TAG || !name || !isValidKeyName(name) || publicKey.length !== 32 || publicKey.toString('base64') !== b64) {
    fail('usage', `${source} is not a Netsync public key (expected "${PUBLIC_KEY_TAG} NAME BASE64")`);
  }
  return { name, publicKey };
}
