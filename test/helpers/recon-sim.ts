/**
 * Runs both sides of a reconciliation in memory, for tests and benchmarks:
 * messages go back and forth until both sides are done, and every byte is
 * counted from the real encoded messages.
 */
import { createHash } from 'node:crypto';
import { MemoryTree } from './memory-tree.js';
import { Reconciler, type ReconPolicy, type SlotId, type SlotShort } from '../../src/engine/recon/reconciler.js';
import type { ReconTree } from '../../src/engine/recon/tree.js';

export interface SimOptions {
  sessionKey?: Buffer;
  /** Policy of both sides; `responderPolicy` overrides it on the responder. */
  policy?: Partial<ReconPolicy>;
  responderPolicy?: Partial<ReconPolicy>;
  /** Abort (throw) after this many messages; default 64. */
  maxHops?: number;
  /** Send each reply's plan ahead of it, as the session layer does (default true). */
  plans?: boolean;
  /** Slots the initiator sends whole (Reconciler.sendsWhole): its `have` lists nothing there. */
  initiatorSendsWhole?: number[];
}

export interface SimResult {
  /** Round trips: ceil(hops / 2). */
  rounds: number;
  /** Messages sent, the initiator's first included. */
  hops: number;
  /** Sum of all message sizes, plans included. */
  bytes: number;
  /** Of which plans (docs/protocol-recon.md §8). */
  planBytes: number;
  /** Messages until the last difference was reported (<= hops). */
  knownAfter: number;
  sizes: number[];
  aHave: SlotId[];
  bHave: SlotId[];
  aNeed: SlotShort[];
  bNeed: SlotShort[];
}

type Sets = Buffer[] | Buffer[][];

function asSlots(sets: Sets): Buffer[][] {
  return sets.length > 0 && Array.isArray(sets[0]) ? (sets as Buffer[][]) : [sets as Buffer[]];
}

/** `a` is the initiator. Each side is one set, or a list of sets (slots). */
export function simulate(a: Sets, b: Sets, opts: SimOptions = {}): SimResult {
  return simulateTrees(
    asSlots(a).map((s) => new MemoryTree(s)),
    asSlots(b).map((s) => new MemoryTree(s)),
    opts,
  );
}

export function simulateTrees(a: ReconTree[], b: ReconTree[], opts: SimOptions = {}): SimResult {
  const sessionKey = opts.sessionKey ?? createHash('sha256').update('simulate').digest();
  const maxHops = opts.maxHops ?? 64;
  const sides = [
    new Reconciler({ role: 'initiator', slots: a, sessionKey, policy: opts.policy }),
    new Reconciler({ role: 'responder', slots: b, sessionKey, policy: { ...opts.policy, ...opts.responderPolicy } }),
  ] as const;
  for (const slot of opts.initiatorSendsWhole ?? []) sides[0].sendsWhole(slot);
  const res: SimResult = { rounds: 0, hops: 0, bytes: 0, planBytes: 0, knownAfter: 0, sizes: [], aHave: [], bHave: [], aNeed: [], bNeed: [] };
  let msg: Buffer | null = sides[0].initiate();
  let to = 1;
  while (msg) {
    if (++res.hops > maxHops) throw new Error(`reconciliation did not end within ${maxHops} messages`);
    res.bytes += msg.length;
    res.sizes.push(msg.length);
    const pending = sides[to]!.begin(msg);
    if (pending.plan && opts.plans !== false) {
      res.bytes += pending.plan.length;
      res.planBytes += pending.plan.length;
      sides[1 - to]!.hint(pending.plan);
    }
    const out = pending.finish();
    if (out.have.length + out.need.length > 0) res.knownAfter = res.hops;
    (to === 0 ? res.aHave : res.bHave).push(...out.have);
    (to === 0 ? res.aNeed : res.bNeed).push(...out.need);
    msg = out.reply;
    to = 1 - to;
  }
  if (!sides[0].done || !sides[1].done) throw new Error('exchange ended with a side not done');
  res.rounds = Math.ceil(res.hops / 2);
  return res;
}

/** `count` distinct ids: SHA-256 of a label and a counter. */
export function makeIds(count: number, label: string, start = 0): Buffer[] {
  const out: Buffer[] = [];
  for (let i = start; i < start + count; i++) out.push(createHash('sha256').update(`${label}:${i}`).digest());
  return out;
}

