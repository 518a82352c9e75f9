/**
 * The UI end to end through the headless web host: a real database made with
 * the CLI, the engine in its worker, the renderer in chromium.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addPeer, cli, expect, peerWorkspace, snap, test, writeTree } from './fixtures.js';

test('the collection: branches, a log with its signer, the manifest tree, and checkout', async ({ app, demo, workspace }, testInfo) => {
  await app.getByTestId('nav-collection').click();
  const branches = app.getByTestId('branch-list');
  await expect(branches).toContainText(demo.branch);

  await branches.getByRole('button', { name: new RegExp(demo.branch.replace(/\./g, '\\.')) }).click();
  const log = app.getByTestId('log');
  await expect(log.getByTestId('log-entry')).toHaveCount(2);
  await expect(log.getByTestId('log-entry').first()).toContainText('Add the FAQ');
  await expect(log).toContainText(`signed by ${demo.key}`);

  const tree = app.getByTestId('manifest-tree');
  await expect(tree).toContainText('docs/');
  await expect(tree).toContainText('faq.txt');
  await expect(tree).toContainText('README');
  await snap(app, 'collection', (n) => testInfo.outputPath(n));

  await log.getByTestId('log-entry').nth(1).click();
  await expect(tree).not.toContainText('faq.txt');

  await app.getByTestId('checkout-dir').fill(workspace.path('checkout'));
  await app.getByTestId('checkout-submit').click();
  await expect(app.getByTestId('checkout-result')).toContainText('Wrote 3 files and 2 folders');

  await app.emulateMedia({ colorScheme: 'dark' });
  await snap(app, 'collection-dark', (n) => testInfo.outputPath(n));
});

test('trust in content: a signer whose key you have not chosen to trust is marked until you trust it', async ({ app, demo, workspace }, testInfo) => {
  // Bob, on another machine, signs a commit on the same branch; this user (alice) has never trusted his key.
  const bob = peerWorkspace(workspace, 'bob');
  cli(bob, ['--db', demo.db, 'key', 'generate', 'bob@example.org']);
  const tree = writeTree(workspace, 'bob-v1', { README: 'Bob was here\n' });
  cli(bob, ['--db', demo.db, 'commit', tree, '--branch', demo.branch, '--parent', 'head', '--message', 'From bob', '--key', 'bob@example.org']);

  await app.getByTestId('nav-collection').click();
  await app
    .getByTestId('branch-list')
    .getByRole('button', { name: new RegExp(demo.branch.replace(/\./g, '\\.')) })
    .click();
  const entries = app.getByTestId('log').getByTestId('log-entry');
  await expect(entries).toHaveCount(3);
  await expect(entries.first()).toContainText('From bob');
  await expect(entries.first()).toContainText('signed by bob@example.org');
  await expect(entries.first().getByTestId('untrusted-mark')).toHaveText('untrusted');
  // The user's own signatures are never marked.
  await expect(entries.nth(1).getByTestId('untrusted-mark')).toHaveCount(0);

  const signer = app.getByTestId('signer').filter({ hasText: 'bob@example.org' });
  const mark = signer.getByTestId('untrusted-mark');
  await expect(mark).toHaveText('untrusted');
  await expect(mark).toHaveAttribute('title', 'Valid signature, but you have not chosen to trust this key.');
  await snap(app, 'collection-untrusted', (n) => testInfo.outputPath(n));

  await signer.getByRole('button', { name: 'Trust this key' }).click();
  await expect(app.getByTestId('untrusted-mark')).toHaveCount(0);
  await expect(signer).toContainText('trusted');
  // The same local list as the command line's: `netsync log` no longer marks him either.
  expect(cli(workspace, ['--db', demo.db, 'log', demo.branch])).not.toContain('UNTRUSTED');
  expect(readFileSync(join(workspace.configDir, 'trusted_keys'), 'utf8')).toMatch(/^[0-9a-f]{64} bob@example\.org$/m);

  // Taken back from the Identity screen's key list: the log is marked again.
  await app.getByTestId('nav-identity').click();
  const row = app.getByTestId('key-row').filter({ hasText: 'bob@example.org' });
  await row.getByRole('button', { name: 'Stop trusting' }).click();
  await expect(row.getByTestId('untrusted-mark')).toHaveText('untrusted');
  await app.getByTestId('nav-collection').click();
  await expect(entries.first().getByTestId('untrusted-mark')).toHaveText('untrusted');
  expect(cli(workspace, ['--db', demo.db, 'log', demo.branch])).toContain('[UNTRUSTED key');
});

test('a peer that cannot be reached gets one clear sentence after Diff', async ({ app }, testInfo) => {
  await expect(app.getByRole('heading', { name: 'Peers' })).toBeVisible();
  await app.getByTestId('add-peer-name').fill('nowhere');
  await app.getByTestId('add-peer-address').fill('127.0.0.1:1');
  await app.getByTestId('add-peer-submit').click();
  const card = app.getByTestId('peer-card').filter({ hasText: 'nowhere' });
  await expect(card).toBeVisible();

  await card.getByTestId('peer-direction-pull').click();
  await expect(card.getByTestId('peer-sync')).toHaveText('Pull');

  await card.getByTestId('peer-diff').click();
  await expect(app.getByRole('heading', { name: 'Diff with nowhere' })).toBeVisible();
  const error = app.getByTestId('diff-error');
  await expect(error).toBeVisible();
  // One sentence: capitalised, naming the address, ending with what to do (here a question), no stack trace.
  await expect(error).toHaveText(/^[A-Z][^\n]*127\.0\.0\.1:1[^\n]*; is the peer's server running\?$/);
  const sentence = await error.textContent();
  await snap(app, 'diff', (n) => testInfo.outputPath(n));

  await app.getByTestId('nav-peers').click();
  await expect(card.getByTestId('peer-error')).toHaveText(sentence!);
  await expect(card.getByTestId('peer-state')).toHaveText('Failed');
  await snap(app, 'peers', (n) => testInfo.outputPath(n));

  await app.getByTestId('nav-transfers').click();
  await expect(app.getByTestId('transfer-phase')).toHaveText('error');
  await snap(app, 'transfers', (n) => testInfo.outputPath(n));

  // The direction is remembered by the engine, not just the page.
  await app.reload();
  await expect(app.getByTestId('peer-card').filter({ hasText: 'nowhere' }).getByTestId('peer-sync')).toHaveText('Pull');
});

test('generating a key in the Identity screen', async ({ app, demo }, testInfo) => {
  await app.getByTestId('nav-identity').click();
  await expect(app.getByTestId('key-list')).toContainText(demo.key);
  await app.getByTestId('key-name').fill('bob@example.org');
  await app.getByTestId('key-generate').click();
  await expect(app.getByTestId('key-generated')).toContainText('Made key bob@example.org');
  await expect(app.getByTestId('key-row')).toHaveCount(2);

  await app.getByTestId('key-name').fill('bob@example.org');
  await app.getByTestId('key-generate').click();
  await expect(app.getByTestId('key-error')).toHaveText(/^A private key named "bob@example\.org" already exists/);

  // Someone else's public key, as `netsync key export` prints it.
  const bob = (await app.getByTestId('key-share').filter({ hasText: 'bob@example.org' }).getByTestId('key-export').inputValue()).replace(
    'bob@example.org',
    'dave@example.org',
  );
  await app.getByTestId('import-text').fill(bob);
  await app.getByTestId('import-submit').click();
  await expect(app.getByTestId('key-imported')).toContainText('Imported dave@example.org');
  await expect(app.getByTestId('key-row').filter({ hasText: 'dave@example.org' })).toContainText('public only');
  await app.getByTestId('import-text').fill('ssh-ed25519 AAAA');
  await app.getByTestId('import-submit').click();
  await expect(app.getByTestId('import-error')).toHaveText(/^The pasted text is not a Netsync public key/);
  await snap(app, 'identity-keys', (n) => testInfo.outputPath(n));
});

test('serving from the Server screen, with its permissions edited there', async ({ app, demo, workspace }, testInfo) => {
  await app.getByTestId('nav-server').click();
  await expect(app.getByTestId('server-status')).toHaveText(/Not serving/);
  await app.getByTestId('server-bind').fill('127.0.0.1:0');
  await app.getByTestId('server-toggle').click();
  await expect(app.getByTestId('server-status')).toHaveText(/Serving on 127\.0\.0\.1:\d+/);
  // The fingerprint to read to peers is the key's own.
  await expect(app.getByTestId('server-identity')).toContainText(`Serving as ${demo.key}`);
  const owner = cli(workspace, ['--db', demo.db, 'key', 'fingerprint']).trim().split(' ').slice(1).join(' ');
  await expect(app.getByTestId('server-fingerprint')).toHaveText(owner);

  const editor = app.getByTestId('permissions-text');
  await editor.fill('read * org.example.*\nread nobody org.example.*\nwrite anonymous');
  await app.getByTestId('permissions-save').click();
  const problems = app.getByTestId('permissions-problems');
  await expect(problems).toContainText('Line 2: "nobody" is not a key fingerprint, "anonymous" or "*"');
  await expect(problems).toContainText('Line 3: no branch pattern after who the rule is for');
  await app.getByTestId('permissions').evaluate((el) => el.scrollIntoView({ block: 'end' }));
  await snap(app, 'permissions', (n) => testInfo.outputPath(n));
  expect(existsSync(join(workspace.configDir, 'permissions'))).toBe(false);

  await problems.getByRole('button', { name: 'Line 2' }).click();
  await expect(editor).toBeFocused();
  await app.keyboard.type(`read ${owner} org.example.*`);
  await editor.press('ArrowDown');
  await editor.press('End');
  await app.keyboard.type(' org.example.public.*');
  await app.getByTestId('permissions-save').click();
  await expect(app.getByTestId('permissions-saved')).toContainText('Saved 3 rules; they apply from the next session');
  await expect(problems).toBeHidden();
  expect(readFileSync(join(workspace.configDir, 'permissions'), 'utf8')).toBe(
    `read * org.example.*\nread ${owner} org.example.*\nwrite anonymous org.example.public.*\n`,
  );
  await app.evaluate(() => window.scrollTo(0, 0));
  await snap(app, 'server', (n) => testInfo.outputPath(n));
  await app.getByTestId('server-toggle').click();
  await expect(app.getByTestId('server-status')).toHaveText(/Not serving/);
});

test('the direction toggle is one Tab stop, and the arrow keys move the choice', async ({ app }) => {
  const card = await addPeer(app, 'keys', '127.0.0.1:1');
  await card.getByTestId('peer-direction-sync').focus();
  await app.keyboard.press('ArrowRight');
  await expect(card.getByTestId('peer-sync')).toHaveText('Push');
  await expect(card.getByTestId('peer-direction-push')).toBeFocused();
  await expect(card.getByTestId('peer-direction-push')).toBeChecked();
  // Out of the group in one Tab, and back onto the chosen radio (not the last one) with Shift+Tab.
  await app.keyboard.press('Tab');
  await expect(card.getByTestId('peer-include')).toBeFocused();
  await app.keyboard.press('Shift+Tab');
  await expect(card.getByTestId('peer-direction-push')).toBeFocused();
  await app.keyboard.press('ArrowLeft');
  await expect(card.getByTestId('peer-sync')).toHaveText('Sync');
});
