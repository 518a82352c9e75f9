/**
 * The command line: `netsync [--db PATH] COMMAND ...`. Exit 0 on success;
 * otherwise one line on stderr and a non-zero code (2 for usage errors).
 */
import { NetsyncError } from '../errors.js';
import { defaultDatabasePath } from '../paths.js';
import { WriteStore, truncation } from '../store/store.js';
import * as local from './local-commands.js';
import type { Command } from './local-commands.js';
import * as security from './security-commands.js';
import { terminalOutput, type Output } from './output.js';
import { printable } from '../security/printable.js';

export const VERSION = '0.1.0';

export const USAGE = `usage: netsync [--db PATH] COMMAND [ARGS]

Local database (default --db: ${defaultDatabasePath()}, or $NETSYNC_DB):
  db init                                  create an empty database
  db check                                 verify every item and the index
  db rebuild-index                         regenerate the index from the items
  key generate NAME [--passphrase]         make a signing key (private half stays in the config folder)
  key list                                 list keys
  key export NAME | key import FILE|-      share public keys
  key fingerprint [NAME]                   the fingerprint peers and permission files know a key by
  key trust NAME|ID | key untrust NAME|ID  whose signatures log shows as trusted
  commit DIR --branch B [--message M] [--key NAME]
  branches | log BRANCH | show ID
  checkout (BRANCH|ID) DIR

Network (default port 4691):
  serve [--bind HOST:PORT] [--key NAME] [--permissions FILE] [PATTERN ...]
  sync|push|pull HOST[:PORT] PATTERN... [--dry-run] [--json] [--key NAME | --anonymous]
  diff HOST[:PORT] PATTERN...              the missing-item diff; nothing moves
  trust HOST[:PORT] FINGERPRINT            accept a server's (new) key deliberately

Every session runs over TLS 1.3; servers are pinned on first contact (docs/SECURITY.md).

Patterns are branch globs (org.example.*); a leading ! excludes (!org.example.secret*).`;

const COMMANDS: Record<string, Command> = {
  'db init': local.dbInit,
  'db check': local.dbCheck,
  'db rebuild-index': local.dbRebuildIndex,
  'key generate': local.keyGenerate,
  'key list': local.keyList,
  'key export': local.keyExport,
  'key import': local.keyImport,
  commit: local.commit,
  branches: local.branches,
  log: local.log,
  show: local.show,
  checkout: local.checkout,
  'key trust': security.keyTrust,
  'key untrust': security.keyUntrust,
  'key fingerprint': security.keyFingerprint,
};

/** Network commands load their modules only when used, to keep start-up fast. */
const LAZY: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./net-commands.js')).serve,
  sync: async () => (await import('./net-commands.js')).sync,
  push: async () => (await import('./net-commands.js')).push,
  pull: async () => (await import('./net-commands.js')).pull,
  diff: async () => (await import('./net-commands.js')).diff,
  trust: async () => (await import('./net-commands.js')).trust,
};

function splitGlobal(argv: string[]): { db: string; rest: string[]; help: boolean; version: boolean } {
  let db = defaultDatabasePath();
  const rest: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--db') {
      const v = argv[++i];
      if (!v) throw new NetsyncError('usage', '--db needs a path');
      db = v;
    } else if (a.startsWith('--db=')) db = a.slice(5);
    else if ((a === '--help' || a === '-h') && rest.length === 0) help = true;
    else if (a === '--version' && rest.length === 0) version = true;
    else rest.push(a);
  }
  return { db, rest, help, version };
}

export async function run(argv: string[], io: Output = terminalOutput()): Promise<number> {
  let dbPath = '';
  WriteStore.beforeReindex = (path) =>
    process.stderr.write(`netsync: ${path} was indexed by an older Netsync; indexing it again, once (about 3 s per million items)\n`);
  try {
    const { db, rest, help, version } = splitGlobal(argv);
    dbPath = db;
    if (version) {
      io.out(`netsync ${VERSION}`);
      return 0;
    }
    if (help || rest.length === 0 || rest[0] === 'help') {
      io.out(USAGE);
      return help || rest[0] === 'help' ? 0 : 2;
    }
    const two = `${rest[0]} ${rest[1] ?? ''}`;
    const [name, args] = COMMANDS[two] ? [two, rest.slice(2)] : [rest[0]!, rest.slice(1)];
    const command = COMMANDS[name] ?? (LAZY[name] ? await LAZY[name]() : undefined);
    if (!command) {
      const hint = ['db', 'key'].includes(rest[0]!) ? `"${two.trim()}"` : `"${rest[0]}"`;
      throw new NetsyncError('usage', `unknown command ${hint}; run "netsync --help" for the list`);
    }
    return await command({ db, io }, args);
  } catch (e) {
    io.clearProgress();
    if (e instanceof NetsyncError) {
      process.stderr.write(`netsync: ${printable(e.message)}\n`); // it may quote a peer (a server's ERROR)
      return e.code === 'usage' ? 2 : 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC') process.stderr.write('netsync: the disk is full; nothing partial was kept\n');
    else if (err.code === 'SQLITE_FULL') process.stderr.write('netsync: the disk is full; the database is unchanged by the failed step\n');
    else if (String(err.code).startsWith('SQLITE_CORRUPT'))
      process.stderr.write(
        `netsync: ${(dbPath && truncation(dbPath)) || `the database ${dbPath} is damaged (${err.message}); run "netsync db check" to see what`}\n`,
      );
    else if (String(err.code).startsWith('SQLITE_READONLY'))
      process.stderr.write('netsync: the database is read-only (its file or folder cannot be written); nothing was changed\n');
    else process.stderr.write(`netsync: ${printable(err.message ?? String(e))}\n`);
    if (process.env.NETSYNC_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
