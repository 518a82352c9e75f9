/** Which key a peer uses when none is given: $NETSYNC_KEY, or the only key in the config folder. */
import { join } from 'node:path';
import { fail } from '../errors.js';
import { KeyStore } from '../keys/keystore.js';
import type { Identity } from '../protocol/api.js';

export function keyStoreIn(configDir: string): KeyStore {
  return new KeyStore(join(configDir, 'keys'));
}

/**
 * The default identity, or null when the config folder holds no key. A key
 * with a passphrase is unlocked with $NETSYNC_PASSPHRASE (the engine never
 * prompts; the command line does, then passes `identity`).
 */
export function defaultIdentity(configDir: string): Identity | null {
  const keys = keyStoreIn(configDir);
  let name = process.env.NETSYNC_KEY;
  if (!name) {
    const all = keys.list();
    if (all.length === 0) return null;
    if (all.length > 1) fail('usage', `several keys exist (${all.map((k) => k.name).join(', ')}); choose one (--key NAME or $NETSYNC_KEY)`);
    name = all[0]!.name;
  }
  return { name, keyPair: keys.unlock(name, process.env.NETSYNC_PASSPHRASE) };
}
