/**
 * Commit from the app (issue #20): a folder's preview against its branch's
 * head (added, changed, removed, with sizes; nothing written), then the
 * commit signed by the active identity, which the log shows. A preview made
 * right after a commit finds nothing to commit, big (chunked) files
 * included: the preview's content ids and the commit's agree. The main
 * process answers the folder picker; the engine has none.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserWindow, OpenDialogOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { folderPicker } from '../../src/main/folder-picker.js';
import { pseudoRandomBytes } from '../helpers/random.js';
import { setupService } from '../helpers/service.js';

const BRANCH = 'org.example.app';

async function ready() {
  const s = setupService();
  const opened = await s.service.openDatabase();
  if (!opened.ok) throw new Error(opened.error.message);
  const key = await s.service.generateKey('carol@example.org');
  if (!key.ok) throw new Error(key.error.message);
  const dir = join(s.dir, 'work');
  mkdirSync(join(dir, 'docs'), { recursive: true });
  writeFileSync(join(dir, 'README'), 'hello\n');
  writeFileSync(join(dir, 'docs', 'guide.txt'), 'a guide\n');
  writeFileSync(join(dir, 'big.bin'), pseudoRandomBytes((1 << 20) + 4321, 'service-commit/big'));
  return { ...s, dir: dir };
}

describe('commit from the app', () => {
  it('previews a new branch, commits it, and then finds nothing left to commit', async () => {
    const { service, dir, events } = await ready();
    try {
      const first = await service.previewCommit(dir, BRANCH);
      if (!first.ok) throw new Error(first.error.message);
      expect(first.value).toMatchObject({ base: null, heads: 0, files: 3, counts: { added: 4, changed: 0, removed: 0, unchanged: 0 } });
      expect(first.value.added.map((e) => [e.path, e.type, e.size])).toEqual([
        ['README', 'file', 6],
        ['big.bin', 'file', (1 << 20) + 4321],
        ['docs', 'dir', 0],
        ['docs/guide.txt', 'file', 8],
      ]);
      // Nothing was written by the preview.
      expect(await service.listBranches()).toEqual({ ok: true, value: [] });

      const committed = await service.commitFolder(dir, BRANCH, 'from the window');
      if (!committed.ok) throw new Error(committed.error.message);
      expect(committed.value).toMatchObject({ branch: BRANCH, files: 3, changed: true, signer: 'carol@example.org' });
      const log = await service.log(BRANCH);
      expect(log.ok && log.value.map((e) => [e.manifest, e.changelog])).toEqual([[committed.value.manifest, 'from the window']]);
      // Windows hear of it at once.
      expect(events.some((e) => e.type === 'collection-changed' && e.branches?.some((b) => b.name === BRANCH))).toBe(true);

      const again = await service.previewCommit(dir, BRANCH);
      expect(again).toMatchObject({
        ok: true,
        value: { base: committed.value.manifest, heads: 1, counts: { added: 0, changed: 0, removed: 0, unchanged: 4 } },
      });
      const same = await service.commitFolder(dir, BRANCH, 'nothing new');
      expect(same).toMatchObject({ ok: true, value: { changed: false, manifest: committed.value.manifest } });
    } finally {
      await service.dispose();
    }
  });

  it('tells added, changed (content or executable bit) and removed apart, with sizes before and after', async () => {
    const { service, dir } = await ready();
    try {
      const c = await service.commitFolder(dir, BRANCH, '');
      if (!c.ok) throw new Error(c.error.message);
      writeFileSync(join(dir, 'README'), 'hello, world\n');
      chmodSync(join(dir, 'docs', 'guide.txt'), 0o755);
      rmSync(join(dir, 'big.bin'));
      writeFileSync(join(dir, 'NEW'), 'new\n');
      const p = await service.previewCommit(dir, BRANCH);
      if (!p.ok) throw new Error(p.error.message);
      expect(p.value.counts).toEqual({ added: 1, changed: 2, removed: 1, unchanged: 1 });
      expect(p.value.added).toEqual([{ path: 'NEW', type: 'file', size: 4 }]);
      expect(p.value.changed).toEqual([
        { path: 'README', type: 'file', size: 13, before: 6 },
        { path: 'docs/guide.txt', type: 'exec', size: 8, before: 8 },
      ]);
      expect(p.value.removed).toEqual([{ path: 'big.bin', type: 'file', size: (1 << 20) + 4321 }]);
    } finally {
      await service.dispose();
    }
  });

  it('refuses a relative folder, a symbolic link, and an anonymous identity, each in one sentence', async () => {
    const { service, dir } = await ready();
    try {
      expect(await service.previewCommit('work', BRANCH)).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('absolute') } });
      const { symlinkSync } = await import('node:fs');
      symlinkSync('/etc/hostname', join(dir, 'link'));
      const linked = await service.previewCommit(dir, BRANCH);
      expect(linked).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('symbolic link') } });
      rmSync(join(dir, 'link'));
      await service.setIdentity({ kind: 'anonymous' });
      const anonymous = await service.commitFolder(dir, BRANCH, 'x');
      expect(anonymous).toMatchObject({ ok: false, error: { code: 'key', message: expect.stringContaining('choose or make a key in Identity') } });
      // Naming the key signs with it anyway.
      expect(await service.commitFolder(dir, BRANCH, 'x', 'carol@example.org')).toMatchObject({ ok: true, value: { signer: 'carol@example.org' } });
      // The engine has no folder picker: the desktop app's main process answers that call.
      expect(await service.pickFolder('Folder')).toMatchObject({ ok: false, error: { code: 'usage' } });
    } finally {
      await service.dispose();
    }
  });

  it("main's folder picker: the chosen folder, or null when cancelled, modal to the window", async () => {
    const asked: { window: boolean; options: OpenDialogOptions }[] = [];
    let answer = { canceled: false, filePaths: ['/home/me/project'] };
    const dialog = {
      showOpenDialog: async (a: BrowserWindow | OpenDialogOptions, b?: OpenDialogOptions) => {
        asked.push({ window: b !== undefined, options: (b ?? a) as OpenDialogOptions });
        return answer;
      },
    };
    const win = {} as BrowserWindow;
    const pick = folderPicker(dialog, () => win);
    expect(await pick('Folder to commit')).toEqual({ ok: true, value: '/home/me/project' });
    answer = { canceled: true, filePaths: [] };
    expect(await pick('Folder to commit')).toEqual({ ok: true, value: null });
    expect(asked[0]).toEqual({ window: true, options: { title: 'Folder to commit', properties: ['openDirectory', 'createDirectory'] } });
  });
});
