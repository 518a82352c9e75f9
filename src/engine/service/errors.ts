/**
 * Every exception that reaches the service boundary becomes an ApiError:
 * a stable code for logs and tests, one sentence for the user.
 */
import type { ApiError, ApiErrorCode, Result } from '../../shared/api.js';
import { withWhatToDo } from '../../shared/error-advice.js';
import { type ErrorCode, NetsyncError } from '../errors.js';
import { formatFingerprint } from '../security/fingerprint.js';
import { ServerKeyChangedError } from '../security/known-servers.js';
import { type SystemProblemCode, describeSystemError, withoutLibraryDumps } from '../system-errors.js';

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
  'refused-entries': 'io',
  conflict: 'usage',
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
      `from the one pinned for it (${formatFingerprint(e.pinned)}), so nothing was sent: someone may be intercepting the connection; ` +
      `if its owner replaced the key, check the new fingerprint with them before you trust it.`,
    serverKey: { address: e.address, pinned: e.pinned, presented: e.presented },
  };
}

/**
 * What the UI shows as is: one line, capitalised, ending in a full stop,
 * saying what to do (the code's advice when the text has none), with no
 * library's dump in it.
 */
export function sentence(code: ApiErrorCode, text: string): string {
  return withWhatToDo(code, withoutLibraryDumps(text));
}

export function apiError(code: ApiErrorCode, text: string, facts: ErrorFacts = {}): ApiError {
  return { code, message: sentence(code, text), ...facts };
}

/** A system problem's code as the API says it: a full disk or a database that cannot be written is an 'io' failure there. */
function apiCodeOfSystem(code: SystemProblemCode): ApiErrorCode {
  return code === 'disk-full' || code === 'db-unwritable' ? API_CODE_OF['db-unwritable'] : code;
}

/** `where` names the thing the error is about (an address as the user typed it, a path). */
export function toApiError(e: unknown, where?: string): ApiError {
  if (e instanceof ServerKeyChangedError) return serverKeyChanged(e);
  if (e instanceof ServiceError) return apiError(e.code, e.message, e.facts);
  if (e instanceof NetsyncError) return apiError(API_CODE_OF[e.code], e.message);
  const error = e as (Error & { code?: unknown }) | undefined;
  if (error?.name === 'AbortError') return apiError('cancelled', 'Cancelled');
  const known = describeSystemError(e, { where });
  if (known) return apiError(apiCodeOfSystem(known.code), known.text);
  // A bug: its own message is the best there is, its stack goes to no window.
  return apiError('internal', error instanceof Error ? error.message : String(e));
}

/** Runs `fn`; an exception becomes `{ ok: false }` instead of crossing the boundary. */
export async function guard<T>(fn: () => T | Promise<T>, where?: string): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, error: toApiError(e, where) };
  }
}
