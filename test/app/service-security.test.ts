/**
 * The service's identity, first-contact, trust, permissions and diff-paging
 * calls, over a fake protocol engine (the real engine: service-real.test.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { diffRows, progress, setupService, summary } from '../helpers/service.js';
import type { NetsyncEvent, ServerPrompt } from '../../src/shared/api.js';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import type { ClientOptions } from '../../src/engine/protocol/api.js';
import { fingerprint, fingerprintHex } from '../../src/engine/security/fingerprint.js';
import { KnownServers, ServerKeyChangedError } from '../../src/engine/security/known-servers.js';
import { NetsyncService } from '../../src/engine/service/service.js';

/** A fake engine that records what it was asked and returns an empty summary. */
function recordingEngine() {
  const seen: ClientOptions[] = [];
  return {
    seen,
    runClientSession: async (opts: ClientOptions) => {
      seen.push(opts);
      return summary(opts);
    },
  };
}

async function withPeer(service: NetsyncService, address = '127.0.0.1:9999') {
  await service.openDatabase();
  const peer = await service.addPeer({ name: 'lab', address });
  if (!peer.ok) throw new Error(peer.error.message);
  return peer.value.id;
}

function promptEvent(events: NetsyncEvent[]): Promise<ServerPrompt> {
  return vi.waitFor(() => {
    const e = events.find((x) => x.type === 'confirm-server');
    if (e?.type !== 'confirm-server') throw new Error('no prompt yet');
    return e.prompt;
  });
}

