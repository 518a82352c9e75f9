/**
 * Starting and stopping the app from a terminal: `npm start` (scripts/start.mjs)
 * and the web host it falls back to. A busy port is one line that says what to
 * do; SIGTERM or SIGINT, also when sent to `npm start` itself, stops the web
 * host within 2 s.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PROJECT_ROOT, cliEnv } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const WEBHOST = join(PROJECT_ROOT, 'out', 'webhost', 'webhost.cjs');

/** Lines of a child's output, and a promise of the first line matching `re`. */
function watchOutput(child: ChildProcess) {
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const feed = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  return {
    text: () => out,
    line: (re: RegExp) => new Promise<RegExpMatchArray>((resolve) => waiters.push({ re, resolve })),
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** True while something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Processes whose command line holds `marker` (a test's own temporary folder): none once everything it started has stopped. */
function processesWith(marker: string): string[] {
  const r = spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
}

/** Polls `check` until it holds or `ms` have passed; the time it took. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`still not true after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

function workspace() {
  const dir = tempDir('netsync-start-');
  const staticDir = join(dir, 'static');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Netsync</title>');
  return { dir, staticDir, db: join(dir, 'a.db'), config: join(dir, 'config') };
}

describe('the web host from a terminal', () => {
  beforeAll(() => {
    const r = spawnSync(process.execPath, ['scripts/build-webhost.mjs'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build-webhost failed: ${r.stderr}`);
  }, 60_000);

  it('on a busy port: one line saying which port and what to do, exit 2, no stack trace', async () => {
    const ws = workspace();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const r = spawnSync(process.execPath, [WEBHOST, '--db', ws.db, '--config-dir', ws.config, '--static', ws.staticDir, '--port', String(port)], {
        env: cliEnv(),
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(
        `netsync-web: another program already listens on 127.0.0.1:${port}; choose another port with --port N, or leave --port out to take any free one\n`,
      );
      // --verbose adds the detail, after the same line.
      const verbose = spawnSync(
        process.execPath,
        [WEBHOST, '--db', ws.db, '--config-dir', ws.config, '--static', ws.staticDir, '--port', String(port), '--verbose'],
        { env: cliEnv(), encoding: 'utf8', timeout: 60_000 },
      );
      expect(verbose.stderr.split('\n')[0]).toBe(r.stderr.trim());
      expect(verbose.stderr).toMatch(/EADDRINUSE/);
    } finally {
      busy.close();
    }
  }, 120_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} stops it within 2 s`, async () => {
      const ws = workspace();
      const child = spawn(process.execPath, [WEBHOST, '--db', ws.db, '--config-dir', ws.config, '--static', ws.staticDir], { env: cliEnv() });
      const out = watchOutput(child);
      const [, port] = await out.line(/Open http:\/\/127\.0\.0\.1:(\d+)\//);
      child.kill(signal);
      const started = Date.now();
      expect(await exited(child)).toBe(0);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await listening(Number(port))).toBe(false);
    }, 60_000);
  }
});

describe('npm start', () => {
  it('SIGTERM sent to npm start itself stops the web host within 2 s', async () => {
    const ws = workspace();
    // `--web`: this machine has no Electron binary anyway; the web host is what `npm start` runs here.
    const npm = spawn('npm', ['start', '--', '--web', '--db', ws.db, '--config-dir', ws.config], { cwd: PROJECT_ROOT, env: cliEnv() });
    onTestFinished(() => {
      // Whatever this test started and left running, should it fail, by process id.
      for (const line of processesWith(ws.config)) {
        try {
          process.kill(Number(line.trim().split(' ')[0]), 'SIGKILL');
        } catch {
          // It ended meanwhile.
        }
      }
    });
    const out = watchOutput(npm);
    const [, port] = await Promise.race([
      out.line(/Open http:\/\/127\.0\.0\.1:(\d+)\//),
      exited(npm).then((code) => {
        throw new Error(`npm start exited (${code}) before serving:\n${out.text()}`);
      }),
    ]);
    expect(await listening(Number(port))).toBe(true);
    expect(processesWith(ws.config).some((l) => l.includes('webhost.cjs'))).toBe(true);
    npm.kill('SIGTERM');
    // The web host is a grandchild of npm's shell (npm, sh, scripts/start.mjs, the host): it goes too, and so does everything between.
    const took = await within(5000, async () => processesWith(ws.config).length === 0);
    expect(took).toBeLessThan(2000);
    expect(await listening(Number(port))).toBe(false);
    await exited(npm);
  }, 180_000);
});
