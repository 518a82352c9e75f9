/**
 * A first clone as a user runs it (`netsync pull` into an empty database,
 * against `netsync serve`) leaves no large write-ahead log beside the
 * database (issue #21: it was left at 35 MB after a clone), and what
 * arrived is all there.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WAL_LEFT_MAX } from '../../src/engine/store/store.js';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import {
  OPEN_PERMISSIONS,
  type ServeProcess,
  aliceSigner,
  allIds,
  bruteCollection,
  buildHistory,
  lastJsonLine,
  sorted,
  startServe,
  withStore,
} from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';

let root: string;
let server: ServeProcess;
let serverDb: string;

const cli = (cfg: string, ...args: string[]) => runCli(args, { NETSYNC_CONFIG_DIR: cfg }, { timeoutMs: 60_000 });

function configDir(name: string): string {
  const cfg = join(root, `cfg-${name}`);
  mkdirSync(cfg, { recursive: true });
  writeFileSync(join(cfg, 'permissions'), OPEN_PERMISSIONS);
  return cfg;
}

beforeAll(async () => {
  ensureCliBuilt();
  root = tempDir('netsync-wal-pull-');
  serverDb = join(root, 'server.db');
  const cfg = configDir('server');
  expect((await cli(cfg, '--db', serverDb, 'db', 'init')).code).toBe(0);
  expect((await cli(cfg, '--db', serverDb, 'key', 'generate', 'server@example.org')).code).toBe(0);
  // ~7 MB of items: more write-ahead log than a command may leave behind.
  withStore(serverDb, (s) => buildHistory(s, aliceSigner(), 'org.example.big', { commits: 7, filesPerCommit: 1000, fileSize: 1000 }));
  server = await startServe(serverDb, ['org.example.*'], { NETSYNC_CONFIG_DIR: cfg });
});

afterAll(async () => {
  await server?.stop();
});

it('a first clone leaves its database without a large write-ahead log, and complete', async () => {
  const cfg = configDir('client');
  const db = join(root, 'clone.db');
  expect((await cli(cfg, '--db', db, 'db', 'init')).code).toBe(0);
  const pull = await cli(cfg, '--db', db, 'pull', `127.0.0.1:${server.port}`, 'org.example.*', '--json');
  expect(pull.code, pull.stderr).toBe(0);
  const summary = lastJsonLine(pull.stdout);
  expect(summary.bytesReceived as number).toBeGreaterThan(WAL_LEFT_MAX); // the log would have been larger
  expect(statSync(`${db}-wal`).size).toBe(0);
  const branch = withStore(serverDb, (s) => bruteCollection(s, 'org.example.big'));
  expect(branch.size).toBeGreaterThan(7000);
  expect(sorted(withStore(db, (s) => allIds(s)))).toEqual(sorted(branch));
  const check = await cli(cfg, '--db', db, 'db', 'check');
  expect(check.code, check.stderr).toBe(0);
});
