import { fail } from '../errors.js';

/**
 * A bounded big-endian byte reader. Every length is checked against what is
 * left before anything is allocated or sliced, so a forged length field can
 * never make us read past the buffer or allocate on its say-so. Items use it
 * as it is (errors are NetsyncError 'bad-item'); the wire protocol extends it
 * with varints and its own error type (protocol/wire.ts).
 */
export class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Buffer,
    protected readonly what: string,
    protected readonly raise: (message: string) => never = (message) => fail('bad-item', message),
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (n > this.remaining) this.raise(`${this.what}: truncated (needs ${n} more bytes, has ${this.remaining})`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.raise(`${this.what}: 64-bit value too large`);
    return Number(v);
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  end(): void {
    if (this.remaining !== 0) this.raise(`${this.what}: ${this.remaining} trailing bytes`);
  }
}

/** Collects big-endian fields into one Buffer. */
export class Writer {
  private parts: Buffer[] = [];

  u8(v: number): this {
    this.parts.push(Buffer.of(v));
    return this;
  }

  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }

  u64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    this.parts.push(b);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}
