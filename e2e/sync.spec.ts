/**
 * Two engines over a real socket: the UI's database and a `netsync serve`
 * process with its own database, key and permissions, both on loopback.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { addPeer, cli, expect, makeDemoDatabase, peerWorkspace, snap, startServe, test } from './fixtures.js';

/** The fingerprint `netsync key fingerprint` prints for the only key of a workspace: what a server's owner reads out. */
function ownerFingerprint(configDirOwner: Parameters<typeof cli>[0], db: string): string {
  return cli(configDirOwner, ['--db', db, 'key', 'fingerprint']).trim().split(' ').slice(1).join(' ');
}

/** First contact: the dialog shows the server's fingerprint; compare, then accept. */
async function acceptServer(app: Page, fingerprint: string) {
  const dialog = app.getByTestId('confirm-server');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('confirm-server-fingerprint')).toHaveText(fingerprint);
  await dialog.getByTestId('confirm-server-accept').click();
  await expect(dialog).toBeHidden();
}

test('diff then sync with a served peer brings both collections to their union', async ({ app, workspace }, testInfo) => {
  const remote = peerWorkspace(workspace, 'peer');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
  // Rules only grant (src/engine/security/permissions.ts): let any keyed client read and write everything.
  writeFileSync(join(remote.configDir, 'permissions'), 'read * *\nwrite * *\n');
  const server = await startServe(remote, theirs.db);
  try {
    const card = await addPeer(app, 'bob', server.address);
    await card.getByTestId('peer-diff').click();
    await expect(app.getByTestId('confirm-server-fingerprint')).toBeVisible();
    await snap(app, 'confirm-server', (n) => testInfo.outputPath(n));
    await acceptServer(app, ownerFingerprint(remote, theirs.db));

    const weLack = app.getByTestId('diff-we-lack');
    const theyLack = app.getByTestId('diff-they-lack');
    await expect(weLack).toContainText('org.example.peer');
    await expect(theyLack).toContainText('org.example.demo');
    await expect(app.getByTestId('weLack-items').getByRole('row').nth(1)).toContainText('org.example.peer');
    await expect(app.getByTestId('diff-fingerprint')).toContainText('Server key');
    await snap(app, 'diff-live', (n) => testInfo.outputPath(n));

    await app.getByRole('button', { name: 'Sync now' }).click();
    await app.getByTestId('nav-transfers').click();
    await expect(app.getByTestId('transfer-phase')).toHaveText('done');
    await expect(app.getByTestId('transfer-detail')).toContainText('Sync with bob');
    await snap(app, 'transfer-done', (n) => testInfo.outputPath(n));

    // Back on the diff: every row ticked as its item moved, and the counts above come from the same moved ids.
    await app.getByTestId('nav-diff').click();
    await expect(app.getByTestId('weLack-moved')).toContainText('arrived since this comparison');
    await expect(app.getByTestId('theyLack-moved')).toContainText('sent since this comparison');
    await expect(weLack.locator('.big')).toHaveText(/^0 items/);
    await expect(theyLack.locator('.big')).toHaveText(/^0 items/);
    await expect(weLack).toContainText('all moved');
    await expect(theyLack).toContainText('all moved');
    for (const list of ['weLack-items', 'theyLack-items']) {
      const rows = app.getByTestId(list).getByRole('row');
      const count = await rows.count();
      expect(count).toBeGreaterThan(1);
      await expect(app.getByTestId(list).locator('.badge.ok')).toHaveCount(count - 1);
    }
    await snap(app, 'diff-moved', (n) => testInfo.outputPath(n));

    await app.getByTestId('nav-peers').click();
    await expect(card.getByTestId('peer-state')).toHaveText('Up to date');
    await expect(card).toContainText(/Last sync .*: \d+ items in/);
    // Pinned now: the next session asks nothing.
    await card.getByTestId('peer-connect').click();
    await expect(card.getByTestId('peer-state')).toHaveText('Up to date');
    await expect(app.getByTestId('confirm-server')).toHaveCount(0);

    await app.getByTestId('nav-collection').click();
    await expect(app.getByTestId('branch-list')).toContainText('org.example.peer');
    expect(cli(remote, ['--db', theirs.db, 'branches'])).toContain('org.example.demo');
  } finally {
    await server.stop();
  }
});

test('a second key made in the UI is chosen as the identity, and the sync runs as that key', async ({ app, workspace }, testInfo) => {
  const remote = peerWorkspace(workspace, 'peer');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
  const permissions = join(remote.configDir, 'permissions');
  writeFileSync(permissions, 'read * *\n');
  const server = await startServe(remote, theirs.db);
  try {
    await app.getByTestId('nav-identity').click();
    await app.getByTestId('key-name').fill('carol@example.org');
    await app.getByTestId('key-generate').click();
    await expect(app.getByTestId('key-generated')).toContainText('Made key carol@example.org');
    await expect(app.getByTestId('identity-choose')).toBeVisible();

    // Two keys, none chosen: the sync says so, with the way to choose.
    const card = await addPeer(app, 'bob', server.address);
    await card.getByTestId('peer-sync').click();
    await expect(card.getByTestId('peer-error')).toHaveText(/^Several keys exist \(alice@example\.org, carol@example\.org\); choose/);
    await card.getByTestId('choose-identity').click();

    await app.getByTestId('identity-carol@example.org').check();
    await expect(app.getByTestId('identity-choose')).toBeHidden();
    const carolRow = app.getByTestId('key-row').filter({ hasText: 'carol@example.org' });
    const carol = (await carolRow.getByTestId('key-fingerprint').textContent())!;
    await snap(app, 'identity', (n) => testInfo.outputPath(n));

    // Only carol may write on the server: a push that lands proves who we were.
    writeFileSync(permissions, `read * *\nwrite ${carol} *\n`);
    await app.getByTestId('nav-peers').click();
    await card.getByTestId('peer-sync').click();
    await acceptServer(app, ownerFingerprint(remote, theirs.db));
    await expect(card.getByTestId('peer-state')).toHaveText('Up to date');
    expect(cli(remote, ['--db', theirs.db, 'branches'])).toContain('org.example.demo');
    expect(readFileSync(join(workspace.configDir, 'identity.json'), 'utf8')).toContain('carol@example.org');
  } finally {
    await server.stop();
  }
});
