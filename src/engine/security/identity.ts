/** Who a peer is in the secure channel, and which key it uses when none is chosen. */
import { join } from 'node:path';
import { fail } from '../errors.js';
import type { KeyPair } from '../keys/ed25519.js';
import { KeyStore } from '../keys/keystore.js';

/**
 * A peer's identity in the secure channel: its Ed25519 signing key
 * (docs/SECURITY.md). The private half is handed to node:tls and nothing else.
 */
export interface Identity {
  name: string;
  keyPair: KeyPair;
}

/** What the caller knows of the choice: the command line reads $NETSYNC_KEY and $NETSYNC_PASSPHRASE and passes them. */
export interface IdentityChoice {
  /** The key's name; without it, the only key in the folder. */
  key?: string;
  /** Unlocks a key that has one (the engine never prompts). */
  passphrase?: string;
}

export function keyStoreIn(configDir: string): KeyStore {
  return new KeyStore(join(configDir, 'keys'));
}

/** The identity `choice` names, or the only key in the config folder; null when it holds no key. */
export function defaultIdentity(configDir: string, choice: IdentityChoice = {}): Identity | null {
  const keys = keyStoreIn(configDir);
  let name = choice.key;
  if (!name) {
    const all = keys.list();
    if (all.length === 0) return null;
    if (all.length > 1) fail('usage', `several keys exist (${all.map((k) => k.name).join(', ')}); choose one (--key NAME or $NETSYNC_KEY)`);
    name = all[0]!.name;
  }
  return { name, keyPair: keys.unlock(name, choice.passphrase) };
}
