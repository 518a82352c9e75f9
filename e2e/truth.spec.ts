/**
 * Every outcome tells the truth (issue #19), end to end against real engines:
 * what a server refused is said, never "Up to date"; the screens follow the
 * database whoever writes it, and peers are compared again on focus; errors
 * say what happened and what to do, with what was typed; the Server form and
 * the Transfers screen show the truth after a reload; a permissions rule is
 * picked from the keys that knocked.
 */
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { type Workspace, addPeer, cli, expect, makeDemoDatabase, peerWorkspace, snap, startServe, test, writeTree } from './fixtures.js';

/** The fingerprint `netsync key fingerprint` prints for a workspace's only key. */
function fingerprintOf(ws: Workspace, db: string): string {
  return cli(ws, ['--db', db, 'key', 'fingerprint']).trim().split(' ').slice(1).join(' ');
}

async function acceptServer(app: Page) {
  await app.getByTestId('confirm-server-accept').click();
  await expect(app.getByTestId('confirm-server')).toBeHidden();
}

/** Starts serving from the Server screen on a free loopback port; returns HOST:PORT as the screen says it. */
async function serveFromApp(app: Page, patterns = ''): Promise<string> {
  await app.getByTestId('nav-server').click();
  await app.getByTestId('server-bind').fill('127.0.0.1:0');
  await app.getByTestId('server-patterns').fill(patterns);
  await app.getByTestId('server-toggle').click();
  await expect(app.getByTestId('server-status')).toHaveText(/Serving on 127\.0\.0\.1:\d+/);
  return /(127\.0\.0\.1:\d+)/.exec((await app.getByTestId('server-status').textContent())!)![1]!;
}

test.describe('never "Up to date" when something was refused', () => {
  test('a server that grants nothing, and one that refuses a branch: said with the key, on the card, the diff and the transfer', async ({
    app,
    demo,
    workspace,
  }, testInfo) => {
    const remote = peerWorkspace(workspace, 'peer');
    const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
    // Any key may read what the server offers; the server offers only its own branch.
    writeFileSync(join(remote.configDir, 'permissions'), 'read * *\n');
    const server = await startServe(remote, theirs.db, ['org.example.peer']);
    const mine = fingerprintOf(workspace, demo.db);
    try {
      const card = await addPeer(app, 'bob', server.address);
      await card.getByTestId('peer-include').fill('org.example.notes');
      await card.getByRole('button', { name: 'Save branches' }).click();
      await card.getByTestId('peer-sync').click();
      await acceptServer(app);
      // Nothing here or there is called that: a server that grants nothing is not success.
      await expect(card.getByTestId('peer-state')).toHaveText('Blocked');
      await expect(card.getByTestId('peer-notes')).toHaveText(
        `The server offers no branch matching 'org.example.notes' to key ${mine} (${demo.key}); if it should, ask its owner for a read rule for that key.`,
      );

      // Our branch is one the server does not offer: refused, both ways.
      await card.getByTestId('peer-include').fill('org.example.*');
      await card.getByRole('button', { name: 'Save branches' }).click();
      await card.getByTestId('peer-diff').click();
      const blocked = app.getByTestId('diff-blocked');
      await expect(blocked).toHaveText(
        `The server does not offer branch '${demo.branch}' to key ${mine} (${demo.key}), so nothing of it moves; if it should, ask its owner to serve it.`,
      );
      await expect(app.getByTestId('diff-we-lack')).toContainText('org.example.peer');
      await expect(app.getByTestId('theyLack-refused')).toContainText('Nothing found in what the server let this identity compare');
      await snap(app, 'diff-refused', (n) => testInfo.outputPath(n));

      await app.getByTestId('nav-peers').click();
      await expect(card.getByTestId('peer-state')).toHaveText('Blocked');
      await app.getByTestId('nav-transfers').click();
      await expect(app.getByTestId('transfer-phase')).toHaveText('done, refused');
      await expect(app.getByTestId('transfer-refused')).toContainText(`to key ${mine}`);
      await expect(app.getByTestId('transfer-item').first()).toContainText('(refused)');
    } finally {
      await server.stop();
    }
  });
});

