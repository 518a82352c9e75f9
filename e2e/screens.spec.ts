/**
 * Every screen, filled with what a real session shows, at 800x600, 1280x800
 * and 1920x1200, light and dark: nothing clipped or spilling out of its box
 * (e2e/layout.ts), and no serious or critical axe-core violation.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addPeer, cli, expect, makeDemoDatabase, peerWorkspace, startServe, test, writeTree } from './fixtures.js';
import { type ScreenCase, type ScreenFinding, checkScreens, failing, formatFindings, navScreen } from './screens.js';

/** The first-contact question, as it stands: nothing to navigate to. */
const confirmServer: ScreenCase = {
  name: 'confirm-server dialog',
  show: (page) => page.getByTestId('confirm-server').waitFor(),
};

/** The passphrase question of a sealed key, as it stands. */
const passphrase: ScreenCase = {
  name: 'passphrase dialog',
  show: (page) => page.getByTestId('passphrase').waitFor(),
};

const diffScreen = navScreen('diff', 'diff', (p) => p.getByTestId('weLack-items'));

const identityScreen: ScreenCase = {
  name: 'identity',
  async show(page) {
    await page.getByTestId('nav-identity').click();
    await page.getByTestId('key-share').first().locator('summary').click();
    await page.getByTestId('key-export').first().waitFor();
  },
};

/** The screens once a sync has run: each with its content. */
const AFTER_SYNC: ScreenCase[] = [
  navScreen('peers', 'peers', (p) => p.getByTestId('peer-card')),
  diffScreen,
  navScreen('transfers', 'transfers', (p) => p.getByTestId('transfer-detail')),
  {
    name: 'collection',
    async show(page) {
      await page.getByTestId('nav-collection').click();
      await page.getByTestId('branch-item').filter({ hasText: 'org.example.demo' }).click();
      await page.getByTestId('manifest-tree').waitFor();
      await page.getByTestId('signer').first().waitFor();
    },
  },
  navScreen('server', 'server', (p) => p.getByTestId('permissions-problems')),
  identityScreen,
];

function report(findings: ScreenFinding[]): string {
  return findings.length === 0 ? 'none' : formatFindings(findings);
}

/** Checked at the end, so that one run lists every screen's findings. */
function expectClean(findings: ScreenFinding[]) {
  // Moderate and minor axe findings are printed, not failed: worth reading, not blocking.
  const bad = failing(findings);
  const notFailing = findings.filter((f) => !bad.includes(f));
  if (notFailing.length > 0) console.log(`moderate or minor findings:\n${report(notFailing)}`);
  expect(report(bad)).toBe('none');
}

/** The states that tell the truth (issue #19): refusals, kept transfers after a reload, the permissions picker with a refused paste. */
const TRUTH: ScreenCase[] = [
  navScreen('peers, a refused branch', 'peers', (p) => p.getByTestId('peer-notes')),
  navScreen('diff, a refused branch', 'diff', (p) => p.getByTestId('diff-blocked')),
  navScreen('transfers, done but refused', 'transfers', (p) => p.getByTestId('transfer-refused')),
  {
    name: 'server, a rule from a pasted fingerprint refused',
    async show(page) {
      await page.getByTestId('nav-server').click();
      await page.getByTestId('rule-who').selectOption('paste');
      await page.getByTestId('rule-fingerprint').fill('12ab 34cd');
      await page.getByTestId('rule-patterns').fill('org.example.*');
      await page.getByTestId('rule-add').click();
      await page.getByTestId('rule-problem').waitFor();
    },
  },
];

const TRUTH_AFTER_RELOAD: ScreenCase[] = [navScreen('transfers, kept across a reload', 'transfers', (p) => p.getByTestId('transfer-no-chart'))];

