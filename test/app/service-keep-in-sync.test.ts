/**
 * "Keep in sync" through the service, over a fake engine: the mark is kept
 * in the peer book (a restarted app keeps syncing), a kept peer is synced
 * with no call, only while a database is open, the status and events say
 * where each kept peer stands, and pause, resume and "sync all now" work.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ClientOptions } from '../../src/engine/protocol/api.js';
import { NetsyncService } from '../../src/engine/service/service.js';
import { waitUntil } from '../helpers/net.js';
import { setupService, summary } from '../helpers/service.js';

const FAST = { intervalMs: 200, backoffFirstMs: 50, backoffMaxMs: 100, changeDelayMs: 10 };

function engine(fail: () => boolean = () => false) {
  const sessions: ClientOptions[] = [];
  return {
    sessions,
    runClientSession: async (o: ClientOptions) => {
      sessions.push(o);
      if (fail()) throw Object.assign(new Error(`connect ECONNREFUSED ${o.host}:${o.port}`), { code: 'ECONNREFUSED' });
      return summary(o);
    },
  };
}

describe('keep in sync (service)', () => {
  it('remembers the mark, syncs a kept peer by itself on its interval, and a restarted service goes on', async () => {
    const fake = engine();
    const { service, configDir, dir, events } = setupService({ runClientSession: fake.runClientSession }, { autoSync: FAST });
    const peer = await service.addPeer({ name: 'p', address: '127.0.0.1:1' });
    if (!peer.ok) throw new Error(peer.error.message);
    const other = await service.addPeer({ name: 'q', address: '127.0.0.1:2' });
    if (!other.ok) throw new Error(other.error.message);
    const marked = await service.updatePeer(peer.value.id, { keepInSync: true, intervalSeconds: 30 });
    expect(marked).toMatchObject({ ok: true, value: { keepInSync: true, intervalSeconds: 30 } });
    // No database yet: nothing to sync from.
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.sessions).toHaveLength(0);

    await service.openDatabase();
    expect(await waitUntil(() => fake.sessions.length === 1, 5_000)).toBe(true);
    expect(fake.sessions[0]).toMatchObject({ port: 1, direction: 'sync', dryRun: false });
    // The window can tell it from a click (Transfers says "automatic").
    expect(events.find((e) => e.type === 'session-started')).toMatchObject({ session: { peerId: peer.value.id, auto: true } });
    await service.sync(other.value.id);
    expect(events.filter((e) => e.type === 'session-started').at(-1)).not.toHaveProperty('session.auto');
    const status = await service.getStatus();
    expect(status.ok && status.value.autoSync.peers).toEqual([expect.objectContaining({ peerId: peer.value.id, failures: 0 })]);
    expect(events.some((e) => e.type === 'auto-sync' && e.status.peers.some((p) => p.lastOkAt))).toBe(true);
    await service.dispose();

    // The mark is in peers.json: another run of the app keeps the peer in sync without being told.
    const again = new NetsyncService({ configDir, defaultDatabase: `${dir}/data/a.db`, engine: { runClientSession: fake.runClientSession }, autoSync: FAST });
    try {
      const peers = await again.listPeers();
      expect(peers.ok && peers.value.find((p) => p.id === peer.value.id)).toMatchObject({ keepInSync: true, intervalSeconds: 30 });
      await again.openDatabase();
      expect(await waitUntil(() => fake.sessions.length === 3, 5_000)).toBe(true);
      // Unmarked: no further session.
      await again.updatePeer(peer.value.id, { keepInSync: false });
      const st = await again.getStatus();
      expect(st.ok && st.value.autoSync.peers).toEqual([]);
      // "Sync all now" syncs every peer, kept or not.
      await again.syncAllNow();
      expect(await waitUntil(() => fake.sessions.length === 5, 5_000)).toBe(true);
      expect(
        fake.sessions
          .slice(3)
          .map((s) => s.port)
          .sort(),
      ).toEqual([1, 2]);
    } finally {
      await again.dispose();
    }
  });

  it('backs off while the peer is unreachable, says why, and pauses and resumes', async () => {
    let down = true;
    const fake = engine(() => down);
    const { service } = setupService({ runClientSession: fake.runClientSession }, { autoSync: FAST });
    try {
      await service.openDatabase();
      const peer = await service.addPeer({ name: 'p', address: '127.0.0.1:1' });
      if (!peer.ok) throw new Error(peer.error.message);
      await service.updatePeer(peer.value.id, { keepInSync: true });
      const kept = async () => {
        const s = await service.getStatus();
        return s.ok ? s.value.autoSync : null;
      };
      expect(await waitUntil(() => fake.sessions.length >= 3, 5_000)).toBe(true);
      expect((await kept())?.peers[0]).toMatchObject({ state: 'backing-off', lastError: { code: 'unreachable' } });

      const paused = await service.setAutoSyncPaused(true);
      expect(paused).toMatchObject({ ok: true, value: { paused: true } });
      await new Promise((r) => setTimeout(r, 50));
      const before = fake.sessions.length;
      await new Promise((r) => setTimeout(r, 400));
      expect(fake.sessions.length).toBe(before);

      down = false;
      await service.setAutoSyncPaused(false);
      expect(await waitUntil(() => fake.sessions.length > before, 5_000)).toBe(true);
      await vi.waitFor(async () => expect(await kept()).toMatchObject({ paused: false, peers: [{ failures: 0 }] }), { timeout: 2_000 });
    } finally {
      await service.dispose();
    }
  });
});
