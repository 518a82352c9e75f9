/**
 * Rows of a missing-item list, fetched a block at a time as a virtualised
 * list scrolls (the engine keeps the whole list; `diffItems` pages it). A
 * list is keyed by session, side and branch filter, so rows always come from
 * the same session as the counts shown above them.
 */
import type { DiffItem, DiffSideName, NetsyncApi } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

/** Rows per request: a few screens' worth. */
export const DIFF_BLOCK = 200;
/** Lists kept at once (the newest); older ones are fetched again if shown again. */
const KEEP_LISTS = 6;

export interface RowList {
  /** Rows in the list; null until the first block answered. */
  total: number | null;
  blocks: Record<number, DiffItem[]>;
  loading: Record<number, true>;
  error: ErrorText;
}

export interface DiffRowsState {
  lists: Record<string, RowList>;
  /** Keys, newest first. */
  order: string[];
}

export interface DiffRowsSlice {
  diffRows: DiffRowsState;
  loadDiffBlock(sessionId: string, side: DiffSideName, branch: string | null, block: number): Promise<void>;
}

export function rowListKey(sessionId: string, side: DiffSideName, branch: string | null): string {
  return `${sessionId}|${side}|${branch ?? ''}`;
}

const EMPTY: RowList = Object.freeze({ total: null, blocks: {}, loading: {}, error: null }) as RowList;

export function rowList(s: DiffRowsState, key: string): RowList {
  return s.lists[key] ?? EMPTY;
}

export const createDiffRowsSlice =
  (api: NetsyncApi): SliceCreator<DiffRowsSlice> =>
  (set, get) => {
    const update = (key: string, fn: (l: RowList) => RowList) =>
      set((s) => {
        const order = [key, ...s.diffRows.order.filter((k) => k !== key)];
        const lists = { ...s.diffRows.lists, [key]: fn(rowList(s.diffRows, key)) };
        for (const old of order.slice(KEEP_LISTS)) delete lists[old];
        return { diffRows: { lists, order: order.slice(0, KEEP_LISTS) } };
      });

    return {
      diffRows: { lists: {}, order: [] },

      async loadDiffBlock(sessionId, side, branch, block) {
        const key = rowListKey(sessionId, side, branch);
        const list = rowList(get().diffRows, key);
        if (list.blocks[block] || list.loading[block]) return;
        update(key, (l) => ({ ...l, loading: { ...l.loading, [block]: true } }));
        const r = await api.diffItems(sessionId, side, block * DIFF_BLOCK, DIFF_BLOCK, branch ?? undefined);
        update(key, (l) => {
          const { [block]: _done, ...loading } = l.loading;
          return r.ok
            ? { ...l, total: r.value.total, blocks: { ...l.blocks, [block]: r.value.items }, loading, error: null }
            : { ...l, loading, error: r.error.message };
        });
      },
    };
  };
