/**
 * The work of answering one reconciliation message (docs/protocol-recon.md
 * §5-§7): each record of the peer's message is handled against this side's
 * tries, mismatched nodes are pooled per (slot, depth) and resolved together
 * (descend, IBLT or short ids), and the reply's records and the differences
 * found are collected. `Reconciler` (reconciler.ts) holds the session around it.
 */
import { LEAF_MAX, MAX_DEPTH, prefixOf } from '../index/trie-rules.js';
import { IBLT_K, Iblt, dedupeShorts, estimateDiffs, hasShort, ibltCellsFor } from './iblt.js';
import { blockCount, findInBlock, idAt } from './id-block.js';
import {
  MAX_FP_BYTES,
  MAX_IBLT_CELLS,
  MAX_SHORTS,
  ROOT_FP_BYTES,
  RecordType,
  ReconError,
  SHORT_BYTES,
  bitAt,
  bitmapBytes,
  setBit,
  type EmptyRecord,
  type FpsRecord,
  type IbltData,
  type IbltRecord,
  type PlanRecord,
  type ReconRecord,
  type RootRecord,
  type ShortsRecord,
} from './messages.js';
import type { ReconPolicy } from './reconciler.js';
import type { ReconTree } from './tree.js';

export interface SlotId {
  slot: number;
  id: Buffer;
}
export interface SlotShort {
  slot: number;
  short: Buffer;
}

/**
 * A differing node pair shows equal fingerprints with probability 2^-8F. The
 * descents answering one pool use the least width F keeping
 * (expected differing children) * 2^-8F <= 2^-16; with 4-byte root answers
 * and 5-byte heavy descents a whole run stays under 2^-20 at d = 10000.
 */
export function fpWidthFor(expectedDiffering: number, least: number): number {
  let f = least;
  while (f < MAX_FP_BYTES && expectedDiffering * 2 ** (-8 * f) > 2 ** -16) f++;
  return f;
}

/** Rough wire cost of one difference in an IBLT, used to choose short ids instead. */
const IBLT_BYTES_PER_DIFF = 26;

/** Mismatch statistics of the nodes of one depth of one slot in one message. */
interface Pool {
  slot: number;
  depth: number;
  compared: number;
  nodes: { prefix: number; count: number }[];
}

export interface StepContext {
  slots: ReconTree[];
  policy: ReconPolicy;
  fp: (hash: Buffer, n: number) => Buffer;
  salt: (attempt: number) => Buffer;
  /** Work allowed for this message (see WORK_BASE). */
  work: number;
  /** Tables built ahead from the peer's plan (prebuildIblts), used by the IBLT records they match. */
  prebuilt?: Prebuilt | null;
  /** Slots whose items this side sends whole (docs/PROTOCOL.md §4.6): what the peer lacks there is not listed in `have`. */
  unlisted?: ReadonlySet<number>;
}

/** Own ids and table for one announced IBLT, built while the peer built its own. */
interface PrebuiltIblt {
  slot: number;
  depth: number;
  attempt: number;
  prefixes: number[];
  counts: number[];
  ids: Buffer[];
  table: Iblt;
}

/** What a peer's plan let this side build ahead (docs/protocol-recon.md, §8). */
export class Prebuilt {
  constructor(private readonly entries: PrebuiltIblt[]) {}

  /** The entry built for exactly this record (the same nodes, attempt and size), taken once; null when none. */
  take(rec: IbltRecord): PrebuiltIblt | null {
    const i = this.entries.findIndex(
      (e) =>
        e.slot === rec.slot &&
        e.depth === rec.depth &&
        e.attempt === rec.attempt &&
        e.table.cells === rec.cells.counts.length &&
        e.prefixes.length === rec.prefixes.length &&
        e.prefixes.every((p, j) => p === rec.prefixes[j]),
    );
    return i < 0 ? null : this.entries.splice(i, 1)[0]!;
  }
}

