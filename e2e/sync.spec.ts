/**
 * Two engines over a real socket: the UI's database and a `netsync serve`
 * process with its own database, key and permissions, both on loopback.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, expect, makeDemoDatabase, peerWorkspace, snap, startServe, test } from './fixtures.js';

test('diff then sync with a served peer brings both collections to their union', async ({ app, workspace }, testInfo) => {
  const remote = peerWorkspace(workspace, 'peer');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
  // Rules only grant (src/engine/security/permissions.ts): let any keyed client read and write everything.
  writeFileSync(join(remote.configDir, 'permissions'), 'read * *\nwrite * *\n');
  const server = await startServe(remote, theirs.db);
  try {
    await app.getByTestId('add-peer-name').fill('bob');
    await app.getByTestId('add-peer-address').fill(server.address);
    await app.getByTestId('add-peer-submit').click();
    const card = app.getByTestId('peer-card').filter({ hasText: 'bob' });

    await card.getByTestId('peer-diff').click();
    const weLack = app.getByTestId('diff-we-lack');
    const theyLack = app.getByTestId('diff-they-lack');
    await expect(weLack).toContainText('org.example.peer');
    await expect(theyLack).toContainText('org.example.demo');
    await expect(app.getByTestId('diff-fingerprint')).toContainText('Server key');
    await snap(app, 'diff-live', (n) => testInfo.outputPath(n));

    await app.getByRole('button', { name: 'Sync now' }).click();
    await app.getByTestId('nav-transfers').click();
    await expect(app.getByTestId('transfer-phase')).toHaveText('done');
    await expect(app.getByTestId('transfer-detail')).toContainText('Sync with bob');
    await snap(app, 'transfer-done', (n) => testInfo.outputPath(n));

    await app.getByTestId('nav-peers').click();
    await expect(card.getByTestId('peer-state')).toHaveText('Done');
    await expect(card).toContainText(/Last sync .*: \d+ items in/);

    await app.getByTestId('nav-collection').click();
    await expect(app.getByTestId('branch-list')).toContainText('org.example.peer');
    expect(cli(remote, ['--db', theirs.db, 'branches'])).toContain('org.example.demo');
  } finally {
    await server.stop();
  }
});
