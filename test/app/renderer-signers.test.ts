import { describe, expect, it } from 'vitest';
import { type CertView, type KeyInfo, type LogEntry, err, ok } from '../../src/shared/api.js';
import { fakeClient } from './fake-client.js';
import { applyEvent, createAppStore } from '../../src/renderer/store/app-store.js';
import { signersOf } from '../../src/renderer/store/selectors.js';
import { markSigner } from '../../src/renderer/store/slices/signers.js';

const ALICE = 'a1'.repeat(32);
const BOB = 'b0'.repeat(32);
const M1 = '11'.repeat(32);
const M2 = '22'.repeat(32);

const cert = (name: string, signerKey: string, trusted: boolean): CertView => ({
  name,
  value: 'x',
  signer: signerKey === ALICE ? 'alice' : 'bob',
  signerKey,
  trusted,
});
const entry = (manifest: string, certs: CertView[]): LogEntry => ({ manifest, date: null, author: null, changelog: null, parents: [], certs });
const key = (id: string, hasPrivate: boolean, trusted: boolean): KeyInfo => ({
  name: id === ALICE ? 'alice' : 'bob',
  id,
  publicKey: '',
  hasPrivate,
  encrypted: false,
  inDatabase: true,
  fingerprint: '',
  exportText: '',
  trusted,
});

/** A store showing a log by alice (own) and bob (untrusted), bob's manifest open, and both keys listed. */
async function withLog(handlers: Parameters<typeof fakeClient>[0] = {}) {
  const fake = fakeClient({
    log: () => ok([entry(M2, [cert('branch', BOB, false), cert('date', BOB, false)]), entry(M1, [cert('branch', ALICE, true)])]),
    show: (id) =>
      ok({ kind: 'manifest', id, entries: [], certs: id === M2 ? [cert('branch', BOB, false), cert('date', BOB, false)] : [cert('branch', ALICE, true)] }),
    listKeys: () => ok([key(ALICE, true, true), key(BOB, false, false)]),
    getIdentity: () => ok({ active: null, chosen: false, unlocked: [] }),
    ...handlers,
  });
  const store = createAppStore(fake.client);
  await store.getState().selectBranch('org.example');
  await store.getState().loadKeys();
  return { store, calls: fake.calls };
}

/** Whether each signer's certs read as trusted, over everything the store holds. */
function marks(store: Awaited<ReturnType<typeof withLog>>['store']) {
  const { collection, identity } = store.getState();
  const certs = [...collection.log.flatMap((e) => e.certs), ...(collection.manifest?.certs ?? [])];
  return {
    bobCerts: [...new Set(certs.filter((c) => c.signerKey === BOB).map((c) => c.trusted))],
    aliceCerts: [...new Set(certs.filter((c) => c.signerKey === ALICE).map((c) => c.trusted))],
    bobKey: identity.keys.find((k) => k.id === BOB)?.trusted,
  };
}

describe('signers slice: trust in content', () => {
  it('trusting a key calls trustKey with its id and re-marks its certs and its key row, nobody else’s', async () => {
    const { store, calls } = await withLog({ trustKey: (id) => ok({ keyId: id, name: 'bob', trusted: true, changed: true }) });
    expect(marks(store)).toEqual({ bobCerts: [false], aliceCerts: [true], bobKey: false });
    const aliceEntry = store.getState().collection.log[1];

    expect(await store.getState().setKeyTrust(BOB, true)).toBe(true);
    expect(calls.filter((c) => c.method === 'trustKey')).toEqual([{ method: 'trustKey', args: [BOB] }]);
    expect(marks(store)).toEqual({ bobCerts: [true], aliceCerts: [true], bobKey: true });
    // An entry without the key's certs is the same object: its row does not re-render.
    expect(store.getState().collection.log[1]).toBe(aliceEntry);
    expect(store.getState().signers).toEqual({ busyKey: null, error: null });
  });

  it('untrusting goes through untrustKey; the engine’s answer wins (an own key stays trusted)', async () => {
    const { store, calls } = await withLog({ untrustKey: (id) => ok({ keyId: id, name: 'alice', trusted: true, changed: false }) });
    expect(await store.getState().setKeyTrust(ALICE, false)).toBe(true);
    expect(calls.filter((c) => c.method === 'untrustKey')).toEqual([{ method: 'untrustKey', args: [ALICE] }]);
    expect(marks(store).aliceCerts).toEqual([true]);
  });

  it('a refusal leaves every mark as it was and says why', async () => {
    const { store } = await withLog({
      trustKey: () => err('not-found', 'No key with id b0b0… is in this database or among your keys; import it in Identity first.'),
    });
    expect(await store.getState().setKeyTrust(BOB, true)).toBe(false);
    expect(marks(store)).toEqual({ bobCerts: [false], aliceCerts: [true], bobKey: false });
    expect(store.getState().signers.error).toMatch(/^No key with id b0b0/);
  });

  it('applies a trust change made in another window from its event', async () => {
    const { store } = await withLog();
    applyEvent(store, { type: 'key-trust-changed', keyId: BOB, trusted: true });
    expect(marks(store)).toEqual({ bobCerts: [true], aliceCerts: [true], bobKey: true });
    applyEvent(store, { type: 'key-trust-changed', keyId: BOB, trusted: false });
    expect(marks(store)).toEqual({ bobCerts: [false], aliceCerts: [true], bobKey: false });
  });

  it('markSigner returns the same array when nothing changes', () => {
    const certs = [cert('branch', BOB, true)];
    expect(markSigner(certs, BOB, true)).toBe(certs);
    expect(markSigner(certs, ALICE, false)).toBe(certs);
    expect(markSigner(certs, BOB, false)).toEqual([cert('branch', BOB, false)]);
  });

  it('signersOf lists each signer once with the certs it signed, and knows the user’s own keys', () => {
    const certs = [cert('branch', BOB, false), cert('date', ALICE, true), cert('date', BOB, false), cert('branch', BOB, false)];
    expect(signersOf(certs, [key(ALICE, true, true), key(BOB, false, false)])).toEqual([
      { keyId: BOB, name: 'bob', trusted: false, own: false, certs: ['branch', 'date'] },
      { keyId: ALICE, name: 'alice', trusted: true, own: true, certs: ['date'] },
    ]);
  });
});
