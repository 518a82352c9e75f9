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
  | 'cancelled'
  /** A commit refused entries of its folder (unreadable, of a type Netsync does not record): every one is named. */
  | 'refused-entries'
  /** A merge met conflicts: nothing was committed, every conflict is named. */
  | 'conflict';

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