/**
 * Builds this side's tables for the IBLTs a peer announced, under the same
 * work limit as a message. What is built is held until the next message, so
 * all the tables of one plan hold at most the enumeration limit of ids (32
 * MB at 2^20); announced IBLTs past it, or over nodes holding more, are left
 * to be built when they arrive (or answered by descending, as usual).
 */
export function prebuildIblts(ctx: StepContext, plans: readonly PlanRecord[]): Prebuilt {
  let work = ctx.work;
  const charge = (n: number): void => {
    work -= n;
    if (work < 0) throw new ReconError('plan asks for more work than any honest plan needs');
  };
  const entries: PrebuiltIblt[] = [];
  let held = 0;
  for (const plan of plans) {
    const tree = ctx.slots[plan.slot]!;
    charge(plan.prefixes.length);
    const counts = plan.prefixes.map((p) => tree.node(plan.depth, p).count);
    const total = counts.reduce((a, b) => a + b, 0);
    if (held + total > ctx.policy.maxEnumerate) continue;
    held += total;
    charge(total);
    const ids = plan.prefixes.map((p) => tree.idBlock(plan.depth, p));
    entries.push({ ...plan, counts, ids, table: buildIblt(plan.cells, ctx.salt(plan.attempt), ids) });
  }
  return new Prebuilt(entries);
}

/** An IBLT record of the reply whose table is built by StepRun.complete(), after its plan may have gone out. */
interface DeferredIblt {
  rec: IbltRecord;
  /** The own id blocks under the nodes, when already read. */
  ids: Buffer[] | null;
  cells: number;
}

const NO_CELLS: IbltData = { counts: new Int32Array(0), keys: new Uint32Array(0), checks: new Uint32Array(0) };

/** The work of answering one message: handlers append to `out`, `have`, `need`. */
export class StepRun {
  readonly out: ReconRecord[] = [];
  readonly have: SlotId[] = [];
  readonly need: SlotShort[] = [];
  private readonly pools = new Map<string, Pool>();
  private readonly deferred: DeferredIblt[] = [];
  private readonly policy: ReconPolicy;
  private work: number;

  constructor(private readonly ctx: StepContext) {
    this.policy = ctx.policy;
    this.work = ctx.work;
  }

  private charge(n: number): void {
    this.work -= n;
    if (this.work < 0) throw new ReconError('message asks for more work than any honest message needs');
  }

  handle(rec: ReconRecord): void {
    switch (rec.type) {
      case RecordType.Root:
        return this.onRoot(rec);
      case RecordType.Fps:
        return this.onFps(rec);
      case RecordType.Iblt:
        return this.onIblt(rec);
      case RecordType.Shorts:
        return this.onShorts(rec);
      case RecordType.Empty:
        return this.onEmpty(rec);
      case RecordType.Plan:
        throw new ReconError('a plan record is only allowed in a plan message');
    }
  }

  private tree(slot: number): ReconTree {
    return this.ctx.slots[slot]!;
  }

  private haveAll(slot: number, depth: number, prefix: number, count = this.tree(slot).node(depth, prefix).count): void {
    if (this.ctx.unlisted?.has(slot)) return;
    this.charge(count + 1);
    const block = this.tree(slot).idBlock(depth, prefix);
    for (let i = 0; i < blockCount(block); i++) this.have.push({ slot, id: idAt(block, i) });
  }

  private onRoot(rec: RootRecord): void {
    const mine = this.tree(rec.slot).node(0, 0);
    if (mine.count === 0 && rec.count === 0) return;
    if (mine.count === rec.count && this.ctx.fp(mine.hash, ROOT_FP_BYTES).equals(rec.fp)) return;
    if (rec.count === 0) return this.haveAll(rec.slot, 0, 0);
    if (mine.count === 0) return this.emptyHere(rec.slot, 0, 0);
    if (mine.count <= LEAF_MAX) return this.sendShorts(rec.slot, 0, 0);
    // No estimate of the difference yet: fingerprints of many nodes give one.
    const span = Math.max(mine.count, rec.count) >= this.policy.rootSpan2Min ? 2 : 1;
    this.sendFps(rec.slot, 0, 0, span, this.policy.fpBytesRoot);
  }