test.describe('live state', () => {
  test('a push into the app’s own server, and a commit by the command line, show without a reload', async ({ app, demo, workspace }) => {
    const bob = peerWorkspace(workspace, 'bob');
    const bobs = makeDemoDatabase(bob, 'bob', 'org.example.bob', 'bob@example.org');
    writeFileSync(join(workspace.configDir, 'permissions'), `read * *\nwrite ${fingerprintOf(bob, bobs.db)} *\n`);
    const address = await serveFromApp(app);
    const line = app.getByTestId('database-line');
    await expect(line).toContainText('1 branch');

    cli(bob, ['--db', bobs.db, 'push', address, 'org.example.bob']);
    // Followed within a second by the watch; generous bounds for a loaded machine.
    await expect(line).toContainText('2 branches', { timeout: 10_000 });
    await app.getByTestId('nav-collection').click();
    await expect(app.getByTestId('branch-list')).toContainText('org.example.bob', { timeout: 10_000 });

    // The command line, in another process, on the app's own database.
    const tree = writeTree(workspace, 'cli-v1', { NOTES: 'from the command line\n' });
    cli(workspace, ['--db', demo.db, 'commit', tree, '--branch', 'org.example.cli', '--message', 'From the CLI', '--key', demo.key]);
    await expect(app.getByTestId('branch-list')).toContainText('org.example.cli', { timeout: 10_000 });
    await expect(line).toContainText('3 branches');
    // The log shown follows its branch too.
    await app.getByTestId('branch-item').filter({ hasText: demo.branch }).click();
    await expect(app.getByTestId('log-entry')).toHaveCount(2);
    const again = writeTree(workspace, 'demo-v3', { README: 'third edition\n' });
    cli(workspace, ['--db', demo.db, 'commit', again, '--branch', demo.branch, '--parent', 'head', '--message', 'Third', '--key', demo.key]);
    await expect(app.getByTestId('log-entry')).toHaveCount(3, { timeout: 10_000 });
    await app.getByTestId('nav-server').click();
    await app.getByTestId('server-toggle').click();
    await expect(app.getByTestId('server-status')).toHaveText(/Not serving/);
  });

  test('a peer is compared again when the window regains focus, or on request, and stops reading "Up to date" after the other side commits', async ({
    app,
    workspace,
  }) => {
    const remote = peerWorkspace(workspace, 'peer');
    const theirs = makeDemoDatabase(remote, 'b', 'org.example.peer', 'bob@example.org');
    writeFileSync(join(remote.configDir, 'permissions'), 'read * *\nwrite * *\n');
    const server = await startServe(remote, theirs.db);
    try {
      const card = await addPeer(app, 'bob', server.address);
      await card.getByTestId('peer-sync').click();
      await acceptServer(app);
      await expect(card.getByTestId('peer-state')).toHaveText('Up to date');

      const tree = writeTree(remote, 'b-v3', { README: 'bob again\n' });
      cli(remote, ['--db', theirs.db, 'commit', tree, '--branch', theirs.branch, '--parent', 'head', '--message', 'More', '--key', theirs.key]);
      // Coming back to the window compares again (a peer checked in the last 5 s is left alone, so focus until it is due).
      await expect
        .poll(
          async () => {
            await app.evaluate(() => window.dispatchEvent(new Event('focus')));
            return card.getByTestId('peer-state').textContent();
          },
          { timeout: 30_000, intervals: [1000] },
        )
        .toBe('Differs');
      await expect(card.getByTestId('peer-notes')).toContainText(/items? to fetch/);

      await card.getByTestId('peer-sync').click();
      await expect(card.getByTestId('peer-state')).toHaveText('Up to date');
      const more = writeTree(remote, 'b-v4', { README: 'and again\n' });
      cli(remote, ['--db', theirs.db, 'commit', more, '--branch', theirs.branch, '--parent', 'head', '--message', 'Again', '--key', theirs.key]);
      await app.getByTestId('peers-recheck').click();
      await expect(card.getByTestId('peer-state')).toHaveText('Differs');
    } finally {
      await server.stop();
    }
  });
});

