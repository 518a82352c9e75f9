/**
 * What a sync has moved of the diff a window shows: its rows tick as items
 * arrive or go out, and the per-group counts above them drop, both from this
 * one state (the ids of a batch tick rows; what the engine counted of the
 * same ids among the same diff's rows comes off the groups). If the sync
 * ends before everything moved, the rows still pending say why.
 *
 * Rows tick rather than disappear: the list is paged from the engine by
 * offset, so removing rows would shift every row under the user's eyes and
 * under the pages already fetched; a ticked row stays where it was.
 *
 * A diff of 100,000 rows gets a batch of up to 1,000 ids every 100 ms, so
 * the id sets are updated in place (copying 100,000 ids per batch would cost
 * the window milliseconds each time); `version` changes with every batch and
 * is what views subscribe to.
 */
import type { ApiError, DiffSideName, DiffTaken, ItemsBatch } from '../../../shared/api.js';
import type { DiffGroup } from '../../../shared/sync.js';
import type { SliceCreator } from '../types.js';

/** Why rows of a diff did not move when its sync ended early. */
export type StopReason = 'failed-verification' | 'peer-gone';

export interface Tally {
  count: number;
  bytes: number;
}

export interface SideMoves {
  /** Short ids moved this way since the diff (rows of `weLack` received, of `theyLack` sent). */
  ids: Set<string>;
  /** What those moves took off each group, keyed `branch\0kind`. */
  taken: Record<string, Tally>;
  count: number;
  bytes: number;
}

export interface DiffMoves {
  weLack: SideMoves;
  theyLack: SideMoves;
  /** Bumped with every change: what views subscribe to. */
  version: number;
  /** The sync ended early: why what is still pending did not move. */
  stopped: StopReason | null;
}

export interface DiffMovesSlice {
  /** Keyed by the diff's session id (the dry run whose rows are listed). */
  diffMoves: Record<string, DiffMoves>;
  applyItems(peerId: string, items: ItemsBatch, diff: DiffTaken | undefined): void;
  /** A sync of `peerId` ended: with an error, the rows still pending of its diff say why. */
  applySyncEnded(sessionId: string, peerId: string, error: ApiError | undefined): void;
}

export const groupKey = (branch: string, kind: string): string => `${branch}\0${kind}`;

/** Diffs whose moves are kept (a window shows one per peer). */
const KEEP_DIFFS = 8;

function emptySide(): SideMoves {
  return { ids: new Set(), taken: {}, count: 0, bytes: 0 };
}

function addTo(side: SideMoves, ids: readonly string[], taken: readonly DiffGroup[]): void {
  for (const id of ids) side.ids.add(id);
  for (const g of taken) {
    const key = groupKey(g.branch, g.kind);
    const t = side.taken[key] ?? (side.taken[key] = { count: 0, bytes: 0 });
    t.count += g.count;
    t.bytes += g.bytes;
    side.count += g.count;
    side.bytes += g.bytes;
  }
}

/** The reason rows still pending give when a sync failed with `error`. */
export function stopReason(error: ApiError): StopReason {
  return error.code === 'bad-item' ? 'failed-verification' : 'peer-gone';
}

export const createDiffMovesSlice = (): SliceCreator<DiffMovesSlice> => (set, get) => {
  const put = (sessionId: string, fn: (m: DiffMoves) => void) =>
    set((s) => {
      const prev = s.diffMoves[sessionId] ?? { weLack: emptySide(), theyLack: emptySide(), version: 0, stopped: null };
      const next: DiffMoves = { ...prev, version: prev.version + 1 };
      fn(next);
      // Re-inserted last, so the diff being updated is never the one evicted.
      const { [sessionId]: _replaced, ...others } = s.diffMoves;
      const diffMoves = { ...others, [sessionId]: next };
      const keys = Object.keys(diffMoves);
      for (const old of keys.slice(0, Math.max(0, keys.length - KEEP_DIFFS))) delete diffMoves[old];
      return { diffMoves };
    });

  return {
    diffMoves: {},

    applyItems(peerId, items, diff) {
      // Only the diff this window shows for the peer: an older one's rows are not on screen.
      if (!diff || get().peers.diffs[peerId]?.sessionId !== diff.sessionId) return;
      put(diff.sessionId, (m) => {
        addTo(m.weLack, items.received, diff.weLack);
        addTo(m.theyLack, items.sent, diff.theyLack);
        m.stopped = null;
      });
    },

    applySyncEnded(sessionId, peerId, error) {
      const session = get().transfers.byId[sessionId];
      const diff = get().peers.diffs[peerId];
      if (!diff || !session || session.info.dryRun) return;
      // A sync that finished clears what an earlier failed one said; one that failed says why for the rows still pending.
      if (!error && !get().diffMoves[diff.sessionId]?.stopped) return;
      put(diff.sessionId, (m) => {
        m.stopped = error ? stopReason(error) : null;
      });
    },
  };
};

/** The moves of one side of a diff, if any. */
export function sideMoves(moves: DiffMoves | undefined, side: DiffSideName): SideMoves | undefined {
  return moves?.[side];
}
