/**
 * A server that grants a key nothing is never success: the service names the
 * include patterns that selected nothing on either side of a session (until
 * the engine reports them itself, protocol version 4), says who the session
 * was, and remembers both with the peer.
 */
import { describe, expect, it } from 'vitest';
import { unmatchedPatterns } from '../../src/engine/service/unmatched.js';
import type { SessionSummary } from '../../src/shared/sync.js';
import { emptySide, setupService, summary } from '../helpers/service.js';

const peer = { include: ['org.example.notes', 'org.example.*'], exclude: ['org.example.secret*'] };
const base = summary({ db: '', host: '', port: 0, patterns: [], direction: 'sync', dryRun: true });
const withGroups = (branches: string[]): SessionSummary => ({
  ...base,
  weLack: { ...emptySide, groups: branches.map((branch) => ({ branch, kind: 'file' as const, count: 1, bytes: 1 })) },
});

describe('unmatched patterns, found by the service', () => {
  it('are the include patterns no branch here, listed by the server or refused by it matches', () => {
    expect(unmatchedPatterns(peer, base, [])).toEqual(['org.example.notes', 'org.example.*']);
    expect(unmatchedPatterns(peer, base, ['org.example.web'])).toEqual(['org.example.notes']);
    expect(unmatchedPatterns(peer, withGroups(['org.example.notes']), [])).toEqual([]);
    // A refused branch is said as refused, not again as a pattern that matched nothing.
    expect(unmatchedPatterns(peer, { ...base, refused: [{ branch: 'org.example.notes', reason: 'no-permission' }] }, [])).toEqual([]);
    // An excluded branch is no match: what is left out is not what was asked for.
    expect(unmatchedPatterns({ include: ['org.example.*'], exclude: ['org.example.secret*'] }, base, ['org.example.secret'])).toEqual(['org.example.*']);
  });

  it("take the engine's own list when it gives one", () => {
    expect(unmatchedPatterns(peer, { ...base, unmatchedPatterns: ['org.example.*'] }, [])).toEqual(['org.example.*']);
    expect(unmatchedPatterns(peer, { ...base, unmatchedPatterns: [] }, [])).toEqual([]);
  });

  it('reach the summary and the remembered last session, with who the session was', async () => {
    const { service } = setupService({ runClientSession: async (opts) => summary(opts) });
    await service.openDatabase();
    const added = await service.addPeer({ name: 'lab', address: '127.0.0.1:9' });
    if (!added.ok) throw new Error(added.error.message);
    await service.updatePeer(added.value.id, { include: ['org.example.notes'] });
    const r = await service.sync(added.value.id);
    expect(r).toMatchObject({ ok: true, value: { unmatchedPatterns: ['org.example.notes'], identity: { kind: 'anonymous' } } });
    const peers = await service.listPeers();
    expect(peers.ok && peers.value[0]!.last).toMatchObject({ unmatchedPatterns: ['org.example.notes'], identity: { kind: 'anonymous' } });
  });
});
