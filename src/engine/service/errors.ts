/**
 * Every exception that reaches the service boundary becomes an ApiError:
 * a stable code for logs and tests, one sentence for the user.
 */
import type { ApiError, ApiErrorCode, Result } from '../../shared/api.js';
import { type ErrorCode, NetsyncError } from '../errors.js';
import { formatFingerprint } from '../security/fingerprint.js';
import { ServerKeyChangedError } from '../security/known-servers.js';

/** The structured facts some codes carry (see ApiError). */
export type ErrorFacts = Pick<ApiError, 'key' | 'serverKey' | 'lines'>;

/**
 * Each engine code as the API says it. A Record, so the compiler refuses an
 * engine code added without its API code here (and an API code that does
 * not exist).
 */
const API_CODE_OF: Record<ErrorCode, ApiErrorCode> = {
  'bad-item': 'bad-item',
  'bad-signature': 'bad-signature',
  'missing-reference': 'missing-reference',
  'too-large': 'too-large',
  'db-newer': 'db-newer',
  'db-missing': 'db-missing',
  'db-corrupt': 'db-corrupt',
  'db-unwritable': 'io',
  'not-found': 'not-found',
  usage: 'usage',
  io: 'io',
  key: 'key',
  protocol: 'protocol',
  unreachable: 'unreachable',
  timeout: 'timeout',
  permission: 'permission',
  cancelled: 'cancelled',
};

/**
 * A refusal of the service's own ('busy' and the like), for codes the
 * engine's ErrorCode does not have.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly facts: ErrorFacts = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export function refuse(code: ApiErrorCode, message: string, facts?: ErrorFacts): never {
  throw new ServiceError(code, message, facts);
}

/**
 * The engine's changed-key refusal, for a window: the same facts as the
 * command line's, but the way out is the app's "trust the new key", not a command.
 */
function serverKeyChanged(e: ServerKeyChangedError): ApiError {
  return {
    code: 'server-key-changed',
    message:
      `The server at ${e.address} presented a different key (fingerprint ${formatFingerprint(e.presented)}) ` +
      `from the one pinned for it (${formatFingerprint(e.pinned)}). Someone may be intercepting the connection, so nothing was sent. ` +
      `If its owner replaced the key, check the new fingerprint with them before you trust it.`,
    serverKey: { address: e.address, pinned: e.pinned, presented: e.presented },
  };
}

/** Capitalised, ending in a full stop: what the UI shows as is. */
export function sentence(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  if (t === '') return 'Something went wrong.';
  const first = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

const SYSTEM_ERRORS: Record<string, (where: string) => [code: ApiErrorCode, message: string]> = {
  ECONNREFUSED: (w) => ['unreachable', `nothing is listening at ${w}; is the peer's server running?`],
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
  ENOSPC: () => ['io', 'the disk is full'],
};

/** `where` names the thing the error is about (an address, a path) when the error itself does not. */
export function toApiError(e: unknown, where = 'the target'): ApiError {
  if (e instanceof ServerKeyChangedError) return serverKeyChanged(e);
  if (e instanceof ServiceError) return { code: e.code, message: sentence(e.message), ...e.facts };
  if (e instanceof NetsyncError) return { code: API_CODE_OF[e.code], message: sentence(e.message) };
  const error = e as (Error & { code?: unknown }) | undefined;
  if (error?.name === 'AbortError') return { code: 'cancelled', message: 'Cancelled.' };
  const known = typeof error?.code === 'string' ? SYSTEM_ERRORS[error.code] : undefined;
  if (known) {
    const [code, message] = known(where);
    return { code, message: sentence(message) };
  }
  const message = error instanceof Error ? error.message : String(e);
  return { code: 'internal', message: sentence(message) };
}

/** Runs `fn`; an exception becomes `{ ok: false }` instead of crossing the boundary. */
export async function guard<T>(fn: () => T | Promise<T>, where?: string): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: toApiError(e, where) };
  }
}
