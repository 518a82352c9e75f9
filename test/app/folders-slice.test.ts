/**
 * The window's side of "Commit a folder…": a commit is made only for the
 * folder and branch previewed, the new version is selected in its branch's
 * log, an error is said in the dialog, and a host without a folder picker
 * says so instead of failing silently.
 */
import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../src/renderer/store/app-store.js';
import { type CommitPreview, err, ok } from '../../src/shared/api.js';
import { fakeClient } from './fake-client.js';

const preview: CommitPreview = {
  dir: '/w',
  branch: 'org.example.x',
  base: null,
  heads: 0,
  counts: { added: 1, changed: 0, removed: 0, unchanged: 0 },
  added: [{ path: 'a', type: 'file', size: 1 }],
  changed: [],
  removed: [],
  files: 1,
  bytes: 1,
};
const manifest = 'ab'.repeat(32);

describe('the folders slice', () => {
  it('commits what was previewed and selects the new version in its branch', async () => {
    const fake = fakeClient({
      previewCommit: () => ok(preview),
      commitFolder: () => ok({ manifest, branch: 'org.example.x', files: 1, bytes: 1, changed: true, signer: 'alice' }),
      log: () => ok([{ manifest, date: null, author: null, changelog: 'm', parents: [], certs: [] }]),
      show: () => ok({ kind: 'manifest', id: manifest, entries: [], certs: [] }),
      getStatus: () => err('internal', 'not needed'),
      listBranches: () => ok([{ name: 'org.example.x', items: 3, root: '00' }]),
    });
    const store = createAppStore(fake.client);
    store.getState().openFolderDialog('commit');
    // Nothing previewed yet: no commit.
    await store.getState().commitFolder('m');
    expect(fake.calls.some((c) => c.method === 'commitFolder')).toBe(false);

    await store.getState().previewCommit('/w', 'org.example.x');
    expect(store.getState().folders.preview).toEqual(preview);
    await store.getState().commitFolder('the message');
    expect(fake.calls.find((c) => c.method === 'commitFolder')?.args).toEqual(['/w', 'org.example.x', 'the message']);
    const s = store.getState();
    expect(s.folders.committed?.manifest).toBe(manifest);
    expect(s.folders.preview).toBeNull();
    expect(s.collection.selectedBranch).toBe('org.example.x');
    expect(s.collection.selectedManifest).toBe(manifest);
  });

  it('says a failed commit in the dialog, and that the web host has no picker', async () => {
    const fake = fakeClient({
      previewCommit: () => ok(preview),
      commitFolder: () => err('key', 'A commit is signed by your key; choose or make a key in Identity.'),
      pickFolder: () => err('usage', 'This window has no folder picker; type the folder path.'),
    });
    const store = createAppStore(fake.client);
    store.getState().openFolderDialog('commit');
    await store.getState().previewCommit('/w', 'org.example.x');
    await store.getState().commitFolder('');
    expect(store.getState().folders.error).toBe('A commit is signed by your key; choose or make a key in Identity.');
    expect(await store.getState().pickFolder('Folder')).toBeNull();
    expect(store.getState().folders.error).toBe('This window has no folder picker; type the folder path.');
    expect(store.getState().folders.folderPicker).toBe(false);
    store.getState().closeFolderDialog();
    expect(store.getState().folders.dialog).toBeNull();
  });
});
