/**
 * Folders in and out of the collection: the "Commit a folder…" dialog (a
 * preview of what would change, then the commit) and "Check out to a
 * folder…", with the system's folder picker where the host has one (the
 * desktop app) and a path field everywhere.
 */
import type { CommitPreview, CommitSummary, NetsyncApi } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

export type FolderDialog = 'commit' | 'checkout';

export interface FoldersState {
  dialog: FolderDialog | null;
  /** The host shows the system's folder picker (pickFolder); otherwise the path is typed. */
  folderPicker: boolean;
  /** The preview of the folder and branch last asked about; a commit is offered for exactly these. */
  preview: CommitPreview | null;
  committed: CommitSummary | null;
  busy: 'preview' | 'commit' | null;
  error: ErrorText;
}

export interface FoldersSlice {
  folders: FoldersState;
  openFolderDialog(dialog: FolderDialog): void;
  closeFolderDialog(): void;
  previewCommit(dir: string, branch: string): Promise<void>;
  /** Commits the previewed folder to the previewed branch; the log of that branch shows it after. */
  commitFolder(message: string): Promise<void>;
  /** The folder the user picked, or null (cancelled, or no picker here: the error says so). */
  pickFolder(title: string): Promise<string | null>;
}

/** What the window's host offers beyond the API: the desktop app has a folder picker and system notifications. */
export interface HostFeatures {
  folderPicker: boolean;
  nativeNotifications: boolean;
}

export const createFoldersSlice =
  (api: NetsyncApi, host: HostFeatures): SliceCreator<FoldersSlice> =>
  (set, get) => {
    const patch = (p: Partial<FoldersState>) => set((s) => ({ folders: { ...s.folders, ...p } }));
    return {
      folders: { dialog: null, folderPicker: host.folderPicker, preview: null, committed: null, busy: null, error: null },

      openFolderDialog(dialog) {
        patch({ dialog, preview: null, committed: null, busy: null, error: null });
        // The checkout dialog reports through the collection's checkout state: a fresh dialog shows no old result.
        if (dialog === 'checkout') set((s) => ({ collection: { ...s.collection, checkout: { busy: false, result: null, error: null } } }));
      },

      closeFolderDialog: () => patch({ dialog: null, busy: null }),

      async previewCommit(dir, branch) {
        patch({ busy: 'preview', preview: null, committed: null, error: null });
        const r = await api.previewCommit(dir, branch);
        patch(r.ok ? { busy: null, preview: r.value } : { busy: null, error: r.error.message });
      },

      async commitFolder(message) {
        const preview = get().folders.preview;
        if (!preview) return;
        patch({ busy: 'commit', error: null });
        const r = await api.commitFolder(preview.dir, preview.branch, message);
        if (!r.ok) {
          patch({ busy: null, error: r.error.message });
          return;
        }
        patch({ busy: null, committed: r.value, preview: null });
        // The new version shows in its branch's log at once, selected. Chosen before the log is read, so
        // a refresh already under way (the change notifier's) keeps it rather than the version shown before.
        set((s) => ({ collection: { ...s.collection, selectedManifest: r.value.manifest } }));
        await get().selectBranch(r.value.branch);
        await get().refreshCollection([r.value.branch]);
      },

      async pickFolder(title) {
        const r = await api.pickFolder(title);
        if (r.ok) return r.value;
        patch({ error: r.error.message });
        return null;
      },
    };
  };
