/**
 * Trust in content through the app's service (docs/SECURITY.md §5): certs
 * carry whether their signer is trusted, and trustKey / untrustKey change the
 * same `<config>/trusted_keys` the command line reads.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setupService } from '../helpers/service.js';
import { checkRequest } from '../../src/shared/api-validate.js';
import type { CertView } from '../../src/shared/api.js';
import { toHex } from '../../src/engine/hash.js';
import { encodeKey, itemId } from '../../src/engine/items/format.js';
import type { KeyPair } from '../../src/engine/keys/ed25519.js';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import { TrustList } from '../../src/engine/security/trust.js';
import { ReadStore, WriteStore } from '../../src/engine/store/store.js';
import { branchHeads } from '../../src/engine/store/history.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';

const BRANCH = 'org.example.demo';

async function commitAs(db: string, dir: string, name: string, pair: KeyPair, text: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README'), text);
  const store = WriteStore.open(db, { create: !existsSync(db) });
  try {
    return (await commitDirectory(store, dir, { branch: BRANCH, parent: onlyHead(store, BRANCH), message: `by ${name}`, signer: { name, pair } })).manifest;
  } finally {
    store.close();
  }
}

/** A database with one commit signed by the user's own key (alice) and one by someone else's (bob). */
async function setup() {
  const env = setupService();
  const alice = new KeyStore(join(env.configDir, 'keys')).generate('alice@example.org');
  const bob = new KeyStore(join(env.dir, 'bob-keys')).generate('bob@example.org');
  const db = join(env.dir, 'shared.db');
  const byAlice = await commitAs(db, join(env.dir, 'a'), 'alice@example.org', alice, 'one\n');
  const byBob = await commitAs(db, join(env.dir, 'b'), 'bob@example.org', bob, 'two\n');
  const opened = await env.service.openDatabase(db);
  if (!opened.ok) throw new Error(opened.error.message);
  const keyId = (name: string, pair: KeyPair) => toHex(itemId(encodeKey(name, pair.publicKey)));
  return { ...env, db, byAlice, byBob, aliceId: keyId('alice@example.org', alice), bobId: keyId('bob@example.org', bob) };
}

/** signerKey → trusted, over every cert of the branch's log; fails when two certs of one signer disagree. */
async function trustInLog(env: Awaited<ReturnType<typeof setup>>): Promise<Record<string, boolean>> {
  const log = await env.service.log(BRANCH);
  if (!log.ok) throw new Error(log.error.message);
  return bySigner(log.value.flatMap((e) => e.certs));
}

function bySigner(certs: CertView[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const c of certs) {
    if (c.signerKey in out && out[c.signerKey] !== c.trusted) throw new Error(`certs of ${c.signer} disagree`);
    out[c.signerKey] = c.trusted;
  }
  return out;
}

