import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryTree } from '../helpers/memory-tree.js';
import { type PlanRecord, RecordType, decodeReconMessage, encodeReconMessage } from '../../src/engine/recon/messages.js';
import { Reconciler, estimateDiffs, fpWidthFor, type ReconPolicy } from '../../src/engine/recon/reconciler.js';
import { makeIds, makePair, mulberry32, simulate, simulateTrees, verify, type SimOptions, type SimResult } from '../helpers/recon-sim.js';

/** Runs a session and checks its outcome against the brute-force difference. */
function run(a: Buffer[] | Buffer[][], b: Buffer[] | Buffer[][], opts: SimOptions = {}): SimResult {
  const res = simulate(a, b, opts);
  expect(verify(res, a, b)).toEqual([]);
  for (const x of [...res.aHave, ...res.bHave]) expect(x.id.length).toBe(32);
  for (const x of [...res.aNeed, ...res.bNeed]) expect(x.short.length).toBe(8);
  return res;
}

function runPair(label: string, shared: number, onlyA: number, onlyB: number, opts: SimOptions = {}): SimResult {
  const { a, b } = makePair(label, shared, onlyA, onlyB);
  return run(a, b, opts);
}

describe('reconciliation outcome', () => {
  const cases: [string, number, number, number][] = [
    ['empty/empty', 0, 0, 0],
    ['equal 1', 1, 0, 0],
    ['equal 16', 16, 0, 0],
    ['equal 17', 17, 0, 0],
    ['equal 5000', 5000, 0, 0],
    ['disjoint small', 0, 10, 10],
    ['disjoint', 0, 300, 700],
    ['disjoint larger', 0, 4000, 3000],
    ['one vs none', 0, 1, 0],
    ['none vs one', 0, 0, 1],
    ['one apart at 1', 1, 1, 0],
    ['one apart at 16', 16, 1, 0],
    ['one apart at 16, other way', 16, 0, 1],
    ['one apart at 1000', 1000, 1, 0],
    ['one apart at 1000, other way', 1000, 0, 1],
    ['one apart at 50000', 50_000, 0, 1],
    ['initiator empty', 0, 0, 5000],
    ['responder empty', 0, 5000, 0],
    ['responder empty, small', 0, 17, 0],
    ['small overlap', 20, 15, 15],
    ['large overlap, d=10', 20_000, 5, 5],
    ['large overlap, d=100', 20_000, 50, 50],
    ['large overlap, d=1000', 20_000, 500, 500],
    ['large overlap, d=10000', 20_000, 5000, 5000],
    ['superset, d=10000', 20_000, 10_000, 0],
    ['subset, d=100', 20_000, 0, 100],
  ];
  for (const [label, shared, onlyA, onlyB] of cases) {
    it(`${label} (${shared} shared, +${onlyA}/+${onlyB})`, () => {
      const res = runPair(label, shared, onlyA, onlyB);
      expect(res.hops).toBeLessThanOrEqual(8);
      if (onlyA + onlyB === 0) expect(res.rounds).toBe(1);
    });
  }

  for (const d of [1, 10, 100, 1000, 10_000]) {
    it(`d=${d} one way and both ways in 20000`, () => {
      for (const [onlyA, onlyB] of [
        [d, 0],
        [0, d],
        [Math.ceil(d / 2), Math.floor(d / 2)],
      ] as const) {
        const res = runPair(`d${d}`, 20_000, onlyA, onlyB);
        expect(res.hops).toBeLessThanOrEqual(d <= 100 ? 6 : 8);
      }
    });
  }

  it('handles 100k-id sets', () => {
    runPair('100k-both', 100_000, 500, 500);
    const res = runPair('100k-one', 100_000, 0, 1000);
    expect(res.rounds).toBeLessThanOrEqual(3);
  });

  it('reconciles several slots at once, each in its own situation', () => {
    const p = makePair('slots', 5000, 20, 30);
    const same = makeIds(1000, 'slot-same');
    const only = makeIds(300, 'slot-only');
    const near = makeIds(17, 'slot-near');
    const a = [same, [], only, [], p.a, near, makeIds(40, 'slot-a')];
    const b = [same, only, [], [], p.b, near.slice(1), makeIds(40, 'slot-b')];
    const res = run(a, b);
    expect(res.rounds).toBeLessThanOrEqual(3);
    // Nothing is reported for the equal and the empty slots.
    const slotsSeen = new Set([...res.aHave, ...res.bHave, ...res.aNeed, ...res.bNeed].map((x) => x.slot));
    expect([...slotsSeen].sort()).toEqual([1, 2, 4, 5, 6]);
  });

  it('reports each difference once, on the side that can act on it', () => {
    const res = runPair('once', 3000, 4, 6);
    const reported = res.aHave.length + res.bHave.length + res.aNeed.length + res.bNeed.length;
    expect(reported).toBe(10);
  });
});