describe('identity for sessions', () => {
  it('with several keys asks for a choice before connecting, then remembers it in the config folder', async () => {
    const engine = recordingEngine();
    const { service, configDir, events } = setupService(engine);
    const peerId = await withPeer(service);
    await service.generateKey('alice@example.org');
    await service.generateKey('bob@example.org');
    expect(await service.getIdentity()).toEqual({ ok: true, value: { active: null, chosen: false, unlocked: [] } });

    const refused = await service.sync(peerId);
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'identity-required',
        message: expect.stringMatching(/^Several keys exist \(alice@example\.org, bob@example\.org\); choose .* in Identity\.$/),
      },
    });
    expect(engine.seen).toHaveLength(0);

    expect(await service.setIdentity({ kind: 'key', name: 'carol@example.org' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await service.setIdentity({ kind: 'key', name: 'bob@example.org' })).toEqual({
      ok: true,
      value: { active: { kind: 'key', name: 'bob@example.org' }, chosen: true, unlocked: [] },
    });
    expect(events.some((e) => e.type === 'identity-changed' && e.identity.active?.kind === 'key')).toBe(true);
    expect((await service.sync(peerId)).ok).toBe(true);
    const bob = new KeyStore(join(configDir, 'keys')).publicKey('bob@example.org');
    expect(engine.seen[0]!.identity).toEqual({ name: 'bob@example.org', keyPair: expect.objectContaining({ publicKey: bob }) });

    // Remembered: a new run of the app (a new service on the same folder) uses it.
    const again = new NetsyncService({ configDir, engine: { runClientSession: engine.runClientSession } });
    expect(await again.getIdentity()).toMatchObject({ ok: true, value: { active: { kind: 'key', name: 'bob@example.org' }, chosen: true } });
    expect(statSync(join(configDir, 'identity.json')).mode & 0o777).toBe(0o600);

    await service.setIdentity({ kind: 'anonymous' });
    expect((await service.diff(peerId)).ok).toBe(true);
    expect(engine.seen[1]!.identity).toBe('anonymous');
  });

  it('uses the only key, or none, without asking', async () => {
    const engine = recordingEngine();
    const { service } = setupService(engine);
    const peerId = await withPeer(service);
    expect(await service.getIdentity()).toMatchObject({ ok: true, value: { active: { kind: 'anonymous' }, chosen: false } });
    await service.diff(peerId);
    expect(engine.seen[0]!.identity).toBe('anonymous');
    await service.generateKey('alice@example.org');
    await service.diff(peerId);
    expect(engine.seen[1]!.identity).toMatchObject({ name: 'alice@example.org' });
  });

  it('a passphrase-protected key is refused as locked until unlocked, and stays unlocked only in memory', async () => {
    const engine = recordingEngine();
    const { service, configDir } = setupService(engine);
    const peerId = await withPeer(service);
    const pair = new KeyStore(join(configDir, 'keys')).generate('alice@example.org', 'correct horse');

    const locked = await service.sync(peerId);
    expect(locked).toMatchObject({
      ok: false,
      error: { code: 'key-locked', key: 'alice@example.org', message: expect.stringMatching(/^Key "alice@example\.org" is protected by a passphrase/) },
    });
    expect(engine.seen).toHaveLength(0);

    expect(await service.unlockKey('alice@example.org', 'wrong')).toMatchObject({ ok: false, error: { code: 'bad-passphrase', key: 'alice@example.org' } });
    expect(await service.unlockKey('alice@example.org', 'correct horse')).toMatchObject({ ok: true, value: { unlocked: ['alice@example.org'] } });
    expect((await service.sync(peerId)).ok).toBe(true);
    expect(engine.seen[0]!.identity).toMatchObject({ name: 'alice@example.org', keyPair: { seed: pair.seed } });

    // Nothing of the unsealed key was written: no file of the config folder holds the seed or the passphrase.
    for (const f of readdirSync(configDir, { recursive: true, encoding: 'utf8' })) {
      if (statSync(join(configDir, f)).isDirectory()) continue;
      const text = readFileSync(join(configDir, f), 'utf8');
      expect(text).not.toContain(pair.seed.toString('hex'));
      expect(text).not.toContain('correct horse');
    }
    // A new run of the app asks again.
    const again = new NetsyncService({ configDir, engine: { runClientSession: engine.runClientSession } });
    await again.openDatabase(join(configDir, '..', 'data', 'a.db'));
    expect(await again.sync(peerId)).toMatchObject({ ok: false, error: { code: 'key-locked' } });
  });

  it('a key generated with a passphrase is already unlocked for this run, and serves', async () => {
    let served: unknown;
    const { service } = setupService({
      startServer: async (opts) => {
        served = opts.identity;
        return { host: opts.host, port: 1, stats: () => ({ connected: 0, sessions: 0, itemsSent: 0, itemsReceived: 0 }), close: async () => undefined };
      },
    });
    await service.openDatabase();
    await service.generateKey('alice@example.org', 'correct horse');
    expect(await service.getIdentity()).toMatchObject({ ok: true, value: { unlocked: ['alice@example.org'] } });
    expect((await service.startServer({ bind: '127.0.0.1:0', patterns: [] })).ok).toBe(true);
    expect(served).toMatchObject({ name: 'alice@example.org' });
  });

  it('lists keys with the fingerprint to share, and imports an exported public key into the database', async () => {
    const { service } = setupService();
    await service.openDatabase();
    const other = new KeyStore(join(setupService().configDir, 'keys')).generate('dave@example.org');
    const exported = `netsync-public-key-v1 dave@example.org ${other.publicKey.toString('base64')}`;
    const imported = await service.importKey(`  ${exported}\n`);
    expect(imported).toMatchObject({
      ok: true,
      value: { name: 'dave@example.org', hasPrivate: false, inDatabase: true, fingerprint: fingerprint(other.publicKey), exportText: exported },
    });
    expect(await service.importKey('ssh-ed25519 AAAA')).toMatchObject({
      ok: false,
      error: { code: 'usage', message: expect.stringMatching(/^The pasted text is not a Netsync public key/) },
    });
    const keys = await service.listKeys();
    expect(keys.ok && keys.value.map((k) => k.name)).toEqual(['dave@example.org']);
  });
});

