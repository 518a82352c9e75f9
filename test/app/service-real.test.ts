/**
 * Two services with the real protocol engine over loopback TLS, as two
 * copies of the app would run: first contact asks, the server's permissions
 * file is edited through the API and applies to the next session, and a
 * read-only push is reported as a refused branch, never as "nothing to do".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { setupService } from '../helpers/service.js';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { branchHeads } from '../../src/engine/store/history.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';

async function commit(db: string, configDir: string, dir: string, key: string, files: Record<string, string>, branch = 'org.example.demo'): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const pair = new KeyStore(join(configDir, 'keys')).unlock(key);
  const store = WriteStore.open(db);
  try {
    await commitDirectory(store, dir, { branch, parent: onlyHead(store, branch), message: 'work', signer: { name: key, pair } });
  } finally {
    store.close();
  }
}

describe('two services, real engine', () => {
  it('asks about the server on first contact, then syncs; a permissions edit applies to the next session', async () => {
    const server = setupService();
    const client = setupService();
    try {
      await server.service.openDatabase();
      const serverKey = await server.service.generateKey('srv@example.org');
      if (!serverKey.ok) throw new Error(serverKey.error.message);
      expect((await server.service.setPermissions('read * *\nwrite * *\n')).ok).toBe(true);
      const started = await server.service.startServer({ bind: '127.0.0.1:0', patterns: [] });
      if (!started.ok) throw new Error(started.error.message);
      expect(started.value.identity).toEqual({ name: 'srv@example.org', fingerprint: serverKey.value.fingerprint });

      const opened = await client.service.openDatabase();
      if (!opened.ok) throw new Error(opened.error.message);
      await client.service.generateKey('bob@example.org');
      await commit(opened.value.path, client.configDir, join(client.dir, 'v1'), 'bob@example.org', { README: 'one\n' });
      const peer = await client.service.addPeer({ name: 'srv', address: `127.0.0.1:${started.value.port}` });
      if (!peer.ok) throw new Error(peer.error.message);

      const diffing = client.service.diff(peer.value.id);
      const prompt = await vi.waitFor(() => {
        const e = client.events.find((x) => x.type === 'confirm-server');
        if (e?.type !== 'confirm-server') throw new Error('not asked yet');
        return e.prompt;
      });
      // The fingerprint asked about is the one the server's owner reads in their Server panel.
      expect(prompt.fingerprint).toBe(serverKey.value.fingerprint);
      await client.service.answerServerPrompt(prompt.id, true);
      const diff = await diffing;
      if (!diff.ok) throw new Error(diff.error.message);
      expect(diff.value.theyLack.count).toBeGreaterThan(0);
      expect(diff.value.peerFingerprint).toBe(serverKey.value.fingerprint);

      const synced = await client.service.sync(peer.value.id);
      expect(synced).toMatchObject({ ok: true, value: { itemsSent: diff.value.theyLack.count } });
      expect(client.events.filter((e) => e.type === 'confirm-server')).toHaveLength(1);

      // Read only from now on: the next push is refused in that branch, and says so.
      expect((await server.service.setPermissions('read * *\n')).ok).toBe(true);
      await commit(opened.value.path, client.configDir, join(client.dir, 'v2'), 'bob@example.org', { README: 'two\n' });
      await client.service.updatePeer(peer.value.id, { direction: 'push' });
      const pushed = await client.service.sync(peer.value.id);
      expect(pushed).toMatchObject({ ok: true, value: { itemsSent: 0, refused: [{ branch: 'org.example.demo', reason: 'read-only' }] } });
    } finally {
      await server.service.dispose();
      await client.service.dispose();
    }
  });
});

/** The branch's only head, the parent of a folder committed onto it without a workspace record; none for a new branch. */
function onlyHead(store: WriteStore, branch: string): Buffer | undefined {
  return store.branchId(branch) === null ? undefined : branchHeads(store, branch)[0];
}
