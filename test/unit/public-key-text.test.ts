/** The one-line public key format shared by `netsync key export/import` and the app's Identity screen. */
import { describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { generateKeyPair } from '../../src/engine/keys/ed25519.js';
import { PUBLIC_KEY_TAG, formatPublicKey, parsePublicKey } from '../../src/engine/keys/public-key-text.js';

describe('public key text', () => {
  it('round-trips a name and key, whatever the surrounding whitespace', () => {
    const { publicKey } = generateKeyPair();
    const line = formatPublicKey('bob@example.org', publicKey);
    expect(line).toBe(`${PUBLIC_KEY_TAG} bob@example.org ${publicKey.toString('base64')}`);
    expect(parsePublicKey(`\n  ${line}\r\n`)).toEqual({ name: 'bob@example.org', publicKey });
  });

  it.each([
    ['another tag', (l: string) => l.replace(PUBLIC_KEY_TAG, 'ssh-ed25519')],
    ['a bad name', (l: string) => l.replace('bob@example.org', 'bob smith')],
    ['a short key', (l: string) => l.slice(0, -8)],
    ['junk after it', (l: string) => `${l} extra`],
    ['nothing', () => ''],
  ])('refuses %s with one sentence naming the source', (_what, mangle) => {
    const line = mangle(formatPublicKey('bob@example.org', generateKeyPair().publicKey));
    try {
      parsePublicKey(line, 'bob.pub');
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(NetsyncError);
      expect((e as NetsyncError).code).toBe('usage');
      expect((e as NetsyncError).message).toMatch(/^bob\.pub is not a Netsync public key/);
    }
  });
});
