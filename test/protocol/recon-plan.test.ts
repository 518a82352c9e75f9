/**
 * RECON_PLAN (docs/PROTOCOL.md §3, docs/protocol-recon.md §8): a side whose
 * reply holds IBLTs announces them first, so the peer builds its own tables
 * while the sender builds these. In a real session the plan goes out before
 * the RECON it announces and names exactly its IBLTs; the outcome is the
 * union as always.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/engine/protocol/api.js';
import { Connection } from '../../src/engine/protocol/connection.js';
import { FrameType, type Message } from '../../src/engine/protocol/frames.js';
import { RecordType, decodeReconMessage } from '../../src/engine/recon/messages.js';
import { aliceSigner, memberIds, newDbPath, testClient, testServer, withStore } from '../helpers/net.js';
import { copyDb, putRevisions, range } from '../reliability/helpers.js';

const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

/** Every frame sent by every connection of this process while `fn` runs. */
async function recordFrames(fn: () => Promise<unknown>): Promise<{ conn: Connection; m: Message }[]> {
  const sent: { conn: Connection; m: Message }[] = [];
  const original = Connection.prototype.send;
  Connection.prototype.send = function (this: Connection, m: Message) {
    sent.push({ conn: this, m });
    return original.call(this, m);
  };
  try {
    await fn();
  } finally {
    Connection.prototype.send = original;
  }
  return sent;
}

describe('RECON_PLAN in a live session', () => {
  it('announces the IBLTs of the next RECON before it, and the sync reaches the union', async () => {
    const clientDb = newDbPath('netsync-plan-c-');
    withStore(clientDb, (s) => putRevisions(s, aliceSigner(), 'org.example.plan', range(0, 60), 200, 16, 7));
    const serverDb = newDbPath('netsync-plan-s-');
    copyDb(clientDb, serverDb);
    // ~60 more items on the server only, spread over the trie: IBLT-sized differences.
    withStore(serverDb, (s) => putRevisions(s, aliceSigner(), 'org.example.plan', range(60, 63), 16, 16, 7));
    const server = await testServer(serverDb);
    servers.push(server);

    let summary: Awaited<ReturnType<typeof testClient>> | undefined;
    const sent = await recordFrames(async () => {
      summary = await testClient({ db: clientDb, port: server.port, patterns: ['org.example.*'] });
    });

    const plans = sent.filter((f) => f.m.type === FrameType.ReconPlan);
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) {
      // The next RECON of the same connection holds exactly the announced IBLTs.
      const after = sent.slice(sent.indexOf(plan) + 1).find((f) => f.conn === plan.conn && f.m.type === FrameType.Recon)!;
      expect(after).toBeDefined();
      const announced = decodeReconMessage((plan.m as Extract<Message, { type: FrameType.ReconPlan }>).payload);
      const iblts = decodeReconMessage((after.m as Extract<Message, { type: FrameType.Recon }>).payload).filter((r) => r.type === RecordType.Iblt);
      expect(announced.map((r) => r.type === RecordType.Plan && [r.slot, r.depth, r.attempt, r.prefixes, r.cells])).toEqual(
        iblts.map((r) => r.type === RecordType.Iblt && [r.slot, r.depth, r.attempt, r.prefixes, r.cells.counts.length]),
      );
    }
    // The plans are not requests: the session still took at most 3 round trips.
    expect(summary!.roundTrips).toBeLessThanOrEqual(3);
    expect(summary!.converged).toBe(true);
    const want = withStore(serverDb, (s) => memberIds(s, 'org.example.plan'));
    expect(withStore(clientDb, (s) => memberIds(s, 'org.example.plan'))).toEqual(want);
  });
});
