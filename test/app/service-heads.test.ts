/**
 * A second head is noticed (issue #20): two copies of the app commit to the
 * same branch without having seen each other's version; the sync that
 * brings the other's version says the branch has two heads, once, and both
 * versions are kept.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NoticeTriggers } from '../../src/shared/notices.js';
import { setupService } from '../helpers/service.js';

const BRANCH = 'org.example.fork';

function folder(root: string, name: string, text: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README'), text);
  return dir;
}

describe('a branch with a second head', () => {
  it('is told by the sync that brought the concurrent version, once', async () => {
    const server = setupService();
    const client = setupService();
    try {
      await server.service.openDatabase();
      await server.service.generateKey('srv@example.org');
      await server.service.setPermissions('read * *\nwrite * *\n');
      const started = await server.service.startServer({ bind: '127.0.0.1:0', patterns: [] });
      if (!started.ok) throw new Error(started.error.message);
      expect((await server.service.commitFolder(folder(server.dir, 'theirs', 'theirs\n'), BRANCH, 'on the server')).ok).toBe(true);

      await client.service.openDatabase();
      await client.service.generateKey('bob@example.org');
      expect((await client.service.commitFolder(folder(client.dir, 'mine', 'mine\n'), BRANCH, 'here')).ok).toBe(true);
      const address = `127.0.0.1:${started.value.port}`;
      const identity = started.value.identity;
      if (!identity) throw new Error('the server has no identity');
      await client.service.trustServer(address, identity.fingerprint);
      const peer = await client.service.addPeer({ name: 'srv', address });
      if (!peer.ok) throw new Error(peer.error.message);

      const synced = await client.service.sync(peer.value.id);
      expect(synced.ok).toBe(true);
      const told = client.events.filter((e) => e.type === 'branch-heads');
      expect(told).toEqual([{ type: 'branch-heads', peerId: peer.value.id, branch: BRANCH, heads: 2 }]);
      const log = await client.service.log(BRANCH);
      expect(log.ok && log.value.map((e) => e.changelog).sort()).toEqual(['here', 'on the server']);

      const triggers = new NoticeTriggers(() => 'srv');
      const notices = told.flatMap((e) => triggers.next(e));
      expect(notices).toEqual([expect.objectContaining({ kind: 'heads', title: `${BRANCH} has 2 heads` })]);
      // Told once: the same state again says nothing; joined (one head), a later fork is told again.
      expect(triggers.next(told[0]!)).toEqual([]);
      expect(triggers.next({ type: 'branch-heads', peerId: peer.value.id, branch: BRANCH, heads: 1 })).toEqual([]);
      expect(triggers.next(told[0]!)).toHaveLength(1);
    } finally {
      await client.service.dispose();
      await server.service.dispose();
    }
  });
});
