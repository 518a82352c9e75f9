/**
 * The persistent trie must answer reconciliation exactly as an in-memory trie
 * of the same set does, for every node, including nodes below a stored leaf
 * (reconciliation compares two levels at once). A mismatch here once made a
 * small push silently send nothing.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { MemoryTree } from '../helpers/memory-tree.js';
import { Reconciler } from '../../src/engine/recon/reconciler.js';
import type { ReconTree } from '../../src/engine/recon/tree.js';
import { EMPTY_TREE, sessionKey } from '../../src/engine/protocol/slots.js';
import { buildHistory } from '../helpers/net.js';
import { newStoreWithKey } from '../helpers/store.js';

function reconcile(initiator: ReconTree, responder: ReconTree): { have: number; need: number }[] {
  const key = sessionKey(randomBytes(16));
  const sides = [
    new Reconciler({ role: 'initiator', slots: [initiator], sessionKey: key }),
    new Reconciler({ role: 'responder', slots: [responder], sessionKey: key }),
  ];
  const out = [
    { have: 0, need: 0 },
    { have: 0, need: 0 },
  ];
  let msg: Buffer | null = sides[0]!.initiate();
  for (let turn = 1; msg && turn < 40; turn++) {
    const r = sides[turn % 2]!.step(msg);
    out[turn % 2]!.have += r.have.length;
    out[turn % 2]!.need += r.need.length;
    msg = r.reply;
  }
  return out;
}

describe('TrieReader answers like a MemoryTree of the same set', () => {
  for (const [serverCommits, clientCommits] of [
    [3, 1],
    [1, 3],
    [6, 2],
    [0, 4],
  ] as const) {
    it(`histories of ${serverCommits} and ${clientCommits} commits`, () => {
      const s = newStoreWithKey();
      const c = newStoreWithKey();
      if (serverCommits) buildHistory(s.store, s.signer, 'a.x', { commits: serverCommits, seed: 1 });
      if (clientCommits) buildHistory(c.store, c.signer, 'a.x', { commits: clientCommits, seed: 12 });
      const stored = (st: typeof s.store) => {
        const bid = st.branchId('a.x');
        return bid === null ? EMPTY_TREE : st.trie(bid);
      };
      const ids = (st: typeof s.store) => {
        const bid = st.branchId('a.x');
        return bid === null ? [] : [...st.members(bid)];
      };
      const [ts, tc] = [stored(s.store), stored(c.store)];
      const [ms, mc] = [new MemoryTree(ids(s.store)), new MemoryTree(ids(c.store))];
      for (const [t, m] of [
        [ts, ms],
        [tc, mc],
      ] as const) {
        for (let depth = 0; depth <= 3; depth++) {
          for (let prefix = 0; prefix < 16 ** depth; prefix++) {
            const a = t.node(depth, prefix);
            const b = m.node(depth, prefix);
            expect({ depth, prefix, count: a.count, hash: a.hash.toString('hex') }).toEqual({ depth, prefix, count: b.count, hash: b.hash.toString('hex') });
            expect(t.idBlock(depth, prefix).equals(m.idBlock(depth, prefix))).toBe(true);
            if (depth > 1) continue;
            // What one fingerprint record reads in one go, also across stored leaves.
            for (const span of [1, 2]) {
              const hex = (nodes: { count: number; hash: Buffer }[]) => nodes.map((n) => `${n.count}:${n.hash.toString('hex')}`);
              expect(hex(t.nodesBelow(depth, prefix, span))).toEqual(hex(m.nodesBelow(depth, prefix, span)));
            }
          }
        }
      }
      const onlyServer = ids(s.store).filter((x) => !ids(c.store).some((y) => y.equals(x))).length;
      const onlyClient = ids(c.store).filter((x) => !ids(s.store).some((y) => y.equals(x))).length;
      const [ci, sr] = reconcile(tc, ts);
      expect(ci!.have + sr!.need).toBe(onlyClient);
      expect(sr!.have + ci!.need).toBe(onlyServer);
    });
  }
});
