/**
 * The missing-item lists of recent sessions, kept in the worker and read a
 * page at a time (`diffItems`), so a diff of 100,000 rows never crosses IPC
 * or the WebSocket in one message; the counts and groups a window shows come
 * with the summary, from the same session as the rows. Each row says why it
 * will not move when it will not (a blocked direction, a refused branch).
 */
import type { DiffPage, DiffSideName, DiffTaken } from '../../shared/api.js';
import type { DiffGroup, DiffItem, DiffSide, SessionSummary } from '../../shared/sync.js';
import { refuse } from './errors.js';

/** Rows per side the engine lists for the app (counts and groups are always complete). */
export const DIFF_LIST_LIMIT = 250_000;
/** Rows per side that travel inside a summary: the first screenful, before any page is asked for. */
export const SUMMARY_ROWS = 200;
/** Recent sessions whose lists are kept, and all their rows together at most. */
const KEEP_SESSIONS = 8;
const KEEP_ROWS = 1_000_000;

interface Kept {
  peerId: string;
  sides: Record<DiffSideName, DiffItem[]>;
  /** Rows of one branch, computed when first asked for. */
  byBranch: Map<string, DiffItem[]>;
  /** Rows by id, built when a sync first reports moved items against this diff. */
  byId?: Record<DiffSideName, Map<string, DiffItem>>;
}

/** Count and bytes of `ids` among `rows`, by branch and kind (a row is grouped by its first branch, as the engine lists it). */
function takenFrom(rows: Map<string, DiffItem>, ids: readonly string[]): DiffGroup[] {
  const groups = new Map<string, DiffGroup>();
  for (const id of ids) {
    const row = rows.get(id);
    if (!row) continue;
    const branch = row.branches[0] ?? '';
    const key = `${branch}\0${row.kind}`;
    const g = groups.get(key) ?? { branch, kind: row.kind, count: 0, bytes: 0 };
    g.count++;
    g.bytes += row.size;
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** Marks, in place, the rows that will not move and why. */
export function markBlocked(summary: SessionSummary): void {
  const refused = new Map((summary.refused ?? []).map((r) => [r.branch, r.reason]));
  const mark = (items: DiffItem[], directionOff: boolean, sending: boolean) => {
    for (const item of items) {
      const reasons = item.branches.map((b) => refused.get(b));
      // A read-only branch blocks only what we send; a branch we may not read blocks both ways.
      if (reasons.includes('no-permission') || reasons.includes('not-offered') || (sending && reasons.includes('read-only'))) item.blocked = 'no-permission';
      else if (directionOff) item.blocked = 'direction';
    }
  };
  mark(summary.weLack.items, summary.direction === 'push', false);
  mark(summary.theyLack.items, summary.direction === 'pull', true);
}

export class DiffLists {
  private readonly kept = new Map<string, Kept>();
  /** Per peer, its latest dry run: the diff a window shows, whose rows a sync ticks off. */
  private readonly latestDiff = new Map<string, string>();

  /** Keeps a finished session's rows and returns the summary a window gets (its first rows only). */
  keep(peerId: string, summary: SessionSummary): SessionSummary {
    markBlocked(summary);
    this.kept.delete(summary.sessionId);
    this.kept.set(summary.sessionId, { peerId, sides: { weLack: summary.weLack.items, theyLack: summary.theyLack.items }, byBranch: new Map() });
    if (summary.dryRun) this.latestDiff.set(peerId, summary.sessionId);
    this.evict(summary.sessionId);
    const trim = (side: DiffSide): DiffSide => ({ ...side, items: side.items.slice(0, SUMMARY_ROWS) });
    return { ...summary, weLack: trim(summary.weLack), theyLack: trim(summary.theyLack) };
  }

  page(sessionId: string, side: DiffSideName, offset: number, limit: number, branch?: string): DiffPage {
    const k = this.kept.get(sessionId);
    if (!k) refuse('not-found', 'the rows of that comparison are no longer kept; compare again');
    let rows = k.sides[side];
    if (branch !== undefined) {
      const key = `${side}\0${branch}`;
      rows = k.byBranch.get(key) ?? rows.filter((r) => r.branches.includes(branch));
      k.byBranch.set(key, rows);
    }
    return { total: rows.length, offset, items: rows.slice(offset, offset + limit) };
  }

  /**
   * What items moved by a sync (`received` into our database, `sent` to the
   * peer; short ids) take off the peer's latest diff; undefined when its rows
   * are no longer kept.
   */
  taken(peerId: string, received: readonly string[], sent: readonly string[]): DiffTaken | undefined {
    const sessionId = this.latestDiff.get(peerId);
    const k = sessionId === undefined ? undefined : this.kept.get(sessionId);
    if (!k || sessionId === undefined) return undefined;
    k.byId ??= { weLack: new Map(k.sides.weLack.map((r) => [r.id, r])), theyLack: new Map(k.sides.theyLack.map((r) => [r.id, r])) };
    return { sessionId, weLack: takenFrom(k.byId.weLack, received), theyLack: takenFrom(k.byId.theyLack, sent) };
  }

  forgetPeer(peerId: string): void {
    for (const [id, k] of this.kept) if (k.peerId === peerId) this.kept.delete(id);
    this.latestDiff.delete(peerId);
  }

  private evict(newest: string): void {
    const rows = () => [...this.kept.values()].reduce((n, k) => n + k.sides.weLack.length + k.sides.theyLack.length, 0);
    for (const id of this.kept.keys()) {
      if (id === newest || (this.kept.size <= KEEP_SESSIONS && rows() <= KEEP_ROWS)) break;
      this.kept.delete(id);
    }
  }
}
