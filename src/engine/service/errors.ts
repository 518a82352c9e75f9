/**
 * Every exception that reaches the service boundary becomes an ApiError:
 * a stable code for logs and tests, one sentence for the user.
 */
import type { ApiError, Result } from '../../shared/api.js';
import { NetsyncError } from '../errors.js';
import { formatFingerprint } from '../security/fingerprint.js';
import { ServerKeyChangedError } from '../security/known-servers.js';
import { describeSystemError } from '../system-errors.js';

/** The structured facts some codes carry (see ApiError). */
export type ErrorFacts = Pick<ApiError, 'key' | 'serverKey' | 'lines'>;

/**
 * A refusal of the service's own ('busy' and the like), for codes the
 * engine's ErrorCode does not have.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly facts: ErrorFacts = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export function refuse(code: string, message: string, facts?: ErrorFacts): never {
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

/** `where` names the thing the error is about (an address as the user typed it, a path). */
export function toApiError(e: unknown, where?: string): ApiError {
  if (e instanceof ServerKeyChangedError) return serverKeyChanged(e);
  if (e instanceof ServiceError) return { code: e.code, message: sentence(e.message), ...e.facts };
  if (e instanceof NetsyncError) return { code: e.code, message: sentence(e.message) };
  const error = e as (Error & { code?: unknown }) | undefined;
  if (error?.name === 'AbortError') return { code: 'cancelled', message: 'Cancelled.' };
  const known = describeSystemError(e, { where });
  if (known) return { code: known.code, message: sentence(known.text) };
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
