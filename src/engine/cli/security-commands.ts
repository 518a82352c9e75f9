/** Keys and trust (docs/SECURITY.md): key trust, key untrust, key fingerprint. */
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { encodeKey, itemId } from '../items/format.js';
import { configDir } from '../paths.js';
import { fingerprint } from '../security/fingerprint.js';
import { TrustList } from '../security/trust.js';
import { ReadStore } from '../store/store.js';
import { type Command, keyStore } from './local-commands.js';

interface KnownKey {
  id: Buffer;
  name: string;
  publicKey: Buffer;
}

/** Every key this user knows: the private ones in the config folder and the public ones in the database. */
function knownKeys(db: string): KnownKey[] {
  const keys = new Map<string, KnownKey>();
  for (const k of keyStore().list()) {
    const id = itemId(encodeKey(k.name, k.publicKey));
    keys.set(toHex(id), { id, name: k.name, publicKey: k.publicKey });
  }
  let store: ReadStore | null = null;
  try {
    store = ReadStore.open(db);
  } catch {
    // no database yet: the private keys are all there is
  }
  if (store) {
    for (const k of store.keys()) keys.set(toHex(k.id), { id: k.id, name: k.name, publicKey: k.publicKey });
    store.close();
  }
  return [...keys.values()];
}

/** A key by name, or by id or a prefix of it (8+ hex digits); several matches are refused, never guessed. */
function resolveKey(candidates: KnownKey[], target: string): KnownKey {
  const byId = /^[0-9a-f]{8,64}$/i.test(target) ? candidates.filter((k) => toHex(k.id).startsWith(target.toLowerCase())) : [];
  const matches = byId.length > 0 ? byId : candidates.filter((k) => k.name === target);
  if (matches.length === 0)
    fail('not-found', `no key named or with id "${target}" in the database or the config folder (import it first: "netsync key import FILE")`);
  if (matches.length > 1) {
    fail('usage', `several keys match "${target}" (${matches.map((k) => `${k.name} ${toHex(k.id)}`).join('; ')}); give the id`);
  }
  return matches[0]!;
}

export const keyTrust: Command = (ctx, p) => {
  const key = resolveKey(knownKeys(ctx.db), p.positionals[0]!);
  const added = new TrustList(configDir()).trust(key.id, key.name);
  ctx.io.out(`${added ? 'trusted' : 'already trusted'}: ${key.name} ${toHex(key.id)} (fingerprint ${fingerprint(key.publicKey)})`);
  return 0;
};

export const keyUntrust: Command = (ctx, p) => {
  const list = new TrustList(configDir());
  const listed: KnownKey[] = [...list.explicit()].map(([id, name]) => ({ id: Buffer.from(id, 'hex'), name, publicKey: Buffer.alloc(0) }));
  const key = resolveKey(listed, p.positionals[0]!);
  list.untrust(key.id);
  ctx.io.out(`no longer trusted: ${key.name} ${toHex(key.id)}`);
  if (list.own().has(toHex(key.id))) ctx.io.out('(it is one of your own keys, which are always trusted)');
  return 0;
};

export const keyFingerprint: Command = (ctx, p) => {
  const target = p.positionals[0] ?? process.env.NETSYNC_KEY;
  if (!target) {
    // Your own identity: the one private key, whatever other keys share its name.
    const own = keyStore().list();
    if (own.length !== 1) fail('usage', own.length === 0 ? 'no key yet; create one with "netsync key generate NAME"' : 'several keys exist; name one');
    ctx.io.out(`${own[0]!.name} ${fingerprint(own[0]!.publicKey)}`);
    return 0;
  }
  const key = resolveKey(knownKeys(ctx.db), target);
  ctx.io.out(`${key.name} ${fingerprint(key.publicKey)}`);
  return 0;
};
