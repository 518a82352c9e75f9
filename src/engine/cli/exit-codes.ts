/**
 * Every exit code the command line returns, and the one place that decides
 * which: an engine ErrorCode maps to a class, a class to a number. The
 * numbers are a contract scripts test against (README, "Exit codes", lists
 * the same table; test/unit/cli-exit-codes.test.ts keeps the two equal), so
 * a number never changes meaning; new classes take new numbers.
 */
import { type ErrorCode, NetsyncError } from '../errors.js';

export type ExitClass =
  | 'ok'
  | 'failure'
  | 'usage'
  | 'network'
  | 'permission'
  | 'verification'
  | 'database'
  | 'key'
  | 'not-found'
  | 'refused-entries'
  | 'unmatched'
  | 'conflict'
  | 'cancelled';

export interface ExitCode {
  code: number;
  name: ExitClass;
  meaning: string;
}

/**
 * 10-19 are outcomes, not failures of the classes below: the command ran
 * and what it was asked for did not happen. A commit that refused entries
 * (10), a pull or sync of a pattern the server offers nothing for (11), a
 * merge with conflicts (12); the others are kept for outcomes to come.
 */
export const EXIT_CODES: readonly ExitCode[] = [
  { code: 0, name: 'ok', meaning: 'success; also a reader that stopped reading early (`netsync log B | head -1`)' },
  { code: 1, name: 'failure', meaning: 'a failure outside the classes below (a folder that cannot be read, an unexpected error)' },
  { code: 2, name: 'usage', meaning: 'the command line is wrong: unknown command or option, missing or extra argument, invalid value' },
  {
    code: 3,
    name: 'network',
    meaning: 'the peer cannot be reached, did not answer in time, or broke off the session (not a Netsync server, an error on its side)',
  },
  { code: 4, name: 'permission', meaning: 'the peer refused: your key may not read or write that branch there' },
  { code: 5, name: 'verification', meaning: 'an item failed verification: damaged, a bad signature, a missing reference, too large' },
  { code: 6, name: 'database', meaning: 'the database is missing, damaged, truncated, from a newer Netsync, read-only, or its disk is full' },
  { code: 7, name: 'key', meaning: 'a key problem: no key, a wrong or missing passphrase, a damaged key file, a server whose key changed or was not accepted' },
  { code: 8, name: 'not-found', meaning: 'no such branch, item or key' },
  {
    code: 10,
    name: 'refused-entries',
    meaning:
      'commit refused entries of the folder (unreadable, a type Netsync does not record) and named every one; or a folder without a workspace record committed to an existing branch without --parent; nothing was committed',
  },
  {
    code: 11,
    name: 'unmatched',
    meaning: 'a pull or sync moved nothing of a pattern: the server offers no branch matching it to your key (absent or refused: it does not say which)',
  },
  {
    code: 12,
    name: 'conflict',
    meaning: 'merge met conflicts and named every one (kind and path); nothing was committed (`merge --into DIR` writes the tree with conflict markers)',
  },
  { code: 130, name: 'cancelled', meaning: 'interrupted (Ctrl-C): what arrived so far was kept (128 + SIGINT, as shells report it)' },
];

/** Every engine error code has a class: a new ErrorCode does not compile until it is given one. */
const CLASS_OF: Record<ErrorCode, ExitClass> = {
  'bad-item': 'verification',
  'bad-signature': 'verification',
  'missing-reference': 'verification',
  'too-large': 'verification',
  'db-newer': 'database',
  'db-missing': 'database',
  'db-corrupt': 'database',
  'db-unwritable': 'database',
  'not-found': 'not-found',
  usage: 'usage',
  io: 'failure',
  key: 'key',
  protocol: 'network',
  unreachable: 'network',
  timeout: 'network',
  permission: 'permission',
  cancelled: 'cancelled',
  'refused-entries': 'refused-entries',
  conflict: 'conflict',
};

export function exitCode(name: ExitClass): number {
  return EXIT_CODES.find((e) => e.name === name)!.code;
}

/** The class of anything a command threw: engine errors by code, SQLite's and the system's by theirs. */
export function exitClassOf(e: unknown): ExitClass {
  if (e instanceof NetsyncError) return CLASS_OF[e.code];
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  if (code.startsWith('SQLITE_')) return 'database';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return 'network';
  return 'failure';
}
