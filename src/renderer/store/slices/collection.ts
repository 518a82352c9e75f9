/** The open database and its collection: branches, a branch's log, one manifest's tree, checkout. */
import type { BranchSummary, CheckoutSummary, DatabaseStatus, ItemView, LogEntry, MergeOutcome, NetsyncApi } from '../../../shared/api.js';
import { coalesced } from '../coalesce.js';
import type { ErrorText, SliceCreator } from '../types.js';

export type ManifestView = Extract<ItemView, { kind: 'manifest' }>;

export interface CollectionState {
  database: DatabaseStatus | null;
  branches: BranchSummary[];
  selectedBranch: string | null;
  log: LogEntry[];
  selectedManifest: string | null;
  manifest: ManifestView | null;
  loading: boolean;
  error: ErrorText;
  checkout: { busy: boolean; result: CheckoutSummary | null; error: ErrorText };
  merge: { busy: boolean; result: MergeOutcome | null; error: ErrorText };
}

export interface CollectionSlice {
  collection: CollectionState;
  openDatabase(path?: string): Promise<boolean>;
  /**
   * Reads the branches and counts again, and the log shown when its branch
   * is among `changed` (every branch when `changed` is left out). Calls that
   * come while one runs are merged into one more run.
   */
  refreshCollection(changed?: readonly string[]): Promise<void>;
  selectBranch(name: string): Promise<void>;
  selectManifest(id: string): Promise<void>;
  checkout(target: string, dir: string): Promise<void>;
  /** Joins two heads of the branch; then its list and log are read again. */
  merge(branch: string): Promise<void>;
}

const initial: CollectionState = {
  database: null,
  branches: [],
  selectedBranch: null,
  log: [],
  selectedManifest: null,
  manifest: null,
  loading: false,
  error: null,
  checkout: { busy: false, result: null, error: null },
  merge: { busy: false, result: null, error: null },
};

/** During a sync the database changes twice a second: its lists and counts are read again at most once a second. */
const REFRESH_GAP_MS = 1000;

/** Branches whose log is stale: some by name, or all. */
type Changed = { all: true } | { all: false; names: Set<string> };

function mergeChanged(a: Changed, b: Changed): Changed {
  return a.all || b.all ? { all: true } : { all: false, names: new Set([...a.names, ...b.names]) };
}

export const createCollectionSlice =
  (api: NetsyncApi): SliceCreator<CollectionSlice> =>
  (set, get) => {
    const patch = (p: Partial<CollectionState>) => set((s) => ({ collection: { ...s.collection, ...p } }));

    const refresh = coalesced<Changed>(
      async (changed) => {
        patch({ loading: true });
        const [status, branches] = await Promise.all([api.getStatus(), api.listBranches()]);
        if (!branches.ok) {
          patch({ loading: false, error: branches.error.message });
          return;
        }
        const selected = get().collection.selectedBranch;
        const stillThere = selected !== null && branches.value.some((b) => b.name === selected);
        patch({
          loading: false,
          error: null,
          branches: branches.value,
          database: status.ok ? status.value.database : get().collection.database,
          ...(stillThere ? {} : { selectedBranch: null, log: [], selectedManifest: null, manifest: null }),
        });
        if (stillThere && (changed.all || changed.names.has(selected))) await get().selectBranch(selected);
      },
      mergeChanged,
      REFRESH_GAP_MS,
    );

    return {
      collection: initial,

      async openDatabase(path) {
        const r = await api.openDatabase(path);
        if (!r.ok) {
          patch({ error: r.error.message });
          return false;
        }
        patch({ database: r.value, error: null, selectedBranch: null, log: [], selectedManifest: null, manifest: null });
        await get().refreshCollection();
        return true;
      },

      refreshCollection: (changed) => refresh(changed ? { all: false, names: new Set(changed) } : { all: true }),

      async selectBranch(name) {
        patch({ selectedBranch: name, loading: true });
        const r = await api.log(name);
        if (get().collection.selectedBranch !== name) return; // the user moved on meanwhile
        if (!r.ok) {
          patch({ loading: false, log: [], error: r.error.message });
          return;
        }
        patch({ loading: false, log: r.value, error: null });
        const keep = get().collection.selectedManifest;
        const next = r.value.some((e) => e.manifest === keep) ? keep : r.value[0]?.manifest;
        if (next) await get().selectManifest(next);
        else patch({ selectedManifest: null, manifest: null });
      },

      async selectManifest(id) {
        patch({ selectedManifest: id });
        const r = await api.show(id);
        if (get().collection.selectedManifest !== id) return;
        if (!r.ok) {
          patch({ manifest: null, error: r.error.message });
          return;
        }
        patch({ manifest: r.value.kind === 'manifest' ? r.value : null, error: null });
      },

      async checkout(target, dir) {
        patch({ checkout: { busy: true, result: null, error: null } });
        const r = await api.checkout(target, dir);
        patch({ checkout: r.ok ? { busy: false, result: r.value, error: null } : { busy: false, result: null, error: r.error.message } });
      },

      async merge(branch) {
        patch({ merge: { busy: true, result: null, error: null } });
        const r = await api.merge(branch);
        patch({ merge: r.ok ? { busy: false, result: r.value, error: null } : { busy: false, result: null, error: r.error.message } });
        await get().refreshCollection([branch]);
        if (get().collection.selectedBranch === branch) await get().selectBranch(branch);
      },
    };
  };
