/**
 * The command line's conventions, as a user meets them in the real
 * `node bin/netsync.cjs`: help for every command (exit 0, on stdout, naming
 * its options), the version three ways, usage errors in one line with the
 * value typed and a suggestion when a name is close (exit 2), --verbose for
 * the stack trace, a reader that stops reading early, and no progress bar or
 * escape code when the output is not a terminal.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/engine/cli/commands.js';
import { run } from '../../src/engine/cli/main.js';
import type { Output } from '../../src/engine/cli/output.js';
import { CLI_BIN, type CliResult, cliEnv, ensureCliBuilt, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { makeTree, type TreeSpec } from '../helpers/tree.js';

const USAGE_ERROR = 2;
const STACK_LINE = /\n\s+at /;

let work: string;
let db: string;
let env: Record<string, string>;

const cli = (...args: string[]): Promise<CliResult> => runCli(['--db', db, ...args], env);

/** The command line's `run` in this process (help needs no child): what it printed on stdout and stderr, and its exit code. */
async function runInProcess(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Output = { out: (l) => (out += `${l}\n`), note: (l) => (err += `${l}\n`), progress: () => {}, clearProgress: () => {} };
  return { code: await run(argv, io), out, err };
}

/** Runs `fn` over `items`, `limit` at a time: the machine is shared, and each run is a process. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

function expectUsageError(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(USAGE_ERROR);
  expect(r.stdout).toBe('');
  expect(r.stderrLines, r.stderr).toHaveLength(1);
  expect(r.stderrLines[0]).toMatch(/^netsync: /);
  expect(r.stderrLines[0]).toMatch(message);
}

beforeAll(async () => {
  ensureCliBuilt();
  work = tempDir('netsync-cli-help-');
  db = join(work, 'help.db');
  env = { NETSYNC_CONFIG_DIR: join(work, 'config') };
  expect((await cli('db', 'init')).code).toBe(0);
  expect((await cli('key', 'generate', 'alice@example.org')).code).toBe(0);
});

describe('help, on stdout with exit 0', () => {
  it('netsync help, --help and -h list every command with its usage, the global options and the exit codes', async () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const r = await runCli(args, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdoutLines[0]).toBe('usage: netsync [--db PATH] [--verbose] COMMAND [ARGS]');
      for (const spec of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^ {2}${spec.name.replace(/[-]/g, '\\-')}\\b`, 'm'));
      expect(r.stdout).toContain('--db PATH');
      expect(r.stdout).toContain('--verbose');
      expect(r.stdout).toMatch(/Exit codes .*\n {2}0 ok, 1 failure, 2 usage, 3 network/);
    }
  });

  it("help COMMAND and COMMAND --help print that command's usage and every one of its options, for every command", async () => {
    for (const spec of COMMANDS) {
      const words = spec.name.split(' ');
      for (const args of [
        ['help', ...words],
        [...words, '--help'],
      ]) {
        const r = await runInProcess(args);
        expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
        expect(r.err).toBe('');
        expect(r.out.split('\n')[0], args.join(' ')).toMatch(new RegExp(`^Usage: netsync ${spec.name}\\b`));
        for (const o of spec.options ?? []) expect(r.out, `${args.join(' ')} names ${o.flags}`).toContain(o.flags);
        for (const a of spec.args ?? []) expect(r.out.split('\n')[0]).toContain(a);
        expect(r.out).toContain('--db <PATH>'); // the global options, too
      }
    }
  });

  it('the real program prints the same help, on stdout, with exit 0', async () => {
    // The help names the default database: the same one for both.
    const defaultDb = join(work, 'default.db');
    process.env.NETSYNC_DB = defaultDb;
    await eachLimited(['db init', 'key generate', 'pull', 'serve'], 2, async (name) => {
      const words = name.split(' ');
      const expected = (await runInProcess(['help', ...words])).out;
      expect(expected).toContain(defaultDb);
      for (const args of [
        ['help', ...words],
        [...words, '--help'],
        [...words, '-h'],
      ]) {
        const r = await runCli(args, { ...env, NETSYNC_DB: defaultDb });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe(expected);
      }
    });
    delete process.env.NETSYNC_DB;
  });

  it('a group (db, key) lists its commands; alone, it is a usage error with the same list on stderr', async () => {
    for (const [group, sub] of [
      ['db', 'rebuild-index'],
      ['key', 'fingerprint'],
    ] as const) {
      const asked = await runCli([group, '--help'], env);
      expect(asked.code).toBe(0);
      expect(asked.stdout).toMatch(new RegExp(`^ {2}${sub}\\b`, 'm'));
      expect((await runCli(['help', group], env)).stdout).toBe(asked.stdout);
      const bare = await runCli([group], env);
      expect(bare.code).toBe(USAGE_ERROR);
      expect(bare.stdout).toBe('');
      expect(bare.stderr).toContain(`Usage: netsync ${group} COMMAND`);
    }
    const nothing = await runCli([], env);
    expect(nothing.code).toBe(USAGE_ERROR);
    expect(nothing.stderr).toContain('usage: netsync');
  });

  it('-V, --version and netsync version print the version', async () => {
    for (const args of [['-V'], ['--version'], ['version'], ['--db', db, 'version']]) {
      const r = await runCli(args, env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^netsync \d+\.\d+\.\d+\n$/);
      expect(r.stderr).toBe('');
    }
  });
});

describe('usage errors: one line with the value typed, a suggestion when a name is close, exit 2', () => {
  it('a mistyped command or option is named, with what was probably meant', async () => {
    expectUsageError(await cli('pul', 'h', 'p'), /^netsync: unknown command "pul" \(did you mean "pull"\?\); "netsync help" lists the commands$/);
    expectUsageError(await cli('db', 'inti'), /unknown command "db inti" \(did you mean "db init"\?\); "netsync help db"/);
    expectUsageError(await cli('key', 'lst'), /unknown command "key lst" \(did you mean "key list"\?\)/);
    expectUsageError(await cli('check'), /unknown command "check" \(did you mean "db check" or "checkout"\?\)/);
    expectUsageError(await cli('fingerprint', 'alice'), /unknown command "fingerprint" \(did you mean "key fingerprint"\?\)/);
    expectUsageError(
      await cli('pull', 'h', 'p', '--jsno'),
      /^netsync: pull: unknown option "--jsno" \(did you mean "--json"\?\); "netsync help pull" lists the options$/,
    );
    expectUsageError(await cli('commit', '.', '--brnch', 'b'), /commit: unknown option "--brnch" \(did you mean "--branch"\?\)/);
    expectUsageError(await cli('help', 'pul'), /unknown command "pul" \(did you mean "pull"\?\)/);
    expectUsageError(await cli('frobnicate'), /^netsync: unknown command "frobnicate"; "netsync help" lists the commands$/);
  });

  it('a missing or extra argument, a missing or valueless option, options that exclude each other: with the usage', async () => {
    expectUsageError(await cli('checkout', 'org.example.x'), /^netsync: checkout: DIR is missing; usage: netsync checkout BRANCH\|ID DIR$/);
    expectUsageError(await cli('show', 'abc', 'def'), /^netsync: show: unexpected argument "def"; usage: netsync show ID$/);
    expectUsageError(await cli('commit', work), /commit: --branch is required; usage: netsync commit DIR --branch B \[--message M\] \[--key NAME\]/);
    expectUsageError(await cli('commit', work, '--branch'), /commit: --branch needs a value/);
    expectUsageError(await cli('pull', 'h', 'p', '--key', 'k', '--anonymous'), /pull: --key and --anonymous cannot be given together/);
    expectUsageError(await runCli(['--db'], env), /--db needs a value/);
  });
});

describe('failures tell what happened in one line; --verbose adds the stack', () => {
  it('a missing database: one line and exit 6 without --verbose; the stack trace with it', async () => {
    const missing = join(work, 'no', 'such.db');
    const plain = await runCli(['--db', missing, 'branches'], env);
    expect(plain.code).toBe(6);
    expect(plain.stderrLines).toEqual([`netsync: no database at ${missing} (create one with "netsync db init")`]);
    const verbose = await runCli(['--db', missing, 'branches', '--verbose'], env);
    expect(verbose.code).toBe(6);
    expect(verbose.stderrLines[0]).toBe(plain.stderrLines[0]);
    expect(verbose.stderr).toMatch(STACK_LINE);
    expect(verbose.stderr).toContain('NetsyncError');
  });

  it('exit codes by class: not found 8, key 7', async () => {
    const notFound = await cli('log', 'org.example.nothing');
    expect(notFound.code).toBe(8);
    expect(notFound.stderrLines).toEqual([`netsync: no branch named "org.example.nothing" in ${db}`]);
    const noKey = await runCli(['--db', db, 'commit', work, '--branch', 'org.example.k'], { NETSYNC_CONFIG_DIR: join(work, 'no-keys') });
    expect(noKey.code).toBe(7);
    expect(noKey.stderrLines).toHaveLength(1);
  });
});

describe('output that is not a terminal', () => {
  const BRANCH = 'org.example.long';
  let bigManifest = '';

  beforeAll(async () => {
    const spec: TreeSpec = {};
    for (let i = 0; i < 1200; i++) spec[`dir${i % 7}/file-${i}.txt`] = `content ${i}\n`;
    makeTree(join(work, 'tree'), spec);
    // Piped: no bar, no escape code, nothing on stderr at all.
    const commit = await cli('commit', join(work, 'tree'), '--branch', BRANCH);
    expect(commit.code, commit.stderr).toBe(0);
    expect(commit.stderr).toBe('');
    bigManifest = commit.stdout.trim();
    // Long changelogs: `log` writes far more than a pipe holds (64 KiB), so it is still writing when its reader leaves.
    const message = Array.from({ length: 3000 }, (_, i) => `line ${i} of a long changelog`).join('\n');
    for (let i = 0; i < 6; i++) {
      makeTree(join(work, `small-${i}`), { 'version.txt': `${i}\n` });
      expect((await cli('commit', join(work, `small-${i}`), '--branch', BRANCH, '--parent', 'head', '-m', message)).code).toBe(0);
    }
  });

  it('checkout of 1,200 files writes no progress bar and no escape code', async () => {
    const r = await cli('checkout', bigManifest, join(work, 'out'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('\r');
    expect(r.stdout).not.toContain('\x1b');
  });

  it('`netsync log BRANCH | head -1`: the reader leaves after a line; the command ends quietly with exit 0', async () => {
    // A shell pipe, as a user types it (a spawned child's stdout is a socket, which holds far more than a pipe).
    const command = `"$0" "$1" --db "$2" log ${BRANCH} | head -1; exit "\${PIPESTATUS[0]}"`;
    for (let run = 0; run < 3; run++) {
      const child = spawn('bash', ['-c', command, process.execPath, CLI_BIN, db], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b));
      child.stderr.on('data', (b: Buffer) => (stderr += b));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(stdout).toMatch(/^revision [0-9a-f]{64} \(head\)\n$/);
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  });
});
