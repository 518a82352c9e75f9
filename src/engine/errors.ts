/**
 * Errors that cross a layer boundary carry a stable code (for logs, the wire
 * and the UI) and one clear sentence (for the user).
 */
export type ErrorCode =
  | 'bad-item'
  | 'bad-signature'
  | 'missing-reference'
  | 'too-large'
  | 'db-newer'
  | 'db-missing'
  | 'db-corrupt'
  /** The database cannot be written: a read-only file or folder, a full disk. */
  | 'db-unwritable'
  | 'not-found'
  | 'usage'
  | 'io'
  | 'key'
  | 'protocol'
  /** The peer cannot be reached: nothing listens there, an unknown host, no route. */
  | 'unreachable'
  | 'timeout'
  | 'permission'
  | 'cancelled';

export class NetsyncError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NetsyncError';
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new NetsyncError(code, message);
}
