/**
 * Keep in sync from the window (issue #20): a peer served by `netsync serve`
 * is marked "keep in sync" once; after that no click moves anything. What
 * the server has arrives, a folder committed in the window reaches the
 * server through the change notifier, and a commit made on the server
 * arrives within the peer's interval. Two apps do the same with each other,
 * one serving from its Server screen: a commit in either window appears in
 * the other, and the receiving page says what arrived.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { addPeer, cli, expect, freePort, makeDemoDatabase, peerWorkspace, snap, startServe, startWebHost, test, writeTree } from './fixtures.js';

test('a peer kept in sync follows both sides with no click after setup', async ({ app, workspace }, testInfo) => {
  const remote = peerWorkspace(workspace, 'peer');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
  writeFileSync(join(remote.configDir, 'permissions'), 'read * *\nwrite * *\n');
  const server = await startServe(remote, theirs.db);
  try {
    const card = await addPeer(app, 'bob', server.address);
    await card.getByTestId('peer-interval').fill('5');
    await card.getByTestId('peer-interval-save').click();
    await expect(card.getByTestId('peer-interval-save')).toHaveCount(0);
    await card.getByTestId('peer-keep').click();
    // The automatic session meets the server first: its key is confirmed as for any session.
    await app.getByTestId('confirm-server-accept').click();
    await expect(card.getByTestId('peer-keep')).toBeChecked();
    await expect(card.getByTestId('peer-auto')).toContainText('Synced at', { timeout: 20_000 });
    await expect(card.getByTestId('peer-state')).toHaveText('Up to date');
    await snap(app, 'peer-kept-in-sync', (n) => testInfo.outputPath(n));

    // Setup is over: from here on, nothing is clicked on the Peers screen.
    await app.getByTestId('nav-collection').click();
    await expect(app.getByTestId('branch-list')).toContainText('org.example.peer');

    // The window's commit reaches the server by itself.
    const dir = writeTree(workspace, 'kept-work', { 'kept.txt': 'committed in the window\n' });
    await app.getByTestId('open-commit').click();
    const dialog = app.getByTestId('commit-dialog');
    await dialog.getByTestId('commit-dir').fill(dir);
    await dialog.getByTestId('commit-branch').fill('org.example.kept');
    await dialog.getByTestId('commit-preview-submit').click();
    await dialog.getByTestId('commit-submit').click();
    await expect(dialog.getByTestId('commit-result')).toContainText('Committed');
    await dialog.getByTestId('commit-close').click();
    await expect.poll(() => cli(remote, ['--db', theirs.db, 'branches']), { timeout: 20_000 }).toContain('org.example.kept');

    // A commit on the server arrives within the interval (5 s).
    const there = writeTree(remote, 'server-work', { 'from-server.txt': 'committed on the server\n' });
    cli(remote, ['--db', theirs.db, 'commit', there, '--branch', 'org.example.server', '--message', 'On the server']);
    await expect(app.getByTestId('branch-list')).toContainText('org.example.server', { timeout: 20_000 });
  } finally {
    await server.stop();
  }
});

/** Commits `dir` to `branch` from the Collection screen of `page`. */
async function commitFromWindow(page: Page, dir: string, branch: string, message: string) {
  await page.getByTestId('nav-collection').click();
  await page.getByTestId('open-commit').click();
  const dialog = page.getByTestId('commit-dialog');
  await dialog.getByTestId('commit-dir').fill(dir);
  await dialog.getByTestId('commit-branch').fill(branch);
  await dialog.getByTestId('commit-preview-submit').click();
  await dialog.getByTestId('commit-message').fill(message);
  await dialog.getByTestId('commit-submit').click();
  await expect(dialog.getByTestId('commit-result')).toContainText('Committed');
  await dialog.getByTestId('commit-close').click();
}

test('two apps keep a branch in sync: a commit in either window appears in the other', async ({ app, workspace, browser }) => {
  const remote = peerWorkspace(workspace, 'other');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
  writeFileSync(join(remote.configDir, 'permissions'), 'read * *\nwrite * *\n');
  const host = await startWebHost(remote, theirs.db);
  const context = await browser.newContext();
  try {
    const other = await context.newPage();
    await other.goto(host.url);
    const port = await freePort();
    await other.getByTestId('nav-server').click();
    await other.getByTestId('server-bind').fill(`127.0.0.1:${port}`);
    await other.getByTestId('server-toggle').click();
    await expect(other.getByTestId('server-status')).toHaveText(/Serving on 127\.0\.0\.1:\d+/);

    const card = await addPeer(app, 'other', `127.0.0.1:${port}`);
    await card.getByTestId('peer-interval').fill('5');
    await card.getByTestId('peer-interval-save').click();
    await card.getByTestId('peer-keep').click();
    await app.getByTestId('confirm-server-accept').click();
    await expect(card.getByTestId('peer-auto')).toContainText('Synced at', { timeout: 20_000 });

    // No click on the Peers screen from here. The other window commits: ours has it within the interval, and says so.
    await commitFromWindow(other, writeTree(remote, 'their-work', { 'theirs.txt': 'from the other window\n' }), 'org.example.theirs', 'Theirs');
    await app.getByTestId('nav-collection').click();
    await expect(app.getByTestId('branch-list')).toContainText('org.example.theirs', { timeout: 20_000 });
    await expect(app.getByTestId('notices')).toContainText('1 new version of org.example.theirs');

    // Ours commits: the change notifier sends it, and the other window shows it without a reload.
    await commitFromWindow(app, writeTree(workspace, 'our-work', { 'ours.txt': 'from this window\n' }), 'org.example.ours', 'Ours');
    await other.getByTestId('nav-collection').click();
    await expect(other.getByTestId('branch-list')).toContainText('org.example.ours', { timeout: 20_000 });
  } finally {
    await context.close();
    await host.stop();
  }
});