  private onFps(rec: FpsRecord): void {
    const tree = this.tree(rec.slot);
    const depth = rec.depth + rec.span;
    const base = rec.prefix * 16 ** rec.span;
    this.charge(16 ** rec.span);
    const pool = this.pool(rec.slot, depth);
    const empty = Buffer.alloc(bitmapBytes(rec.span));
    let anyEmpty = false;
    let at = 0;
    const nodes = tree.nodesBelow(rec.depth, rec.prefix, rec.span);
    for (let i = 0; i < 16 ** rec.span; i++) {
      const mine = nodes[i]!;
      if (!bitAt(rec.present, i)) {
        if (mine.count > 0) this.haveAll(rec.slot, depth, base + i, mine.count);
        continue;
      }
      const theirs = rec.fps.subarray(at, at + rec.fpBytes);
      at += rec.fpBytes;
      if (mine.count === 0) {
        setBit(empty, i);
        anyEmpty = true;
        continue;
      }
      pool.compared++;
      if (!this.ctx.fp(mine.hash, rec.fpBytes).equals(theirs)) pool.nodes.push({ prefix: base + i, count: mine.count });
    }
    if (anyEmpty) {
      this.out.push({ type: RecordType.Empty, slot: rec.slot, depth: rec.depth, prefix: rec.prefix, span: rec.span, marked: empty });
    }
  }

  private onIblt(rec: IbltRecord): void {
    const tree = this.tree(rec.slot);
    this.charge(rec.prefixes.length);
    const pre = this.ctx.prebuilt?.take(rec) ?? null;
    const counts = pre ? pre.counts : rec.prefixes.map((p) => tree.node(rec.depth, p).count);
    const total = counts.reduce((a, b) => a + b, 0);
    if (total <= this.policy.maxEnumerate) {
      this.charge(total);
      const ids = pre ? pre.ids : rec.prefixes.map((p) => tree.idBlock(rec.depth, p));
      const salt = this.ctx.salt(rec.attempt);
      const diff = pre ? pre.table : buildIblt(rec.cells.counts.length, salt, ids);
      diff.subtract(new Iblt(rec.cells.counts.length, salt, rec.cells));
      const res = diff.peel();
      if (res.ok && this.acceptPeel(rec, ids, res.mine, res.theirs)) return;
      // Most failures are a few keys sharing cells, not a bad estimate: a table
      // with fresh hashing, grown if the leftovers suggest more differences, settles it.
      const retry = Math.max(rec.cells.counts.length, ibltCellsFor(res.mine.length + res.theirs.length + res.remaining));
      if (rec.attempt === 0 && retry <= MAX_IBLT_CELLS) return this.sendIblt(rec.slot, rec.depth, 1, rec.prefixes, ids, retry);
    }
    // Descending always makes progress: the nodes get smaller and the estimate sharper.
    for (let i = 0; i < rec.prefixes.length; i++) this.descend(rec.slot, rec.depth, rec.prefixes[i]!, counts[i]!, this.policy.fpBytesHeavy);
  }

  /**
   * Reports a peeled difference unless it is inconsistent (a key outside the
   * nodes, a "mine" key this side does not hold, a "theirs" key it does hold),
   * which means the table lied and the nodes must be compared another way.
   */
  private acceptPeel(rec: IbltRecord, ids: Buffer[], mine: Buffer[], theirs: Buffer[]): boolean {
    const have: SlotId[] = [];
    const need: SlotShort[] = [];
    for (const [keys, isMine] of [
      [mine, true],
      [theirs, false],
    ] as const) {
      for (const key of keys) {
        const node = binarySearch(rec.prefixes, prefixOf(key, rec.depth));
        if (node < 0) return false;
        const id = findInBlock(ids[node]!, key);
        if ((id !== null) !== isMine) return false;
        if (id) have.push({ slot: rec.slot, id });
        else need.push({ slot: rec.slot, short: key });
      }
    }
    this.have.push(...have);
    this.need.push(...need);
    return true;
  }