describe('fallbacks', () => {
  it('recovers from IBLT peeling failures by retrying, then descending', () => {
    for (const [shared, onlyA, onlyB] of [
      [20_000, 100, 100],
      [3000, 40, 0],
      [50_000, 1500, 1500],
    ] as const) {
      const res = runPair('tiny-iblt', shared, onlyA, onlyB, { policy: { ibltScale: 0.25 } });
      expect(res.hops).toBeGreaterThan(4);
    }
  });

  it('descends through nodes too large to enumerate', () => {
    const res = runPair('size-descent', 50_000, 50, 50, { policy: { maxIbltNodeIds: 40 } });
    expect(res.rounds).toBeLessThanOrEqual(3);
    // Limits so low that nodes are descended two levels at once, and again deeper.
    runPair('deep-descent', 50_000, 50, 50, { policy: { maxIbltNodeIds: 8, maxIbltNodeIdsDeep: 8 } });
    runPair('enum-cap', 20_000, 200, 200, { responderPolicy: { maxEnumerate: 300 } });
  });

  it('interoperates across different local policies', () => {
    const policies: Partial<ReconPolicy>[] = [
      { fpBytes: 3, fpBytesHeavy: 8 },
      { rootSpan2Min: 10, estimateZ: 0 },
      { maxIbltNodeIds: 16, ibltScale: 0.5 },
      { rootSpan2Min: 1e9, estimateZ: 3 },
    ];
    for (const policy of policies) {
      for (const responderPolicy of policies) {
        runPair('mixed', 4000, 30, 70, { policy, responderPolicy });
      }
    }
  });

  it('survives random situations and policies (seeded)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = mulberry32(seed);
      const pick = (xs: number[]): number => xs[Math.floor(rnd() * xs.length)]!;
      const shared = Math.floor(rnd() * pick([10, 100, 3000, 8000]));
      const onlyA = Math.floor(rnd() * pick([2, 20, 200, 2000]));
      const onlyB = Math.floor(rnd() * pick([2, 20, 200, 2000]));
      const policy: Partial<ReconPolicy> = {
        fpBytes: pick([3, 4, 5]),
        maxIbltNodeIds: pick([20, 200, 8192]),
        maxIbltNodeIdsDeep: pick([20, 8192]),
        ibltScale: pick([1, 1, 0.5, 0.2]),
        rootSpan2Min: pick([100, 4096]),
      };
      const plans = seed % 2 === 0; // half the runs answer IBLTs from tables built ahead (§8)
      const res = runPair(`fuzz${seed}`, shared, onlyA, onlyB, { policy, plans, sessionKey: createHash('sha256').update(`k${seed}`).digest() });
      expect(res.hops).toBeLessThanOrEqual(40);
      if (!plans) expect(res.planBytes).toBe(0);
    }
  });
});

/** A tree that counts the ids it reads. */
class CountingTree extends MemoryTree {
  idsRead = 0;
  override idBlock(depth: number, prefix: number): Buffer {
    const block = super.idBlock(depth, prefix);
    this.idsRead += block.length / 32;
    return block;
  }
}