describe('first contact with a server', () => {
  /** An engine that asks about a new server first, as the real client does before pinning. */
  function askingEngine(fp: string, after: (accepted: boolean, opts: ClientOptions) => Promise<unknown> = async () => undefined) {
    const seen: ClientOptions[] = [];
    return {
      seen,
      runClientSession: async (opts: ClientOptions) => {
        seen.push(opts);
        opts.onProgress?.(progress(1, 'connecting'));
        const accepted = await opts.onNewServer!(fp, '127.0.0.1:9999');
        if (!accepted) throw Object.assign(new Error(`not connecting to 127.0.0.1:9999: its key was not accepted`), { code: 'key' });
        await after(accepted, opts);
        opts.onProgress?.(progress(2, 'done'));
        return summary(opts);
      },
    };
  }
  const fp = fingerprint(Buffer.alloc(32, 7));

  it('asks the window with the fingerprint, and goes on once accepted; the first answer wins', async () => {
    const { service, events } = setupService(askingEngine(fp));
    const peerId = await withPeer(service);
    const running = service.diff(peerId);
    const prompt = await promptEvent(events);
    expect(prompt).toMatchObject({ peerId, peerName: 'lab', address: '127.0.0.1:9999', fingerprint: fp });
    const status = await service.getStatus();
    expect(status.ok && status.value.prompts).toEqual([prompt]);
    expect(await service.answerServerPrompt(prompt.id, true)).toEqual({ ok: true, value: true });
    expect(await service.answerServerPrompt(prompt.id, false)).toEqual({ ok: true, value: false });
    expect((await running).ok).toBe(true);
    expect(events).toContainEqual({ type: 'confirm-server-closed', promptId: prompt.id, outcome: 'accepted' });
  });

  it('a refusal, or no answer in time, sends nothing and says so', async () => {
    const { service, events } = setupService(askingEngine(fp), { promptTimeoutMs: 50 });
    const peerId = await withPeer(service);
    const running = service.sync(peerId);
    await service.answerServerPrompt((await promptEvent(events)).id, false);
    expect(await running).toEqual({
      ok: false,
      error: {
        code: 'server-refused',
        message:
          "You did not accept the key of 127.0.0.1:9999, so nothing was sent; connect again to be asked again, and accept once the server's owner has read you its fingerprint.",
      },
    });

    events.length = 0;
    const timedOut = await service.sync(peerId);
    expect(timedOut).toMatchObject({ ok: false, error: { code: 'server-refused', message: expect.stringMatching(/in time/) } });
    expect(events.some((e) => e.type === 'confirm-server-closed' && e.outcome === 'timeout')).toBe(true);
  });

  it('cancelling the session closes its question', async () => {
    const { service, events } = setupService(askingEngine(fp));
    const peerId = await withPeer(service);
    const running = service.sync(peerId);
    const prompt = await promptEvent(events);
    const started = events.find((e) => e.type === 'session-started');
    if (started?.type !== 'session-started') throw new Error('not started');
    await service.cancel(started.session.sessionId);
    expect(await running).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(events).toContainEqual({ type: 'confirm-server-closed', promptId: prompt.id, outcome: 'cancelled' });
    expect(await service.answerServerPrompt(prompt.id, true)).toEqual({ ok: true, value: false });
  });

  it('when the server gave up waiting during the question, runs the session again at once, with one progress stream', async () => {
    let attempts = 0;
    const engine = {
      runClientSession: async (opts: ClientOptions) => {
        attempts++;
        opts.onProgress?.(progress(1, 'connecting'));
        if (attempts === 1) {
          await opts.onNewServer!(fp, '127.0.0.1:9999');
          throw Object.assign(new Error('the server closed the connection: no handshake within 10000 ms'), { code: 'timeout' });
        }
        opts.onProgress?.(progress(2, 'done'));
        return summary(opts);
      },
    };
    const { service, events } = setupService(engine);
    const peerId = await withPeer(service);
    const running = service.sync(peerId);
    await service.answerServerPrompt((await promptEvent(events)).id, true);
    expect((await running).ok).toBe(true);
    expect(attempts).toBe(2);
    const seqs = events.flatMap((e) => (e.type === 'session-progress' ? [e.progress.seq] : []));
    expect(seqs).toEqual([1, 2, 3]);
  });

  it('a changed server key is an error with both fingerprints; trusting the new key re-pins it', async () => {
    const pinned = fingerprintHex(Buffer.alloc(32, 1));
    const presented = fingerprintHex(Buffer.alloc(32, 2));
    const { service, configDir } = setupService({
      runClientSession: async () => {
        throw new ServerKeyChangedError('127.0.0.1:9999', pinned, presented);
      },
    });
    const peerId = await withPeer(service);
    const r = await service.diff(peerId);
    expect(r).toMatchObject({ ok: false, error: { code: 'server-key-changed', serverKey: { address: '127.0.0.1:9999', pinned, presented } } });
    if (r.ok) throw new Error('expected an error');
    expect(r.error.message).toContain(fingerprint(Buffer.alloc(32, 1)));
    expect(r.error.message).toContain(fingerprint(Buffer.alloc(32, 2)));
    expect(r.error.message).not.toContain('netsync trust');

    new KnownServers(configDir).pin('127.0.0.1:9999', pinned);
    expect(await service.trustServer('127.0.0.1:9999', fingerprint(Buffer.alloc(32, 2)))).toEqual({
      ok: true,
      value: { address: '127.0.0.1:9999', fingerprint: fingerprint(Buffer.alloc(32, 2)), replaced: fingerprint(Buffer.alloc(32, 1)) },
    });
    expect(new KnownServers(configDir).lookup('127.0.0.1:9999')).toBe(presented);
  });
});