  private onShorts(rec: ShortsRecord): void {
    this.charge(this.tree(rec.slot).node(rec.depth, rec.prefix).count + rec.shorts.length / SHORT_BYTES + 1);
    const mine = this.tree(rec.slot).idBlock(rec.depth, rec.prefix);
    const theirs: Buffer[] = [];
    for (let i = 0; i < rec.shorts.length; i += SHORT_BYTES) theirs.push(rec.shorts.subarray(i, i + SHORT_BYTES));
    for (let i = 0; i < blockCount(mine); i++) {
      const id = idAt(mine, i);
      if (!hasShort(theirs, id.subarray(0, SHORT_BYTES))) this.have.push({ slot: rec.slot, id });
    }
    for (const short of theirs) {
      if (findInBlock(mine, short) === null) this.need.push({ slot: rec.slot, short });
    }
  }

  private onEmpty(rec: EmptyRecord): void {
    if (!rec.marked) return this.haveAll(rec.slot, rec.depth, rec.prefix);
    const base = rec.prefix * 16 ** rec.span;
    for (let i = 0; i < 16 ** rec.span; i++) {
      if (bitAt(rec.marked, i)) this.haveAll(rec.slot, rec.depth + rec.span, base + i);
    }
  }

  private pool(slot: number, depth: number): Pool {
    const key = `${slot}/${depth}`;
    let p = this.pools.get(key);
    if (!p) {
      p = { slot, depth, compared: 0, nodes: [] };
      this.pools.set(key, p);
    }
    return p;
  }

  /** Decides, for every mismatched node of this message, how to resolve it. */
  finish(): void {
    for (const pool of this.pools.values()) {
      if (pool.nodes.length === 0) continue;
      const est = estimateDiffs(pool.compared, pool.nodes.length, this.policy.estimateZ);
      const batch: { prefix: number; count: number }[] = [];
      const width = fpWidthFor(pool.nodes.length * est.perNode, this.policy.fpBytes);
      for (const node of pool.nodes) {
        const small = node.count <= LEAF_MAX || pool.depth === MAX_DEPTH;
        if (est.saturated) this.descend(pool.slot, pool.depth, node.prefix, node.count, this.policy.fpBytesHeavy);
        else if (small && node.count * SHORT_BYTES <= IBLT_BYTES_PER_DIFF * est.perNode) this.sendShorts(pool.slot, pool.depth, node.prefix);
        else if (node.count > this.ibltLimit(pool.depth) && pool.depth < MAX_DEPTH) this.descend(pool.slot, pool.depth, node.prefix, node.count, width);
        else batch.push(node);
      }
      this.packIblts(pool, batch, est.perNode);
    }
  }

  /** Packs nodes into as few IBLTs as the cell and enumeration limits allow. */
  private packIblts(pool: Pool, all: { prefix: number; count: number }[], perNode: number): void {
    // Sorted and distinct, as the wire's gap encoding needs (a hostile peer may repeat a node).
    const nodes = all.sort((a, b) => a.prefix - b.prefix).filter((n, i) => i === 0 || n.prefix !== all[i - 1]!.prefix);
    const maxIds = this.policy.maxEnumerate / 2; // the peer may hold more under the same nodes
    let group: { prefix: number; count: number }[] = [];
    let ids = 0;
    const flush = (): void => {
      if (group.length === 0) return;
      this.charge(ids);
      const cells = Math.max(IBLT_K, IBLT_K * Math.round((ibltCellsFor(group.length * perNode) * this.policy.ibltScale) / IBLT_K));
      this.sendIblt(
        pool.slot,
        pool.depth,
        0,
        group.map((n) => n.prefix),
        null,
        cells,
      );
      group = [];
      ids = 0;
    };
    for (const node of nodes) {
      if (group.length > 0 && (ibltCellsFor((group.length + 1) * perNode) > MAX_IBLT_CELLS || ids + node.count > maxIds)) flush();
      group.push(node);
      ids += node.count;
    }
    flush();
  }