describe('plans (IBLTs built by both sides at once)', () => {
  const key = createHash('sha256').update('plans').digest();
  const { a, b } = makePair('plans', 30_000, 0, 100);

  /** Runs a session up to the first reply holding IBLTs; returns its sender's pending step and the receiving side. */
  function toFirstPlan(policy: Partial<ReconPolicy> = {}) {
    const trees = [new CountingTree(a), new CountingTree(b)];
    const sides = [
      new Reconciler({ role: 'initiator', slots: [trees[0]!], sessionKey: key, policy }),
      new Reconciler({ role: 'responder', slots: [trees[1]!], sessionKey: key, policy }),
    ];
    let msg = sides[0]!.initiate();
    for (let to = 1; ; to = 1 - to) {
      const pending = sides[to]!.begin(msg);
      if (pending.plan) return { pending, receiver: sides[1 - to]!, tree: trees[1 - to]! };
      msg = pending.finish().reply!;
    }
  }

  it('announces the reply IBLTs, and the peer answers from the tables it built ahead, reading no id again', () => {
    const { pending, receiver, tree } = toFirstPlan();
    const before = tree.idsRead;
    receiver.hint(pending.plan!);
    const readAhead = tree.idsRead;
    expect(readAhead - before).toBeGreaterThan(1000); // the ids under the announced nodes
    const out = receiver.step(pending.finish().reply!);
    expect(tree.idsRead).toBe(readAhead); // the IBLT record was answered from the prebuilt table
    expect(out.have.length + out.need.length).toBe(100);
  });

  it('gives the same outcome with or without plans, and plans cost a few bytes per IBLT', () => {
    const withPlans = run(a, b, { sessionKey: key });
    const without = run(a, b, { sessionKey: key, plans: false });
    expect(withPlans.sizes).toEqual(without.sizes);
    expect(withPlans.planBytes).toBeGreaterThan(0);
    expect(withPlans.planBytes).toBeLessThan(300);
    expect(withPlans.bytes).toBe(without.bytes + withPlans.planBytes);
  });

  it('ignores a plan that does not match the message that follows (the result is still exact)', () => {
    const { pending, receiver, tree } = toFirstPlan();
    // A plan for a bigger table: built, never matched, so the IBLT is answered from fresh reads.
    const [first] = decodeReconMessage(pending.plan!) as PlanRecord[];
    receiver.hint(encodeReconMessage([{ ...first!, cells: first!.cells + 4 }]));
    const before = tree.idsRead;
    const out = receiver.step(pending.finish().reply!);
    expect(tree.idsRead).toBeGreaterThan(before);
    expect(out.have.length + out.need.length).toBe(100);
  });

  it('holds at most the enumeration limit of ids for one plan, however many IBLTs it announces', () => {
    const { pending, receiver, tree } = toFirstPlan();
    const [first] = decodeReconMessage(pending.plan!) as PlanRecord[];
    const perTable = tree.idsRead;
    receiver.hint(encodeReconMessage([first!]));
    const oneTable = tree.idsRead - perTable;
    expect(oneTable).toBeGreaterThan(1000);
    // The same IBLT announced 40 times (with other cell counts) to a side whose limit is three tables' ids:
    // three are built, the rest left for when (if ever) they arrive.
    const fresh = toFirstPlan({ maxEnumerate: 3 * oneTable + 1 });
    const before = fresh.tree.idsRead;
    fresh.receiver.hint(encodeReconMessage(Array.from({ length: 40 }, (_, i) => ({ ...first!, cells: 4 * (i + 1) }))));
    expect(fresh.tree.idsRead - before).toBe(3 * oneTable);
  });

  it('refuses plans out of turn, twice for one message, or holding other records', () => {
    const { receiver, pending } = toFirstPlan();
    const plan = pending.plan!;
    // Before the session has begun on either side.
    expect(() => new Reconciler({ role: 'responder', slots: [new MemoryTree(b)], sessionKey: key }).hint(plan)).toThrow(/unexpected plan/);
    expect(() => new Reconciler({ role: 'initiator', slots: [new MemoryTree(a)], sessionKey: key }).hint(plan)).toThrow(/unexpected plan/);
    receiver.hint(plan);
    expect(() => receiver.hint(plan)).toThrow(/second plan/);
    const empty = { type: RecordType.Empty, slot: 0, depth: 0, prefix: 0, span: 0, marked: null } as const;
    expect(() => toFirstPlan().receiver.hint(encodeReconMessage([empty]))).toThrow(/plan records only/);
    expect(() => toFirstPlan().receiver.hint(encodeReconMessage([]))).toThrow(/plan records only/);
    // A plan record inside a reconciliation message is refused too.
    expect(() => toFirstPlan().receiver.step(plan)).toThrow(/only allowed in a plan message/);
  });
});

describe('slots sent whole', () => {
  it('lists nothing as have in a slot the initiator sends whole, and the other slots as before', () => {
    const mine = [makeIds(3000, 'whole-0'), makeIds(500, 'whole-1')];
    const plain = simulate(mine, [[], []]);
    expect(verify(plain, mine, [[], []])).toEqual([]);
    const whole = simulate(mine, [[], []], { initiatorSendsWhole: [0] });
    expect(whole.aHave.filter((h) => h.slot === 0)).toEqual([]);
    expect(
      whole.aHave
        .filter((h) => h.slot === 1)
        .map((h) => h.id.toString('hex'))
        .sort(),
    ).toEqual(mine[1]!.map((id) => id.toString('hex')).sort());
    expect(whole.bNeed).toEqual([]);
    expect(whole.rounds).toBe(plain.rounds);
  });
});

