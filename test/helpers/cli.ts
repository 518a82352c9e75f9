/**
 * Running the real command line (`node bin/netsync.cjs`) from tests, the way a
 * user would, in a child process with a controlled environment.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { tempDir } from './temp.js';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI_BIN = join(PROJECT_ROOT, 'bin', 'netsync.cjs');
const BUNDLE = join(PROJECT_ROOT, 'dist', 'netsync.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr split into lines, the empty last one dropped. */
  stderrLines: string[];
  /** stdout split into lines, the empty last one dropped. */
  stdoutLines: string[];
}

export interface CliOptions {
  cwd?: string;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
}

let sandbox: string | null = null;

/**
 * A child's environment: this process's without any NETSYNC_* variable (so a
 * developer's own settings never leak in), with HOME and the XDG folders
 * pointed into a temporary folder of this test process (so a command run
 * without --db or NETSYNC_CONFIG_DIR never reads or writes the user's real
 * database, key store or pins, and no run sees what an earlier run left
 * there), plus `env`. A variable set to undefined in `env` is unset.
 */
export function cliEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  sandbox ??= tempDir('netsync-home-');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('NETSYNC_')) out[k] = v;
  out.HOME = sandbox;
  out.XDG_CONFIG_HOME = join(sandbox, '.config');
  out.XDG_DATA_HOME = join(sandbox, '.local', 'share');
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Runs `node bin/netsync.cjs ...args` in the environment `cliEnv(env)` gives. */
export function runCli(args: readonly string[], env: Record<string, string | undefined> = {}, options: CliOptions = {}): Promise<CliResult> {
  const childEnv = cliEnv(env);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        stdoutLines: lines(stdout),
        stderrLines: lines(stderr),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all;
}

/**
 * Builds dist/netsync.cjs with `node scripts/build-cli.mjs` when it is missing
 * or older than any engine source. Test files run in parallel: a lock folder
 * keeps two of them from rewriting the bundle at once, and the freshness check
 * keeps a second file from rewriting it while the first one's children run it.
 */
export function ensureCliBuilt(): void {
  const lock = join(PROJECT_ROOT, 'dist', '.build-lock');
  mkdirSync(join(PROJECT_ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`could not take ${lock}; remove it if no build is running`);
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000)
        rmdirSync(lock); // left by a killed run
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (bundleIsFresh()) return;
    const r = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`node scripts/build-cli.mjs failed (${r.status}):\n${r.stderr}${r.stdout}`);
  } finally {
    rmdirSync(lock);
  }
}

function bundleIsFresh(): boolean {
  if (!existsSync(BUNDLE)) return false;
  const built = statSync(BUNDLE).mtimeMs;
  return (
    newestMtime(join(PROJECT_ROOT, 'src', 'engine')) <= built &&
    newestMtime(join(PROJECT_ROOT, 'src', 'shared')) <= built &&
    statSync(join(PROJECT_ROOT, 'scripts', 'build-cli.mjs')).mtimeMs <= built
  );
}

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(abs) : statSync(abs).mtimeMs);
  }
  return newest;
}

/** A user of the command line: a database and a config folder of their own (keys, pins of known servers, permissions when serving). */
export interface CliPeer {
  db: string;
  cfg: string;
}

/** `netsync --db DB ARGS...` as that user. */
export function peerCli(p: CliPeer, ...args: string[]): Promise<CliResult> {
  return runCli(['--db', p.db, ...args], { NETSYNC_CONFIG_DIR: p.cfg }, { timeoutMs: 60_000 });
}

/** The same, which must succeed: its stdout. */
export async function peerOk(p: CliPeer, ...args: string[]): Promise<string> {
  const r = await peerCli(p, ...args);
  expect(r.code, `netsync ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
