/**
 * Commit from the window (issue #20), against the web host and a real
 * database: a folder typed on the Collection screen is previewed (what is
 * added, with sizes), committed with a message, and shows in its branch's
 * log; a change is previewed against that head; the version is checked out
 * to a new folder byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, snap, test, writeTree } from './fixtures.js';

test('commit a folder from the Collection screen and see it in the log', async ({ app, workspace }, testInfo) => {
  const dir = writeTree(workspace, 'window-work', { 'notes.txt': 'written in the window\n', 'img/logo.svg': '<svg/>\n' });
  await app.getByTestId('nav-collection').click();
  await app.getByTestId('open-commit').click();
  const dialog = app.getByTestId('commit-dialog');
  await expect(dialog).toBeVisible();
  // The web host has no system picker: the path is typed.
  await expect(dialog.getByTestId('commit-dir-pick')).toHaveCount(0);
  await dialog.getByTestId('commit-dir').fill(dir);
  await dialog.getByTestId('commit-branch').fill('org.example.window');
  await dialog.getByTestId('commit-preview-submit').click();
  await expect(dialog.getByTestId('commit-preview')).toContainText('A new branch org.example.window');
  await expect(dialog.getByTestId('commit-preview')).toContainText('3 added, 0 changed, 0 removed');
  await expect(dialog.getByTestId('preview-added')).toContainText('notes.txt');
  await expect(dialog.getByTestId('preview-added')).toContainText('22 B');
  await dialog.getByTestId('commit-message').fill('From the window');
  await snap(app, 'commit-preview', (n) => testInfo.outputPath(n));
  await dialog.getByTestId('commit-submit').click();
  await expect(dialog.getByTestId('commit-result')).toContainText('Committed 2 files');
  await expect(dialog.getByTestId('commit-result')).toContainText('signed by alice@example.org');
  await dialog.getByTestId('commit-close').click();
  await expect(dialog).toBeHidden();

  await expect(app.getByTestId('branch-list')).toContainText('org.example.window');
  await expect(app.getByTestId('log').getByTestId('log-entry').first()).toContainText('From the window');

  // A change is previewed against that head, with the size before and after.
  writeFileSync(join(dir, 'notes.txt'), 'written in the window, then edited\n');
  await app.getByTestId('open-commit').click();
  await dialog.getByTestId('commit-dir').fill(dir);
  await expect(dialog.getByTestId('commit-branch')).toHaveValue('org.example.window');
  await dialog.getByTestId('commit-preview-submit').click();
  await expect(dialog.getByTestId('commit-preview')).toContainText('0 added, 1 changed, 0 removed, 2 unchanged');
  await expect(dialog.getByTestId('preview-changed')).toContainText('22 B → 35 B');
  await dialog.getByTestId('commit-message').fill('Edited');
  await dialog.getByTestId('commit-submit').click();
  await expect(dialog.getByTestId('commit-result')).toContainText('Committed');
  await dialog.getByTestId('commit-close').click();
  await expect(app.getByTestId('log').getByTestId('log-entry')).toHaveCount(2);
  await expect(app.getByTestId('log').getByTestId('log-entry').first()).toContainText('Edited');

  // Out again: the version shown, into a new folder.
  const out = workspace.path('checked-out');
  await app.getByTestId('open-checkout').click();
  const checkout = app.getByTestId('checkout-dialog');
  await checkout.getByTestId('checkout-dialog-dir').fill(out);
  await checkout.getByTestId('checkout-dialog-submit').click();
  await expect(checkout.getByTestId('checkout-dialog-result')).toContainText('Wrote 2 files');
  expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('written in the window, then edited\n');
});