describe('termination', () => {
  it('ends with a null reply and both sides done', () => {
    const { a, b } = makePair('term', 2000, 3, 3);
    const key = Buffer.alloc(32, 1);
    const init = new Reconciler({ role: 'initiator', slots: [new MemoryTree(a)], sessionKey: key });
    const resp = new Reconciler({ role: 'responder', slots: [new MemoryTree(b)], sessionKey: key });
    expect(init.done).toBe(false);
    expect(resp.done).toBe(false);
    let msg: Buffer | null = init.initiate();
    const sides = [init, resp];
    let to = 1;
    let hops = 0;
    while (msg) {
      hops++;
      msg = sides[to]!.step(msg).reply;
      to = 1 - to;
    }
    expect(hops).toBeGreaterThanOrEqual(2);
    expect(init.done && resp.done).toBe(true);
  });

  it('is done at once with no slots', () => {
    const res = simulateTrees([], []);
    expect(res.hops).toBe(1);
    expect(res.bytes).toBe(2);
  });
});

describe('fingerprint width', () => {
  it('widens with the expected number of differing nodes', () => {
    expect(fpWidthFor(1, 3)).toBe(3);
    expect(fpWidthFor(200, 3)).toBe(3);
    expect(fpWidthFor(300, 3)).toBe(4);
    expect(fpWidthFor(65_536, 3)).toBe(4);
    expect(fpWidthFor(100_000, 3)).toBe(5);
    expect(fpWidthFor(1, 5)).toBe(5);
  });
});

describe('difference estimate', () => {
  it('follows the mismatched fraction and saturates without equal siblings', () => {
    expect(estimateDiffs(256, 0, 1)).toEqual({ saturated: false, perNode: 0 });
    const e = estimateDiffs(256, 83, 0);
    expect(e.saturated).toBe(false);
    expect(e.perNode * 83).toBeGreaterThan(95);
    expect(e.perNode * 83).toBeLessThan(110);
    expect(estimateDiffs(256, 255, 1).saturated).toBe(true);
    expect(estimateDiffs(16, 15, 1).saturated).toBe(true);
  });
});

describe('cost (200k ids)', () => {
  const N = 200_000;
  let shared: Buffer[];
  let base: MemoryTree;
  beforeAll(() => {
    shared = makeIds(N, 'cost');
    base = new MemoryTree(shared);
  });

  it('checks an up-to-date set in one round trip and under 200 bytes', () => {
    const res = simulateTrees([base], [new MemoryTree(shared)]);
    expect(res.rounds).toBe(1);
    expect(res.bytes).toBeLessThan(200);
    expect(res.aHave.length + res.bHave.length + res.aNeed.length + res.bNeed.length).toBe(0);
  });

  it('finds d=100 (both ways) in at most 3 round trips and under 12 KB', () => {
    const a = shared.concat(makeIds(50, 'cost-a'));
    const b = shared.concat(makeIds(50, 'cost-b'));
    const ta = new MemoryTree(a);
    const tb = new MemoryTree(b);
    for (let k = 0; k < 4; k++) {
      const res = simulateTrees([ta], [tb], { sessionKey: createHash('sha256').update(`cost${k}`).digest() });
      expect(verify(res, a, b)).toEqual([]);
      expect(res.rounds).toBeLessThanOrEqual(3);
      expect(res.bytes).toBeLessThan(12_000);
    }
  });

  it('finds one missing id cheaply', () => {
    const res = simulateTrees([base], [new MemoryTree(shared.slice(1))]);
    // 781-id depth-2 nodes exceed the default 512-id IBLT limit: one descent.
    expect(res.rounds).toBeLessThanOrEqual(3);
    expect(res.bytes).toBeLessThan(1500);
    // Reported once: as "have" by the initiator, or as "need" by the responder.
    const found = [...res.aHave.map((x) => x.id.subarray(0, 8)), ...res.bNeed.map((x) => x.short)];
    expect(found).toEqual([shared[0]!.subarray(0, 8)]);
  });
});
