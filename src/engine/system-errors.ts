/**
 * Errors the system raises, in one clear phrase each: an errno from Node (a
 * file, a socket), a result code from SQLite (better-sqlite3), a message
 * from OpenSSL (node:tls). The command line prints the phrase, the service
 * makes it the ApiError's sentence (with the code), and a session that
 * cannot store what it received ends with it; so a full disk or a refused
 * connection reads the same wherever it happens.
 */

/**
 * A stable code for logs and the app: the ApiError codes the service uses for
 * these, and two of the engine's own for the database (a full disk, a
 * database that cannot be written), which the service reports as 'io'.
 */
export type SystemProblemCode =
  | 'unreachable'
  | 'timeout'
  | 'io'
  | 'address-in-use'
  | 'address-unavailable'
  | 'permission'
  | 'not-found'
  | 'protocol'
  | 'db-corrupt'
  | 'disk-full'
  | 'db-unwritable';

export interface SystemProblem {
  code: SystemProblemCode;
  /** What happened, lower-case and without a full stop: the caller may say what it was doing first, or what follows. */
  text: string;
}

export interface Place {
  /** What the failed operation was about (an address as the user typed it, a path); else the error's own path or address. */
  where?: string;
  /** The database, for SQLite's errors. */
  database?: string;
}

type Describe = (where: string) => [SystemProblemCode, string];

interface SystemErrorLike {
  code?: unknown;
  message?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
}

const ERRNO: Record<string, Describe> = {
  ECONNREFUSED: (w) => ['unreachable', `nothing is listening at ${w} (connection refused); is the peer's server running?`],
  ENOTFOUND: (w) => ['unreachable', `the host name of ${w} could not be found`],
  EAI_AGAIN: (w) => ['unreachable', `the host name of ${w} could not be looked up`],
  EHOSTUNREACH: (w) => ['unreachable', `${w} cannot be reached from this network`],
  ENETUNREACH: (w) => ['unreachable', `${w} cannot be reached from this network`],
  ETIMEDOUT: (w) => ['timeout', `${w} did not answer in time`],
  ECONNRESET: (w) => ['io', `the connection to ${w} was cut`],
  EPIPE: (w) => ['io', `the connection to ${w} was cut`],
  EADDRINUSE: (w) => ['address-in-use', `another program already listens on ${w}`],
  EADDRNOTAVAIL: (w) => ['address-unavailable', `${w} is not an address of this machine`],
  EACCES: (w) => ['permission', `this user may not use ${w}`],
  ENOENT: (w) => ['not-found', `${w} does not exist`],
  ENOSPC: () => ['disk-full', 'the disk is full'],
};

/** SQLite's extended codes (SQLITE_READONLY_DBMOVED...) share their primary code's meaning. */
const SQLITE: Record<string, (database: string, message: string) => [SystemProblemCode, string]> = {
  SQLITE_FULL: () => ['disk-full', 'the disk is full (the database is unchanged by the step that failed)'],
  SQLITE_READONLY: (db) => ['db-unwritable', `${db} is read-only: its file or folder cannot be written (nothing was changed)`],
  SQLITE_CORRUPT: (db, message) => ['db-corrupt', `${db} is damaged (${message})`],
};

/** OpenSSL's reasons, as node:tls reports them in the message (and as ERR_SSL_* codes). */
const OPENSSL: [reason: RegExp, describe: Describe][] = [
  [/wrong version number/i, (w) => ['protocol', `${w} does not answer in TLS (wrong version number); is it a Netsync server?`]],
  [/unsupported protocol|no protocols available/i, (w) => ['protocol', `${w} offers no TLS version this side accepts (Netsync needs TLS 1.3)`]],
];

/** One clear phrase for a system error; null for anything else (a NetsyncError, a bug), whose own message is then the best there is. */
export function describeSystemError(e: unknown, place: Place = {}): SystemProblem | null {
  if (typeof e !== 'object' || e === null) return null;
  const error = e as SystemErrorLike;
  const code = typeof error.code === 'string' ? error.code : '';
  const message = typeof error.message === 'string' ? error.message : '';
  const sqlite = SQLITE[code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')];
  if (sqlite) return problem(sqlite(place.database ? `the database ${place.database}` : 'the database', message));
  const errno = ERRNO[code];
  if (errno) return problem(errno(placeOf(error, place)));
  const tls = OPENSSL.find(([reason]) => reason.test(message));
  return tls ? problem(tls[1](placeOf(error, place))) : null;
}

function problem([code, text]: [SystemProblemCode, string]): SystemProblem {
  return { code, text };
}

function placeOf(e: SystemErrorLike, place: Place): string {
  if (place.where) return place.where;
  if (typeof e.path === 'string') return e.path;
  if (typeof e.address === 'string') {
    const host = e.address.includes(':') ? `[${e.address}]` : e.address;
    return typeof e.port === 'number' ? `${host}:${e.port}` : host;
  }
  return 'the target';
}

/**
 * OpenSSL's error strings as node:tls puts them in a message
 * (`808C…:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake
 * failure:../deps/openssl/…/rec_layer_s3.c:1601:SSL alert number 40`): the
 * library's own dump, of which a person can use the reason alone.
 */
const OPENSSL_DUMP = /[0-9A-F]{8,}:error:[0-9A-F]{6,}:[^:]*:[^:]*:([^:\n]+)(?::[^\s:]*\.c:\d+:?[^\n]*)?/g;

/** `text` with every OpenSSL dump in it cut to its reason; the rest unchanged. */
export function withoutLibraryDumps(text: string): string {
  return text.replace(OPENSSL_DUMP, (_dump, reason: string) => reason.trim());
}
