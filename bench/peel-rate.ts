/**
 * How often a reconciliation of d differences in N ids needs more than the
 * usual messages, and what it costs: many in-memory runs (simulate.ts), each
 * with fresh differences and a fresh session key, over copies of one tree.
 *
 *   node dist/peel-rate.cjs [N=1000000] [d=100] [runs=200] [two|one]
 *
 * Prints one JSON line: runs by message count, bytes (median, p95, max), and
 * how many runs went over 5 messages or 12,000 bytes. docs/protocol-recon.md
 * §10 has the figures.
 */
import { randomBytes } from 'node:crypto';
import { MemoryTree } from '../test/helpers/memory-tree.js';
import { simulateTrees } from '../test/helpers/recon-sim.js';

const N = Number(process.argv[2] ?? 1_000_000);
const D = Number(process.argv[3] ?? 100);
const runs = Number(process.argv[4] ?? 200);
const twoSided = (process.argv[5] ?? 'two') === 'two';

/** The tree's nodes hashed once; each run copies the sorted ids and the computed nodes (add() drops the ones it changes). */
const base = new MemoryTree(Array.from({ length: N }, () => randomBytes(32)));
base.node(0, 0);
type Inside = { sorted: Buffer[]; keys: number[]; cache: Map<number, unknown> };
function copy(t: MemoryTree): MemoryTree {
  const from = t as unknown as Inside;
  const c = Object.create(MemoryTree.prototype) as Inside;
  c.sorted = from.sorted.slice();
  c.keys = from.keys.slice();
  c.cache = new Map(from.cache);
  return c as unknown as MemoryTree;
}

const byMessages: Record<number, number> = {};
const bytes: number[] = [];
let overMessages = 0;
let overBytes = 0;
for (let run = 0; run < runs; run++) {
  const a = copy(base);
  const b = copy(base);
  const onA = twoSided ? Math.ceil(D / 2) : 0;
  for (let i = 0; i < onA; i++) a.add(randomBytes(32));
  for (let i = onA; i < D; i++) b.add(randomBytes(32));
  const r = simulateTrees([a], [b], { sessionKey: randomBytes(32) });
  const found = r.aHave.length + r.aNeed.length + r.bHave.length + r.bNeed.length;
  if (found !== D) throw new Error(`run ${run}: ${found} differences reported, ${D} made`);
  byMessages[r.hops] = (byMessages[r.hops] ?? 0) + 1;
  if (r.hops > 5) overMessages++;
  if (r.bytes > 12_000) overBytes++;
  bytes.push(r.bytes);
}
bytes.sort((x, y) => x - y);
const at = (q: number): number => bytes[Math.min(bytes.length - 1, Math.floor(bytes.length * q))]!;
console.log(JSON.stringify({ N, d: D, runs, twoSided, byMessages, overMessages, overBytes, bytes: { median: at(0.5), p95: at(0.95), max: at(1) } }));