/**
 * Problems with a run's outcome, slot by slot, against the brute-force set
 * difference: every id of A\B must be in aHave or have its short in bNeed,
 * exactly once, nothing else may be reported (and symmetrically). Empty when
 * the outcome is exact.
 */
export function verify(res: SimResult, a: Sets, b: Sets): string[] {
  const as = asSlots(a);
  const bs = asSlots(b);
  const problems: string[] = [];
  const slots = Math.max(as.length, bs.length);
  for (let slot = 0; slot < slots; slot++) {
    const A = as[slot] ?? [];
    const B = bs[slot] ?? [];
    problems.push(...verifySide(slot, 'A', A, B, res.aHave, res.bNeed));
    problems.push(...verifySide(slot, 'B', B, A, res.bHave, res.aNeed));
  }
  return problems;
}

function verifySide(slot: number, name: string, mine: Buffer[], theirs: Buffer[], have: SlotId[], peerNeed: SlotShort[]): string[] {
  const problems: string[] = [];
  const theirSet = new Set(theirs.map((id) => id.toString('hex')));
  const expected = new Set(mine.map((id) => id.toString('hex')).filter((h) => !theirSet.has(h)));
  const byShort = new Map<string, string>();
  for (const h of expected) byShort.set(h.slice(0, 16), h);
  const seen = new Set<string>();
  const note = (h: string, how: string): void => {
    if (!expected.has(h)) problems.push(`slot ${slot}: ${name} reported ${how} ${h.slice(0, 16)} not in ${name}\\peer`);
    else if (seen.has(h)) problems.push(`slot ${slot}: ${h.slice(0, 16)} reported twice`);
    seen.add(h);
  };
  for (const x of have) if (x.slot === slot) note(x.id.toString('hex'), 'have');
  for (const x of peerNeed) {
    if (x.slot !== slot) continue;
    const s = x.short.toString('hex');
    note(byShort.get(s) ?? s.padEnd(64, '?'), 'need');
  }
  for (const h of expected) if (!seen.has(h)) problems.push(`slot ${slot}: ${h.slice(0, 16)} (${name} only) never reported`);
  return problems;
}

export interface CostRow {
  n: number;
  d: number;
  rounds: number;
  hops: number;
  bytes: number;
  sizes: number[];
  ok: boolean;
}

/**
 * Measures one reconciliation per (n, d): n shared ids, plus d differences
 * split both ways (ceil(d/2) only on A, floor(d/2) only on B).
 */
export function measureCost(n: number, d: number, opts: SimOptions = {}): CostRow {
  const shared = makeIds(n, 'shared');
  const a = shared.concat(makeIds(Math.ceil(d / 2), 'onlyA'));
  const b = shared.concat(makeIds(Math.floor(d / 2), 'onlyB'));
  const res = simulate(a, b, opts);
  return { n, d, rounds: res.rounds, hops: res.hops, bytes: res.bytes, sizes: res.sizes, ok: verify(res, a, b).length === 0 };
}

/** A markdown table of measureCost over every n and d given. */
export function costTable(ns: number[], ds: number[], opts: SimOptions = {}): string {
  const lines = ['| N | d | round trips | messages | bytes | message sizes | exact |', '|---:|---:|---:|---:|---:|---|:---:|'];
  for (const n of ns) {
    for (const d of ds) {
      const r = measureCost(n, d, opts);
      lines.push(`| ${r.n} | ${r.d} | ${r.rounds} | ${r.hops} | ${r.bytes} | ${r.sizes.join(', ')} | ${r.ok ? 'yes' : 'NO'} |`);
    }
  }
  return lines.join('\n');
}

/** A small seeded PRNG (mulberry32): uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two sets sharing `shared` ids, with `onlyA` and `onlyB` ids of their own. */
export function makePair(label: string, shared: number, onlyA: number, onlyB: number): { a: Buffer[]; b: Buffer[] } {
  const common = makeIds(shared, `${label}/shared`);
  return {
    a: common.concat(makeIds(onlyA, `${label}/a`)),
    b: common.concat(makeIds(onlyB, `${label}/b`)),
  };
}
