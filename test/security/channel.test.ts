/**
 * The secure channel (docs/SECURITY.md §Channel): TLS 1.3 only, server keys
 * pinned on first use and a changed key refused before anything is sent,
 * client identities taken from the key the client proved it holds, and
 * private keys that never reach the wire, the database or the logs.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { existsSync, readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { connect, createSecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetsyncError } from '../../src/engine/errors.js';
import { privateKeyObject, publicKeyObject } from '../../src/engine/keys/ed25519.js';
import { credentialsFor } from '../../src/engine/security/certificate.js';
import { fingerprint, fingerprintHex } from '../../src/engine/security/fingerprint.js';
import { KnownServers, ServerKeyChangedError } from '../../src/engine/security/known-servers.js';
import { ALPN } from '../../src/engine/security/tls.js';
import { buildHistory, newDbPath, snapshotDb, sorted, waitUntil, withStore } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { Relay, type SecureServer, contains, fp, newCapture, secretForms, secureClient, secureServer, signer } from './helpers.js';

const serverA = signer('server-a@example.org');
const serverB = signer('server-b@example.org');
const alice = signer('alice@example.org');
const mallory = signer('mallory@example.org');

let dbA: string;
let dbB: string;
let a: SecureServer;
let b: SecureServer;
let relay: Relay;

beforeAll(async () => {
  dbA = newDbPath('netsync-sec-chan-a-');
  withStore(dbA, (s) => buildHistory(s, serverA, 'secret.project.alpha', { commits: 4, seed: 21 }));
  dbB = newDbPath('netsync-sec-chan-b-');
  withStore(dbB, (s) => buildHistory(s, serverB, 'secret.project.alpha', { commits: 2, seed: 22 }));
  const perms = `read ${fp(alice)} *\nwrite ${fp(alice)} *\n`;
  a = await secureServer(dbA, serverA, perms);
  b = await secureServer(dbB, serverB, perms);
  relay = await new Relay().listen();
});

afterAll(async () => {
  await relay?.close();
  await a?.server.close(1000);
  await b?.server.close(1000);
});

describe('pinning server keys', () => {
  it('pins on first use, then refuses a second server with another key at the pinned address, having sent nothing', async () => {
    const configDir = tempDir('netsync-sec-pins-');
    relay.target = a.port;
    const seen: string[] = [];
    const first = await secureClient(
      { db: newDbPath(), port: relay.port, patterns: ['*'], direction: 'pull', configDir, onNewServer: (f) => (seen.push(f), true) },
      alice,
    );
    expect(seen).toEqual([fingerprint(serverA.pair.publicKey)]);
    expect(first.peerFingerprint).toBe(fingerprint(serverA.pair.publicKey));
    const address = `127.0.0.1:${relay.port}`;
    expect(new KnownServers(configDir).lookup(address)).toBe(fingerprintHex(serverA.pair.publicKey));

    // The man in the middle: the same address now answers with server B's key.
    relay.target = b.port;
    const db = newDbPath();
    const cap = newCapture();
    const bSessionsBefore = b.events.filter((e) => e.type === 'session-end' && e.itemsReceived + e.itemsSent > 0).length;
    const err = await secureClient({ db, port: relay.port, patterns: ['*'], direction: 'sync', configDir }, alice, cap).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerKeyChangedError);
    const e = err as ServerKeyChangedError;
    expect(e.code).toBe('key');
    expect(e.message).toContain(fingerprint(serverA.pair.publicKey));
    expect(e.message).toContain(fingerprint(serverB.pair.publicKey));
    expect(e.message).toContain(`netsync trust ${address} ${fingerprintHex(serverB.pair.publicKey)}`);
    expect(Buffer.concat(cap.sent).length).toBe(0); // not a byte of HELLO: no pattern, no branch name, no root
    expect(snapshotDb(db).all.size).toBe(0);
    expect(b.events.filter((x) => x.type === 'session-end' && x.itemsReceived + x.itemsSent > 0).length).toBe(bSessionsBefore);
    expect(new KnownServers(configDir).lookup(address)).toBe(fingerprintHex(serverA.pair.publicKey)); // the pin stands

    // Accepting the change deliberately (what `netsync trust` does) lets the next session through.
    new KnownServers(configDir).pin(address, fingerprint(serverB.pair.publicKey));
    const s = await secureClient({ db, port: relay.port, patterns: ['*'], direction: 'pull', configDir }, alice);
    expect(s.peerFingerprint).toBe(fingerprint(serverB.pair.publicKey));
    expect(s.itemsReceived).toBeGreaterThan(0);
  });

  it('a new server the user does not accept is not pinned and gets nothing', async () => {
    const configDir = tempDir('netsync-sec-pins2-');
    const cap = newCapture();
    const err = await secureClient({ db: newDbPath(), port: a.port, patterns: ['*'], configDir, onNewServer: () => false }, alice, cap).catch(
      (e: unknown) => e,
    );
    expect((err as NetsyncError).code).toBe('key');
    expect((err as NetsyncError).message).toMatch(/not accepted/);
    expect(Buffer.concat(cap.sent).length).toBe(0);
    expect(existsSync(new KnownServers(configDir).path)).toBe(false);
  });
});

describe('the handshake', () => {
  it('refuses TLS 1.2 and clients that do not ask for the Netsync protocol', async () => {
    const before = a.events.filter((e) => e.type === 'refused').length;
    const tls12 = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: a.port, maxVersion: 'TLSv1.2', rejectUnauthorized: false, ALPNProtocols: [ALPN] });
      s.once('secureConnect', () => resolve('connected'));
      s.once('error', (e) => resolve(e.message));
    });
    expect(tls12).not.toBe('connected');
    const noAlpn = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: a.port, minVersion: 'TLSv1.3', rejectUnauthorized: false });
      s.once('close', () => resolve('closed'));
      s.once('error', (e) => resolve(e.message));
      s.once('data', () => resolve('data'));
    });
    expect(noAlpn).not.toBe('data');
    expect(await waitUntil(() => a.events.filter((e) => e.type === 'refused').length >= before + 2)).toBe(true);
  });

  it('a client cannot present a key whose private half it does not hold', async () => {
    const aliceCert = (await credentialsFor(alice.pair)).cert;
    const malloryKey = privateKeyObject(mallory.pair.seed).export({ format: 'pem', type: 'pkcs8' }) as string;
    // 1. node:tls (OpenSSL) will not even build a context that pairs alice's certificate with mallory's key.
    expect(() => createSecureContext({ cert: aliceCert, key: malloryKey })).toThrow(/key values mismatch/);

    // 2. Forced in the other order, OpenSSL drops the key that does not match: the client then presents
    //    no certificate at all, and the server treats it as anonymous, with none of alice's rights.
    const context = createSecureContext({ key: malloryKey, minVersion: 'TLSv1.3' });
    context.context.setCert(aliceCert);
    const who = await new Promise<string | undefined>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: a.port, secureContext: context, rejectUnauthorized: false, ALPNProtocols: [ALPN] });
      s.once('error', reject);
      s.once('secureConnect', async () => {
        const ok = await waitUntil(() => a.events.some((e) => e.type === 'session-start' && e.remote.endsWith(`:${s.localPort}`)));
        const start = a.events.find((e) => e.type === 'session-start' && e.remote.endsWith(`:${s.localPort}`));
        s.destroy();
        resolve(ok && start?.type === 'session-start' ? start.client : undefined);
      });
    });
    expect(who).toBe('anonymous');

    // 3. A certificate that names alice but holds mallory's key is mallory's: identity is the key, not a name.
    const subtle = webcrypto.subtle;
    const priv = await subtle.importKey('pkcs8', privateKeyObject(mallory.pair.seed).export({ format: 'der', type: 'pkcs8' }), { name: 'Ed25519' }, false, [
      'sign',
    ]);
    const pub = await subtle.importKey('spki', publicKeyObject(mallory.pair.publicKey).export({ format: 'der', type: 'spki' }), { name: 'Ed25519' }, true, [
      'verify',
    ]);
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const forged = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '02',
      name: `CN=alice@example.org, O=${fingerprintHex(alice.pair.publicKey)}`,
      notBefore: new Date('2000-01-01'),
      notAfter: new Date('2100-01-01'),
      signingAlgorithm: { name: 'Ed25519' },
      keys: { privateKey: priv, publicKey: pub as CryptoKey },
    });
    const seenAs = await new Promise<string | undefined>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: a.port, cert: forged.toString('pem'), key: malloryKey, rejectUnauthorized: false, ALPNProtocols: [ALPN] });
      s.once('error', reject);
      s.once('secureConnect', async () => {
        await waitUntil(() => a.events.some((e) => e.type === 'session-start' && e.remote.endsWith(`:${s.localPort}`)));
        const start = a.events.find((e) => e.type === 'session-start' && e.remote.endsWith(`:${s.localPort}`));
        s.destroy();
        resolve(start?.type === 'session-start' ? start.client : undefined);
      });
    });
    expect(seenAs).toBe(fingerprint(mallory.pair.publicKey));
  });
});

describe('private keys', () => {
  it('never appear on the wire, in the decrypted stream, in either database or in the server log', async () => {
    const clientDb = newDbPath('netsync-sec-leak-');
    withStore(clientDb, (s) => buildHistory(s, alice, 'secret.project.beta', { commits: 4, seed: 23 }));
    relay.target = a.port;
    relay.wire.length = 0;
    const cap = newCapture();
    const s = await secureClient({ db: clientDb, port: relay.port, patterns: ['secret.*'], direction: 'sync' }, alice, cap);
    expect(s.itemsSent).toBeGreaterThan(0);
    expect(s.itemsReceived).toBeGreaterThan(0);
    expect(sorted(snapshotDb(dbA).branches.keys())).toContain('secret.project.beta');

    const decrypted = Buffer.concat([...cap.sent, ...cap.received]);
    const wire = Buffer.concat(relay.wire);
    // Positive control: the decrypted stream names the branches; the wire, encrypted, does not.
    expect(contains(decrypted, Buffer.from('secret.project.beta'))).toBe(true);
    expect(contains(wire, Buffer.from('secret.project'))).toBe(false);

    const files = [clientDb, `${clientDb}-wal`, dbA, `${dbA}-wal`].filter(existsSync).map((f) => readFileSync(f));
    const log = Buffer.from(JSON.stringify(a.events));
    for (const who of [alice, serverA]) {
      for (const secret of secretForms(who).binary) {
        expect(contains(wire, secret), `${who.name}'s private key on the wire`).toBe(false);
        expect(contains(decrypted, secret), `${who.name}'s private key in the stream`).toBe(false);
        for (const f of files) expect(contains(f, secret), `${who.name}'s private key in a database`).toBe(false);
        expect(contains(log, secret), `${who.name}'s private key in the log`).toBe(false);
      }
    }
  });
});
