/**
 * Fixtures: temporary workspaces, databases filled through the real CLI,
 * and the web host (and, for sync tests, `netsync serve`) as real child
 * processes on loopback. Each test gets fresh ones and they are stopped and
 * removed after it.
 */
import { test as base, type Page } from '@playwright/test';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'netsync.cjs');
const WEBHOST = join(ROOT, 'out', 'webhost', 'webhost.cjs');

export interface Workspace {
  dir: string;
  /** Private keys and peers.json for everything this test starts. */
  configDir: string;
  path(...parts: string[]): string;
}

/** Another machine's view inside the same temp folder: its own config (keys, pins, permissions). */
export function peerWorkspace(ws: Workspace, name: string): Workspace {
  const configDir = ws.path(`${name}-config`);
  mkdirSync(configDir, { recursive: true });
  return { ...ws, configDir };
}

/**
 * A child's environment: this workspace's config folder, and the platform's
 * default places (the default database among them) inside the workspace, so
 * no run touches the user's own files or sees an earlier run's.
 */
function childEnv(ws: Workspace): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NETSYNC_CONFIG_DIR: ws.configDir,
    HOME: ws.path('home'),
    XDG_CONFIG_HOME: ws.path('home/.config'),
    XDG_DATA_HOME: ws.path('home/.local/share'),
  };
}

/** `netsync ...args` with this workspace's config folder; throws with the CLI's stderr on failure. */
export function cli(ws: Workspace, args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: childEnv(ws), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`netsync ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r.stdout;
}

/** Writes `files` (relative path -> content) under a new folder and returns it. */
export function writeTree(ws: Workspace, name: string, files: Record<string, string>): string {
  const dir = ws.path(name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

export interface DemoDatabase {
  db: string;
  branch: string;
  key: string;
}

/** A database with one key and a branch of two commits, made the way a user would. */
export function makeDemoDatabase(ws: Workspace, name = 'a', branch = 'org.example.demo', key = 'alice@example.org'): DemoDatabase {
  const db = ws.path(`${name}.db`);
  cli(ws, ['--db', db, 'db', 'init']);
  cli(ws, ['--db', db, 'key', 'generate', key]);
  // The README names the branch, so two demo databases share some files (as real ones do) but not all.
  const first = writeTree(ws, `${name}-v1`, {
    README: `Netsync demo: ${branch}\n`,
    'docs/guide.txt': 'How to sync.\n',
    'src/main.c': 'int main(void) { return 0; }\n',
  });
  cli(ws, ['--db', db, 'commit', first, '--branch', branch, '--message', 'First import', '--key', key]);
  const second = writeTree(ws, `${name}-v2`, {
    README: 'Netsync demo, second edition\n',
    'docs/guide.txt': 'How to sync.\n',
    'docs/faq.txt': 'Why?\n',
    'src/main.c': 'int main(void) { return 0; }\n',
  });
  cli(ws, ['--db', db, 'commit', second, '--branch', branch, '--parent', 'head', '--message', 'Add the FAQ', '--key', key]);
  return { db, branch, key };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

export interface Running {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a child and resolves once a line of its stdout matches `ready`. */
function startChild(args: string[], ws: Workspace, ready: RegExp, timeoutMs = 15_000): Promise<Running & { match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { env: childEnv(ws), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${args.join(' ')} did not start within ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolveStart({ process: child, stop, match });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code}) before it was ready:\n${out}${err}`));
    });
  });
}

export interface WebHostProcess extends Running {
  url: string;
}

export async function startWebHost(ws: Workspace, db: string): Promise<WebHostProcess> {
  const r = await startChild([WEBHOST, '--db', db, '--config-dir', ws.configDir], ws, /Open (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+)/);
  return { ...r, url: r.match[1]! };
}

/** `netsync serve` on a free loopback port: the peer for sync tests. */
export async function startServe(ws: Workspace, db: string, patterns: string[] = []): Promise<Running & { address: string }> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const r = await startChild([CLI, '--db', db, 'serve', '--bind', address, ...patterns], ws, /^serving .* on /m);
  return { ...r, address };
}

/**
 * Screenshots of the main screens: into docs/screenshots/ when
 * NETSYNC_SCREENSHOTS=1 (to refresh the committed ones), otherwise beside
 * the test's other output, so a normal run leaves the tree clean.
 */
export async function snap(page: Page, name: string, outputPath: (name: string) => string): Promise<void> {
  const file = process.env.NETSYNC_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots', `${name}.png`) : outputPath(`${name}.png`);
  await page.screenshot({ path: file });
}

interface Fixtures {
  workspace: Workspace;
  demo: DemoDatabase;
  webHost: WebHostProcess;
  app: Page;
}

export const test = base.extend<Fixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright requires the object pattern for fixtures without dependencies
  workspace: async ({}, use) => {
    const dir = mkdtempSync(join(tmpdir(), 'netsync-e2e-'));
    const configDir = join(dir, 'config');
    mkdirSync(configDir);
    await use({ dir, configDir, path: (...parts) => join(dir, ...parts) });
    rmSync(dir, { recursive: true, force: true });
  },
  demo: async ({ workspace }, use) => {
    await use(makeDemoDatabase(workspace));
  },
  webHost: async ({ workspace, demo }, use) => {
    const host = await startWebHost(workspace, demo.db);
    await use(host);
    await host.stop();
  },
  /** The UI, opened from the link the web host printed, failing the test on any page error. */
  app: async ({ page, webHost }, use) => {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(webHost.url);
    await use(page);
    if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
  },
});

export { expect } from '@playwright/test';

/** Adds a peer on the Peers screen and returns its card. */
export async function addPeer(app: Page, name: string, address: string) {
  await app.getByTestId('nav-peers').click();
  await app.getByTestId('add-peer-name').fill(name);
  await app.getByTestId('add-peer-address').fill(address);
  await app.getByTestId('add-peer-submit').click();
  return app.getByTestId('peer-card').filter({ hasText: name });
}
