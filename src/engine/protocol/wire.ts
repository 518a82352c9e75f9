/**
 * Byte-level helpers of the wire protocol: unsigned LEB128 varints and a
 * bounded reader that throws ProtocolError (never reads past its buffer,
 * never allocates on a peer's say-so).
 */
import { Reader } from '../items/codec.js';

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

/** The item reader (items/codec.ts) with varints, counts and strings; errors are ProtocolError 'malformed'. */
export class WireReader extends Reader {
  constructor(buf: Buffer, what: string) {
    super(buf, what, (message) => perr('malformed', message));
  }

  /** Unsigned LEB128, at most 8 bytes (53-bit safe). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) perr('malformed', `${this.what}: non-minimal varint`);
        if (value > Number.MAX_SAFE_INTEGER) perr('malformed', `${this.what}: varint of 2^53 or more`);
        return value;
      }
      scale *= 128;
    }
    return perr('malformed', `${this.what}: varint too long`);
  }

  /** A count of records each at least `minBytes` long: refused if the frame cannot hold them. */
  count(minBytes: number, max: number): number {
    const n = this.varint();
    if (n > max) perr('too-large', `${this.what}: ${n} records exceeds the limit of ${max}`);
    if (n * minBytes > this.remaining) perr('malformed', `${this.what}: count ${n} larger than the frame holds`);
    return n;
  }

  string(maxBytes: number): string {
    const n = this.varint();
    if (n > maxBytes) perr('too-large', `${this.what}: string of ${n} bytes exceeds ${maxBytes}`);
    const raw = this.bytes(n);
    const s = raw.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(raw)) perr('malformed', `${this.what}: invalid UTF-8`);
    return s;
  }
}

/**
 * Writes into one growing buffer. A part per field (a Buffer per varint)
 * made a WANT of 65,536 records cost most of a second to encode: a server
 * answering a flood of OFFERs spent its time here (docs/SECURITY.md §7).
 */
export class WireWriter {
  private buf = Buffer.allocUnsafe(256);
  private size = 0;

  private room(n: number): void {
    if (this.size + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.size + n));
    this.buf.copy(next, 0, 0, this.size);
    this.buf = next;
  }

  get length(): number {
    return this.size;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.size++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v, this.size);
    this.size += 2;
    return this;
  }

  varint(v: number): this {
    this.room(8);
    let n = v;
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      this.buf[this.size++] = b;
    } while (n > 0);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.byteLength);
    this.buf.set(b, this.size);
    this.size += b.byteLength;
    return this;
  }

  string(s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.room(n);
    this.buf.write(s, this.size, 'utf8');
    this.size += n;
    return this;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.size);
  }
}