test('the states that say what was refused or kept fit and pass axe-core, light and dark, at three sizes', async ({ app, workspace }, testInfo) => {
  test.setTimeout(300_000);
  const remote = peerWorkspace(workspace, 'peer');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
  writeFileSync(join(remote.configDir, 'permissions'), 'read * *\n');
  // Offers only its own branch: ours is refused.
  const server = await startServe(remote, theirs.db, ['org.example.peer']);
  const findings: ScreenFinding[] = [];
  try {
    const card = await addPeer(app, 'bob', server.address);
    await card.getByTestId('peer-include').fill('org.example.*');
    await card.getByRole('button', { name: 'Save branches' }).click();
    await card.getByTestId('peer-diff').click();
    await app.getByTestId('confirm-server-accept').click();
    await expect(app.getByTestId('diff-blocked')).toBeVisible();
    findings.push(...(await checkScreens(app, TRUTH)));
    await app.reload();
    findings.push(...(await checkScreens(app, TRUTH_AFTER_RELOAD)));
  } finally {
    await server.stop();
  }
  await testInfo.attach('findings', { body: report(findings) });
  expectClean(findings);
});

test('every screen fits its window and passes axe-core, light and dark, at three sizes', async ({ app, demo, workspace }, testInfo) => {
  test.setTimeout(300_000);
  const remote = peerWorkspace(workspace, 'peer');
  const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer.with-a-long-branch-name', 'bob@example.org');
  writeFileSync(join(remote.configDir, 'permissions'), 'read * *\nwrite * *\n');
  // A signer the user has not chosen to trust, so the Collection screen shows the mark and the button.
  const bob = peerWorkspace(workspace, 'bob');
  cli(bob, ['--db', demo.db, 'key', 'generate', 'bob@example.org']);
  const tree = writeTree(workspace, 'bob-v1', { README: 'Bob was here\n', 'docs/a/deeply/nested/folder/with-a-rather-long-file-name.txt': 'deep\n' });
  cli(bob, ['--db', demo.db, 'commit', tree, '--branch', demo.branch, '--parent', 'head', '--message', 'From bob', '--key', 'bob@example.org']);
  const server = await startServe(remote, theirs.db);
  const findings: ScreenFinding[] = [];
  try {
    const card = await addPeer(app, 'bob', server.address);
    await card.getByTestId('peer-include').fill('org.example.*');
    await card.getByRole('button', { name: 'Save branches' }).click();
    await card.getByTestId('peer-diff').click();
    findings.push(...(await checkScreens(app, [confirmServer])));
    await app.getByTestId('confirm-server-accept').click();
    await expect(app.getByTestId('diff-we-lack')).toContainText('org.example.peer');
    findings.push(...(await checkScreens(app, [diffScreen])));

    await app.getByRole('button', { name: 'Sync now' }).click();
    await expect(app.getByTestId('weLack-moved')).toBeVisible();
    await app.getByTestId('nav-server').click();
    await app.getByTestId('server-bind').fill('127.0.0.1:0');
    await app.getByTestId('server-toggle').click();
    await expect(app.getByTestId('server-status')).toHaveText(/Serving on/);
    await app.getByTestId('permissions-text').fill('read * org.example.*\nread nobody org.example.*\nwrite anonymous');
    await app.getByTestId('permissions-save').click();
    await expect(app.getByTestId('permissions-problems')).toBeVisible();

    // A peer that cannot be reached: its card and its transfer show the failure.
    const nowhere = await addPeer(app, 'nowhere', '127.0.0.1:1');
    await nowhere.getByTestId('peer-connect').click();
    await expect(nowhere.getByTestId('peer-error')).toBeVisible();
    findings.push(...(await checkScreens(app, AFTER_SYNC)));

    // A second key of ours, sealed with a passphrase (made by the command line, so the window has not unlocked it):
    // the identity screen offers to unlock it, and asks the passphrase.
    process.env.NETSYNC_PASSPHRASE = 'a passphrase';
    try {
      cli(workspace, ['--db', demo.db, 'key', 'generate', 'carol@example.org', '--passphrase']);
    } finally {
      delete process.env.NETSYNC_PASSPHRASE;
    }
    await app.getByTestId('nav-peers').click();
    await app.getByTestId('nav-identity').click();
    await app.getByTestId('unlock-carol@example.org').click();
    findings.push(...(await checkScreens(app, [passphrase])));
    await app.getByTestId('passphrase').getByRole('button', { name: 'Cancel' }).click();
    findings.push(...(await checkScreens(app, [identityScreen])));
    await app.getByTestId('nav-server').click();
    await app.getByTestId('server-toggle').click();
    await expect(app.getByTestId('server-status')).toHaveText(/Not serving/);
  } finally {
    await server.stop();
  }
  await testInfo.attach('findings', { body: report(findings) });
  expectClean(findings);
});