  /**
   * Adds an IBLT record to the reply; its table (the costly part: reading the
   * ids under the nodes and hashing each into three cells) is built by
   * complete(), so that the plan announcing it can go out first.
   */
  private sendIblt(slot: number, depth: number, attempt: number, prefixes: number[], ids: Buffer[] | null, cells: number): void {
    const rec: IbltRecord = { type: RecordType.Iblt, slot, depth, attempt, prefixes, cells: NO_CELLS };
    this.out.push(rec);
    this.deferred.push({ rec, ids, cells: Math.min(MAX_IBLT_CELLS, cells) });
  }

  /** The plan records announcing this reply's IBLTs (empty when it has none). */
  plans(): PlanRecord[] {
    return this.deferred.map(({ rec, cells }) => ({
      type: RecordType.Plan,
      slot: rec.slot,
      depth: rec.depth,
      attempt: rec.attempt,
      prefixes: rec.prefixes,
      cells,
    }));
  }

  /** Builds the tables of this reply's IBLT records. */
  complete(): void {
    for (const { rec, ids, cells } of this.deferred) {
      const tree = this.tree(rec.slot);
      const blocks = ids ?? rec.prefixes.map((p) => tree.idBlock(rec.depth, p));
      rec.cells = buildIblt(cells, this.ctx.salt(rec.attempt), blocks).data;
    }
    this.deferred.length = 0;
  }

  /** Resolves a node that cannot be settled by an IBLT: short ids if small, else its children. */
  private descend(slot: number, depth: number, prefix: number, count: number, fpBytes: number): void {
    if (count === 0) return this.emptyHere(slot, depth, prefix);
    if (count <= LEAF_MAX || depth === MAX_DEPTH) return this.sendShorts(slot, depth, prefix);
    const wide = count / 16 > this.ibltLimit(depth + 1) && depth + 2 <= MAX_DEPTH;
    this.sendFps(slot, depth, prefix, wide ? 2 : 1, fpBytes);
  }

  private ibltLimit(depth: number): number {
    return depth >= this.policy.deepFrom ? this.policy.maxIbltNodeIdsDeep : this.policy.maxIbltNodeIds;
  }

  private emptyHere(slot: number, depth: number, prefix: number): void {
    this.out.push({ type: RecordType.Empty, slot, depth, prefix, span: 0, marked: null });
  }

  private sendShorts(slot: number, depth: number, prefix: number): void {
    this.charge(this.tree(slot).node(depth, prefix).count + 1);
    const ids = this.tree(slot).idBlock(depth, prefix);
    const n = blockCount(ids);
    // Only a deliberately ground 48-bit prefix collision could put this many ids in one deepest node.
    if (n > MAX_SHORTS) throw new ReconError(`node (${depth}, ${prefix}) too large to list: ${n} ids`);
    const shorts = Buffer.alloc(n * SHORT_BYTES);
    for (let i = 0; i < n; i++) idAt(ids, i).copy(shorts, i * SHORT_BYTES, 0, SHORT_BYTES);
    this.out.push({ type: RecordType.Shorts, slot, depth, prefix, shorts: dedupeShorts(shorts) });
  }

  private sendFps(slot: number, depth: number, prefix: number, span: number, fpBytes: number): void {
    const tree = this.tree(slot);
    this.charge(16 ** span);
    const present = Buffer.alloc(bitmapBytes(span));
    const fps: Buffer[] = [];
    const nodes = tree.nodesBelow(depth, prefix, span);
    for (let i = 0; i < 16 ** span; i++) {
      const node = nodes[i]!;
      if (node.count === 0) continue;
      setBit(present, i);
      fps.push(this.ctx.fp(node.hash, fpBytes));
    }
    this.out.push({ type: RecordType.Fps, slot, depth, prefix, span, fpBytes, present, fps: Buffer.concat(fps) });
  }
}

function buildIblt(cells: number, salt: Buffer, blocks: Buffer[]): Iblt {
  const t = new Iblt(cells, salt);
  for (const block of blocks) t.addBlock(block);
  return t;
}

function binarySearch(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