describe('trust in content through the service', () => {
  it('marks certs by a foreign key untrusted and the user’s own trusted, in the log, a manifest, a cert and the key list', async () => {
    const env = await setup();
    expect(await trustInLog(env)).toEqual({ [env.aliceId]: true, [env.bobId]: false });

    const manifest = await env.service.show(env.byBob);
    if (!manifest.ok || manifest.value.kind !== 'manifest') throw new Error('not a manifest');
    expect(bySigner(manifest.value.certs)).toEqual({ [env.bobId]: false });

    const certId = ReadStore.open(env.db);
    const bobCert = toHex(certId.certsOn(Buffer.from(env.byBob, 'hex'))[0]!.id);
    certId.close();
    expect(await env.service.show(bobCert)).toMatchObject({ ok: true, value: { kind: 'cert', signerKey: env.bobId, trusted: false } });

    const keys = await env.service.listKeys();
    expect(keys.ok && keys.value.map((k) => [k.name, k.hasPrivate, k.trusted])).toEqual([
      ['alice@example.org', true, true],
      ['bob@example.org', false, false],
    ]);
  });

  it('trustKey lists the key in trusted_keys and its certs turn trusted; untrustKey takes it out again', async () => {
    const env = await setup();
    const trustFile = join(env.configDir, 'trusted_keys');

    expect(await env.service.trustKey(env.bobId)).toEqual({ ok: true, value: { keyId: env.bobId, name: 'bob@example.org', trusted: true, changed: true } });
    expect(readFileSync(trustFile, 'utf8')).toContain(`\n${env.bobId} bob@example.org\n`);
    // The command line reads the same list: `netsync log` agrees with the app.
    expect(new TrustList(env.configDir).checker()(Buffer.from(env.bobId, 'hex'))).toBe(true);
    expect(await trustInLog(env)).toEqual({ [env.aliceId]: true, [env.bobId]: true });
    const keys = await env.service.listKeys();
    expect(keys.ok && keys.value.find((k) => k.id === env.bobId)?.trusted).toBe(true);
    expect(env.events).toContainEqual({ type: 'key-trust-changed', keyId: env.bobId, trusted: true });
    expect(await env.service.trustKey(env.bobId.toUpperCase())).toMatchObject({ ok: true, value: { keyId: env.bobId, trusted: true, changed: false } });

    const before = env.events.length;
    expect(await env.service.untrustKey(env.bobId)).toEqual({ ok: true, value: { keyId: env.bobId, name: 'bob@example.org', trusted: false, changed: true } });
    expect(readFileSync(trustFile, 'utf8')).not.toContain(env.bobId);
    expect(await trustInLog(env)).toEqual({ [env.aliceId]: true, [env.bobId]: false });
    expect(env.events.slice(before)).toEqual([{ type: 'key-trust-changed', keyId: env.bobId, trusted: false }]);
    expect(await env.service.untrustKey(env.bobId)).toMatchObject({ ok: true, value: { trusted: false, changed: false } });
  });

  it('leaves the user’s own keys trusted and out of the list', async () => {
    const env = await setup();
    expect(await env.service.trustKey(env.aliceId)).toEqual({
      ok: true,
      value: { keyId: env.aliceId, name: 'alice@example.org', trusted: true, changed: false },
    });
    expect(await env.service.untrustKey(env.aliceId)).toEqual({
      ok: true,
      value: { keyId: env.aliceId, name: 'alice@example.org', trusted: true, changed: false },
    });
    expect(existsSync(join(env.configDir, 'trusted_keys'))).toBe(false);
    expect(await trustInLog(env)).toEqual({ [env.aliceId]: true, [env.bobId]: false });
  });

  it('refuses a malformed or unknown key id with one sentence, and writes nothing', async () => {
    const env = await setup();
    expect(await env.service.trustKey('bob@example.org')).toEqual({
      ok: false,
      error: { code: 'usage', message: `"bob@example.org" is not a key id (the key item's id: 64 hex digits); correct it and try again.` },
    });
    expect(await env.service.untrustKey(env.bobId.slice(0, 16))).toMatchObject({ ok: false, error: { code: 'usage' } });
    const unknown = 'ab'.repeat(32);
    expect(await env.service.trustKey(unknown)).toEqual({
      ok: false,
      error: { code: 'not-found', message: 'No key with id abababababababab… is in this database or among your keys; import it in Identity first.' },
    });
    expect(await env.service.untrustKey(unknown)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(existsSync(join(env.configDir, 'trusted_keys'))).toBe(false);
    // Hosts refuse it before the engine sees it.
    expect(checkRequest('trustKey', ['xyz'])).toMatchObject({
      ok: false,
      error: { code: 'bad-request', message: expect.stringMatching(/is not a key id \(64 hex digits\)/) },
    });
    expect(checkRequest('untrustKey', [env.bobId])).toEqual({ ok: true, value: { method: 'untrustKey', args: [env.bobId] } });
  });
});

/** The branch's only head, the parent of a folder committed onto it without a workspace record; none for a new branch. */
function onlyHead(store: WriteStore, branch: string): Buffer | undefined {
  return store.branchId(branch) === null ? undefined : branchHeads(store, branch)[0];
}