test.describe('errors that say what to do', () => {
  test('a bad address, a refused connection, a host that is not Netsync, a busy port: one sentence each, with what was typed', async ({ app }) => {
    await app.getByTestId('add-peer-name').fill('typo');
    await app.getByTestId('add-peer-address').fill('exa mple.org');
    await app.getByTestId('add-peer-submit').click();
    await expect(app.getByTestId('add-peer-error')).toHaveText(
      'The address "exa mple.org" is not a host name or an IPv4 address (an IPv6 address goes in brackets); type HOST or HOST:PORT (port 4691 when none is given).',
    );

    const nowhere = await addPeer(app, 'nowhere', '127.0.0.1:1');
    await nowhere.getByTestId('peer-connect').click();
    await expect(nowhere.getByTestId('peer-error')).toHaveText("Nothing is listening at 127.0.0.1:1 (connection refused); is the peer's server running?");

    const web = createHttpServer((_, res) => res.end('a web page'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const webAddress = `127.0.0.1:${(web.address() as AddressInfo).port}`;
      const site = await addPeer(app, 'website', webAddress);
      await site.getByTestId('peer-connect').click();
      await expect(site.getByTestId('peer-error')).toHaveText(`${webAddress} does not answer in TLS (wrong version number); is it a Netsync server?`);

      const busyAddress = `127.0.0.1:${(busy.address() as AddressInfo).port}`;
      await app.getByTestId('nav-server').click();
      await app.getByTestId('server-bind').fill(busyAddress);
      await app.getByTestId('server-toggle').click();
      await expect(app.getByTestId('server-error')).toHaveText(
        `Another program already listens on ${busyAddress}; choose another port (0 lets the system pick a free one), or stop the other program.`,
      );
    } finally {
      web.close();
      busy.close();
    }
  });
});

test.describe('the truth after a reload', () => {
  test("the Server form shows the running server's address and branches, and Transfers lists the last sessions", async ({ app }, testInfo) => {
    const nowhere = await addPeer(app, 'nowhere', '127.0.0.1:1');
    await nowhere.getByTestId('peer-connect').click();
    await expect(nowhere.getByTestId('peer-error')).toBeVisible();
    const address = await serveFromApp(app, 'org.example.*');

    await app.reload();
    await app.getByTestId('nav-server').click();
    await expect(app.getByTestId('server-status')).toHaveText(`Serving on ${address}, offering org.example.*`);
    await expect(app.getByTestId('server-bind')).toHaveValue(address);
    await expect(app.getByTestId('server-patterns')).toHaveValue('org.example.*');

    await app.getByTestId('nav-transfers').click();
    await expect(app.getByTestId('transfer-item')).toHaveCount(1);
    await expect(app.getByTestId('transfer-item')).toContainText(/^diff · nowhere · .* \(failed\)$/);
    await expect(app.getByTestId('transfer-phase')).toHaveText('error');
    await expect(app.getByTestId('transfer-detail')).toContainText("is the peer's server running?");
    await snap(app, 'transfers-kept', (n) => testInfo.outputPath(n));
    await app.getByTestId('nav-server').click();
    await app.getByTestId('server-toggle').click();
    await expect(app.getByTestId('server-status')).toHaveText(/Not serving/);
  });
});

test.describe('permissions picked from known keys', () => {
  test('a client that knocked is offered in the picker; the rule made from it lets it read', async ({ app, workspace }, testInfo) => {
    const carol = peerWorkspace(workspace, 'carol');
    const hers = makeDemoDatabase(carol, 'carol', 'org.example.carol', 'carol@example.org');
    const fp = fingerprintOf(carol, hers.db);
    const address = await serveFromApp(app);
    // No rule for her yet: she gets nothing, but her key is remembered.
    try {
      cli(carol, ['--db', hers.db, 'pull', address, 'org.example.demo']);
    } catch {
      // Refused or empty-handed alike: what matters here is that she knocked.
    }
    expect(cli(carol, ['--db', hers.db, 'branches'])).not.toContain('org.example.demo');

    await app.getByTestId('nav-peers').click();
    await app.getByTestId('nav-server').click();
    const who = app.getByTestId('rule-who');
    const client = who.locator('optgroup[label="Clients that connected here"] option');
    await expect(client).toHaveCount(1);
    await expect(client).toHaveText(new RegExp(`^client last seen .* \\(${fp.slice(0, 9)} … ${fp.slice(-4)}\\)$`));
    await who.selectOption({ label: (await client.textContent())! });
    await app.getByTestId('rule-patterns').fill('org.example.*');
    await app.getByTestId('rule-add').click();
    await expect(app.getByTestId('permissions-text')).toHaveValue(`read ${fp} org.example.*\n`);
    await app.getByTestId('permissions').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await snap(app, 'permissions-picker', (n) => testInfo.outputPath(n));
    await app.getByTestId('permissions-save').click();
    await expect(app.getByTestId('permissions-saved')).toContainText('Saved 1 rule');

    cli(carol, ['--db', hers.db, 'pull', address, 'org.example.demo']);
    expect(cli(carol, ['--db', hers.db, 'branches'])).toContain('org.example.demo');
    await app.getByTestId('server-toggle').click();
    await expect(app.getByTestId('server-status')).toHaveText(/Not serving/);
  });
});