describe('the missing-item list', () => {
  it('keeps 100,000 rows in the worker and pages them, by branch too, from the same session as the counts', async () => {
    const rows = diffRows(100_000, ['org.a', 'org.b']);
    const { service } = setupService({
      runClientSession: async (opts) =>
        summary(opts, 0, {
          weLack: {
            count: 100_000,
            bytes: 1_000_000,
            groups: [
              { branch: 'org.a', kind: 'file', count: 50_000, bytes: 500_000 },
              { branch: 'org.b', kind: 'file', count: 50_000, bytes: 500_000 },
            ],
            items: rows,
          },
        }),
    });
    const peerId = await withPeer(service);
    const r = await service.diff(peerId);
    if (!r.ok) throw new Error(r.error.message);
    // What crosses to a window with the summary is the first screenful, not the list.
    expect(r.value.weLack.count).toBe(100_000);
    expect(r.value.weLack.items).toHaveLength(200);
    expect(JSON.stringify(r.value).length).toBeLessThan(40_000);

    const page = await service.diffItems(r.value.sessionId, 'weLack', 99_990, 50);
    expect(page).toMatchObject({ ok: true, value: { total: 100_000, offset: 99_990 } });
    expect(page.ok && page.value.items.map((i) => i.id)).toEqual(rows.slice(99_990).map((i) => i.id));
    const ofB = await service.diffItems(r.value.sessionId, 'weLack', 0, 3, 'org.b');
    expect(ofB.ok && ofB.value).toMatchObject({ total: 50_000, items: [{ id: rows[1]!.id }, { id: rows[3]!.id }, { id: rows[5]!.id }] });
    expect(await service.diffItems(r.value.sessionId, 'theyLack', 0, 10)).toEqual({ ok: true, value: { total: 0, offset: 0, items: [] } });
    expect(await service.diffItems('gone', 'weLack', 0, 10)).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('says why a row will not move: the direction is off, or the server refuses the branch', async () => {
    const { service } = setupService({
      runClientSession: async (opts) =>
        summary(opts, 0, {
          weLack: { count: 2, bytes: 20, groups: [], items: diffRows(2, ['org.a']) },
          theyLack: { count: 2, bytes: 20, groups: [], items: diffRows(2, ['org.a', 'org.ro']) },
          refused: [{ branch: 'org.ro', reason: 'read-only' }],
        }),
    });
    const peerId = await withPeer(service);
    await service.updatePeer(peerId, { direction: 'push' });
    const r = await service.diff(peerId);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.weLack.items.map((i) => i.blocked)).toEqual(['direction', 'direction']);
    expect(r.value.theyLack.items.map((i) => i.blocked)).toEqual([undefined, 'no-permission']);
    const peers = await service.listPeers();
    expect(peers.ok && peers.value[0]!.last).toMatchObject({ dryRun: true, weLack: 2, theyLack: 2, refused: [{ branch: 'org.ro', reason: 'read-only' }] });
  });
});

describe('the server’s permissions file', () => {
  it('refuses a text with a wrong line, naming every one, and saves a right one for the next session', async () => {
    const { service, configDir } = setupService();
    expect(await service.getPermissions()).toEqual({ ok: true, value: { path: join(configDir, 'permissions'), text: '', exists: false, rules: 0 } });

    const bad = await service.setPermissions('read * org.*\nwirte * org.*\nread nobody org.*');
    expect(bad).toMatchObject({
      ok: false,
      error: {
        code: 'bad-permissions',
        message:
          'The permissions were not saved: line 2: a rule starts with "read" or "write", not "wirte" (and 1 more line); correct the lines named and save again.',
        lines: [{ line: 2 }, { line: 3, message: '"nobody" is not a key fingerprint, "anonymous" or "*"' }],
      },
    });
    expect((await service.getPermissions()).ok && (await service.getPermissions())).toMatchObject({ value: { exists: false } });

    const good = await service.setPermissions('# team\nread * org.*\nwrite * org.example.*');
    expect(good).toEqual({
      ok: true,
      value: { path: join(configDir, 'permissions'), text: '# team\nread * org.*\nwrite * org.example.*\n', exists: true, rules: 2 },
    });
    expect(statSync(join(configDir, 'permissions')).mode & 0o777).toBe(0o600);
  });
});
