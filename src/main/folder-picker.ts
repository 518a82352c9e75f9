/**
 * The one NetsyncApi call the main process answers itself: the system's
 * folder picker (the engine has no window). The renderer gets a path, never
 * a file handle; the engine checks the path again when it is used.
 */
import type { BrowserWindow, OpenDialogOptions, OpenDialogReturnValue } from 'electron';
import { type Result, ok } from '../shared/api.js';

/** What the picker needs of Electron's `dialog` (a fake in tests). */
export interface FolderDialog {
  showOpenDialog(window: BrowserWindow, options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
  showOpenDialog(options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
}

export function folderPicker(dialog: FolderDialog, window: () => BrowserWindow | null): (title: string) => Promise<Result<string | null>> {
  return async (title) => {
    const options: OpenDialogOptions = { title, properties: ['openDirectory', 'createDirectory'] };
    const w = window();
    // Attached to the window when there is one, so it is modal to it rather than lost behind it.
    const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
    return ok(r.canceled ? null : (r.filePaths[0] ?? null));
  };
}
