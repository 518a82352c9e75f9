/**
 * Heads in the window (issue #17): two people commit to one branch from the
 * same version, a sync brings the other's commit, the peer's card and the
 * Collection screen say the branch has two heads, and Merge joins them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { addPeer, cli, expect, makeDemoDatabase, peerWorkspace, snap, startServe, test } from './fixtures.js';

async function acceptServer(app: Page) {
  await app.getByTestId('confirm-server-accept').click();
  await expect(app.getByTestId('confirm-server')).toBeHidden();
}

test('two heads after a sync are shown on the card and the Collection screen, and Merge joins them', async ({ app, demo, workspace }, testInfo) => {
  const remote = peerWorkspace(workspace, 'peer');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
  writeFileSync(join(remote.configDir, 'permissions'), 'read * *\nwrite * *\n');
  const server = await startServe(remote, theirs.db);
  try {
    const card = await addPeer(app, 'bob', server.address);
    await card.getByTestId('peer-sync').click();
    await acceptServer(app);
    await expect(card.getByTestId('peer-state')).toHaveText('Up to date');

    // Both commit to the demo branch from the version they share: Bob in his database, Alice (the app's user) in hers.
    const bobDir = remote.path('bob-work');
    cli(remote, ['--db', theirs.db, 'checkout', demo.branch, bobDir]);
    writeFileSync(join(bobDir, 'bob.txt'), 'Bob was here\n');
    cli(remote, ['--db', theirs.db, 'commit', bobDir, '--branch', demo.branch, '--message', 'From bob', '--key', theirs.key]);
    const aliceDir = workspace.path('alice-work');
    cli(workspace, ['--db', demo.db, 'checkout', demo.branch, aliceDir]);
    writeFileSync(join(aliceDir, 'alice.txt'), 'Alice was here\n');
    cli(workspace, ['--db', demo.db, 'commit', aliceDir, '--branch', demo.branch, '--message', 'From alice', '--key', demo.key]);

    await card.getByTestId('peer-sync').click();
    await expect(card.getByTestId('peer-forks')).toHaveText(
      `${demo.branch} now has 2 heads (versions committed concurrently on different sides): nothing was lost, and netsync merge ${demo.branch} joins them.`,
    );

    await app.getByTestId('nav-collection').click();
    const branch = app.getByTestId('branch-list').getByRole('button', { name: new RegExp(demo.branch.replace(/\./g, '\\.')) });
    await expect(branch.getByTestId('branch-heads')).toHaveText('2 heads');
    await branch.click();
    await expect(app.getByTestId('log-head')).toHaveCount(2);
    await expect(app.getByTestId('log-forked')).toContainText(`${demo.branch} has 2 heads`);
    await snap(app, 'collection-heads', (n) => testInfo.outputPath(n));

    await app.getByTestId('merge-heads').click();
    await expect(app.getByTestId('merge-result')).toContainText(`${demo.branch} now has 1 head.`);
    await expect(app.getByTestId('log-forked')).toHaveCount(0);
    await expect(app.getByTestId('log').getByTestId('log-entry').first()).toContainText('merge of');
    await expect(branch.getByTestId('branch-heads')).toHaveCount(0);
    // The merged head holds both sides, as the command line checks it out.
    const out = workspace.path('merged');
    cli(workspace, ['--db', demo.db, 'checkout', demo.branch, out]);
    expect(readFileSync(join(out, 'bob.txt'), 'utf8')).toBe('Bob was here\n');
    expect(readFileSync(join(out, 'alice.txt'), 'utf8')).toBe('Alice was here\n');
    expect(cli(workspace, ['--db', demo.db, 'heads', demo.branch]).trim().split('\n')).toHaveLength(1);
    expect(cli(workspace, ['--db', demo.db, 'db', 'check'])).toMatch(/index matches a fresh rebuild/);
  } finally {
    await server.stop();
  }
});
