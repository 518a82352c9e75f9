/**
 * The one bounded big-endian reader and writer of every encoding: items
 * (docs/FORMAT.md), wire frames (docs/PROTOCOL.md) and reconciliation
 * messages (docs/protocol-recon.md). Varints are unsigned LEB128: 7 bits a
 * byte, least significant group first, minimal, at most 8 bytes, below 2^53.
 *
 * A decoder never trusts a length field: every length and count is checked
 * against what is left (and against the caller's limit) before anything is
 * allocated or sliced. What goes wrong is reported through the `raise`
 * function the caller injects, so each encoding keeps its own error type
 * (NetsyncError 'bad-item', ProtocolError, ReconError) and nothing else
 * escapes a decoder.
 */
import { isUtf8 } from 'node:buffer';

/** What a decoder found: bytes that do not parse, or a count or length past its limit. */
export type ReadProblem = 'malformed' | 'too-large';

/** Throws the caller's error for a problem; `message` names where it was found. */
export type Raise = (problem: ReadProblem, message: string) => never;

/** Varints carry at most 8 groups of 7 bits; values stay below 2^53 (exact in a double). */
const VARINT_MAX_BYTES = 8;

export class Reader {
  private pos = 0;

  /** @param what names the whole encoding in messages ('item', 'frame type 4', 'recon message'). */
  constructor(
    private readonly buf: Buffer,
    readonly what: string,
    private readonly raise: Raise,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Fails unless `n` more bytes are there (a record count times its smallest size, before a loop). */
  need(n: number, field?: string): void {
    if (n > this.remaining) this.raise('malformed', `${this.where(field)}: truncated (needs ${n} bytes, ${this.remaining} left)`);
  }

  u8(field?: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  u16(field?: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(field?: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(field?: string): number {
    this.need(8, field);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.raise('malformed', `${this.where(field)}: 64-bit value too large`);
    return Number(v);
  }

  /** The next `n` bytes as a view of the buffer read (no copy). */
  bytes(n: number, field?: string): Buffer {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** The next `n` bytes as a copy: for values kept after the buffer read is let go (it may be a view of a larger one). */
  copy(n: number, field?: string): Buffer {
    return Buffer.from(this.bytes(n, field));
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  end(): void {
    if (this.remaining !== 0) this.raise('malformed', `${this.what}: ${this.remaining} trailing bytes`);
  }

  /** Unsigned LEB128; above `max` is 'too-large', checked group by group (a long varint is refused as soon as it passes). */
  varint(max: number = Number.MAX_SAFE_INTEGER, field?: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < VARINT_MAX_BYTES; i++) {
      const b = this.u8(field);
      value += (b & 0x7f) * scale;
      if (value > max) this.overLimit(value, max, field);
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) this.raise('malformed', `${this.where(field)}: non-minimal varint`);
        return value;
      }
      scale *= 0x80;
    }
    return this.raise('malformed', `${this.where(field)}: varint too long`);
  }

  /** A signed value as a zigzag varint (0, -1, 1, -2 ... as 0, 1, 2, 3 ...), in -max-1..max (2^31 - 1: an Int32). */
  zigzag(max: number, field?: string): number {
    const z = this.varint(max * 2 + 1, field);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /** A varint count of records each at least `minBytes` long: refused above `max`, or when the bytes left cannot hold them. */
  count(minBytes: number, max: number, field?: string): number {
    const n = this.varint(max, field);
    if (n * minBytes > this.remaining) this.raise('malformed', `${this.where(field)}: count ${n} larger than the bytes left hold`);
    return n;
  }

  /** A varint length, then that many bytes of valid UTF-8. */
  string(maxBytes: number, field?: string): string {
    const raw = this.bytes(this.varint(maxBytes, field), field);
    if (!isUtf8(raw)) this.raise('malformed', `${this.where(field)}: invalid UTF-8`);
    return raw.toString('utf8');
  }

  private overLimit(value: number, max: number, field: string | undefined): never {
    // Past 2^53 a value cannot be held exactly: that is a malformed varint, not a count over a limit.
    if (max === Number.MAX_SAFE_INTEGER) return this.raise('malformed', `${this.where(field)}: varint of 2^53 or more`);
    return this.raise('too-large', `${this.where(field)}: ${value} exceeds limit ${max}`);
  }

  private where(field: string | undefined): string {
    return field === undefined ? this.what : `${this.what} ${field}`;
  }
}

/** Byte runs at least this long are kept by reference until `done`, not copied twice (an item's content). */
const BY_REFERENCE = 1024;

/** Collects big-endian fields and varints into one Buffer. */
export class Writer {
  /** Filled parts, in order; `buf` holds what comes after them. */
  private readonly parts: Buffer[] = [];
  private partsLength = 0;
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  get length(): number {
    return this.partsLength + this.pos;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  u64(v: number): this {
    this.room(8);
    this.buf.writeBigUInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint of ${v}`);
    this.room(VARINT_MAX_BYTES);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.pos++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.pos++] = x;
    return this;
  }

  zigzag(v: number): this {
    return this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** The bytes as they are; a long run is referenced, so it must not change before `done`. */
  bytes(b: Uint8Array): this {
    if (b.length >= BY_REFERENCE) {
      this.cut();
      this.parts.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.partsLength += b.length;
      return this;
    }
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A varint byte length, then the UTF-8 bytes. */
  string(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.varint(b.length).bytes(b);
  }

  done(): Buffer {
    this.cut();
    return Buffer.concat(this.parts, this.partsLength);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.cut();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(4096, n));
  }

  /** Ends the current part; writing goes on in what is left of its buffer. */
  private cut(): void {
    if (this.pos === 0) return;
    this.parts.push(this.buf.subarray(0, this.pos));
    this.partsLength += this.pos;
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
  }
}

/** The big-endian 32-bit word at `at` (no bounds check: for callers that index whole ids and keys). */
export function u32be(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
