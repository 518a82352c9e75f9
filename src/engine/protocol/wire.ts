/**
 * The wire protocol's errors (stable codes for the ERROR frame) and its
 * bounded reader: the engine's one reader (codec.ts) raising ProtocolError,
 * so that nothing a peer sends can make a decoder read past its buffer or
 * allocate on the peer's say-so.
 */
import { Reader } from '../codec.js';

export type ProtocolErrorCode =
  | 'malformed'
  | 'version'
  | 'too-large'
  | 'bad-item'
  | 'unexpected'
  | 'timeout'
  | 'permission'
  | 'shutdown'
  | 'internal'
  | 'over-budget';

/** Stable numeric codes for the ERROR frame (docs/PROTOCOL.md §Errors). */
export const ERROR_CODES: Record<ProtocolErrorCode, number> = {
  malformed: 1,
  version: 2,
  'too-large': 3,
  'bad-item': 4,
  unexpected: 5,
  timeout: 6,
  permission: 7,
  shutdown: 8,
  internal: 9,
  /** The peer made the server spend more than a budget allows (protocol/budgets.ts); the message names the budget. */
  'over-budget': 10,
};

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function perr(code: ProtocolErrorCode, message: string): never {
  throw new ProtocolError(code, message);
}

/** A bounded reader of a frame's payload (codec.ts); what it finds wrong is a ProtocolError 'malformed' or 'too-large'. */
export function wireReader(buf: Buffer, what: string): Reader {
  return new Reader(buf, what, perr);
}
