/**
 * Frames and messages of the Netsync wire protocol, version 4
 * (docs/PROTOCOL.md is the normative text; keep them in step).
 *
 * frame = u32be length (of what follows) || u8 type || payload
 */
import { ID_BYTES } from '../hash.js';
import { ITEM_MAX } from '../items/format.js';
import { type Reader, Writer } from '../codec.js';
import { MAX_SLOTS } from '../recon/messages.js';
import { MAX_PATTERN_BYTES, MAX_PATTERNS } from '../security/patterns.js';
import { ERROR_CODES, type ProtocolErrorCode, perr, wireReader } from './wire.js';

/** Version 4: format v4 items (trees, revisions) and the extension frame range. */
export const PROTOCOL_VERSION = 4;
/**
 * Frame types a version-4 peer skips instead of calling malformed: room for
 * later additions (a change notice, refusal reports) without a new version
 * (docs/PROTOCOL.md §2). Any other unknown type is malformed.
 */
export const EXTENSION_FIRST = 64;
export const EXTENSION_LAST = 127;

export function isExtensionFrame(type: number): boolean {
  return type >= EXTENSION_FIRST && type <= EXTENSION_LAST;
}
export const MAGIC = Buffer.from('NSYN');
/** The largest frame: one item of ITEM_MAX plus its header, with room to spare. */
export const MAX_FRAME = ITEM_MAX + 1024;
export const MAX_RECON = 4 << 20;
export const MAX_RECORDS = 65_536;
/** Patterns per HELLO, each at most MAX_PATTERN_BYTES: the limits a branch filter holds to (security/patterns.ts). */
export { MAX_PATTERN_BYTES, MAX_PATTERNS };
/** Slots per session: the same limit as a reconciliation message's slot numbers (recon/messages.ts). */
export { MAX_SLOTS };
export const SHORT_ID = 8;
export const NONCE_BYTES = 16;

export const enum FrameType {
  Hello = 1,
  Welcome = 2,
  Recon = 3,
  Offer = 4,
  Want = 5,
  Item = 6,
  Stage = 7,
  Final = 8,
  Error = 9,
  ReconPlan = 10,
  Whole = 11,
}

export const enum Stage {
  ReconDone = 1,
  WantsDone = 2,
  ItemsDone = 3,
}

export const HELLO_SENDS = 1;
export const HELLO_RECEIVES = 2;
export const HELLO_DRY_RUN = 4;
/**
 * The client's database holds no item (and it receives, not a dry run): the
 * server sends every item of the slots it adds without OFFERs, each slot's
 * items after a WHOLE frame (docs/PROTOCOL.md §4.6).
 */
export const HELLO_EMPTY = 8;
export const WELCOME_IN_SYNC = 1;
/**
 * The server's database holds no item (sent only to a client that SENDS, is
 * not a dry run and may write a slot): the client sends its slots whole,
 * each after a WHOLE frame, without offers (docs/PROTOCOL.md §4.6).
 */
export const WELCOME_EMPTY = 2;

export interface SlotAnnounce {
  name: string;
  root: Buffer;
  count: number;
}

export interface Hello {
  minVersion: number;
  maxVersion: number;
  flags: number;
  nonce: Buffer;
  patterns: string[];
  slots: SlotAnnounce[];
}

export const enum RefuseReason {
  NotOffered = 1,
  NoPermission = 2,
  /**
   * Not a refusal of the slot: it is reconciled and the server may send, but
   * the client may not write the branch, so the server accepts no item in it
   * (sent only when the client SENDS; docs/SECURITY.md).
   */
  ReadOnly = 3,
}

export interface Welcome {
  version: number;
  flags: number;
  refused: { slot: number; reason: RefuseReason }[];
  /** Branches only the server has; they take slot numbers after the client's. */
  extra: string[];
}

export interface OfferEntry {
  slot: number;
  short: Buffer;
  kind: number;
  size: number;
}

export interface WantEntry {
  slot: number;
  short: Buffer;
}

export const enum ItemEncoding {
  Raw = 0,
  DeflateRaw = 1,
}

export type Message =
  | { type: FrameType.Hello; hello: Hello }
  | { type: FrameType.Welcome; welcome: Welcome }
  | { type: FrameType.Recon; payload: Buffer }
  | { type: FrameType.ReconPlan; payload: Buffer }
  | { type: FrameType.Offer; entries: OfferEntry[] }
  | { type: FrameType.Want; entries: WantEntry[] }
  | { type: FrameType.Item; id: Buffer; encoding: ItemEncoding; data: Buffer }
  | { type: FrameType.Stage; stage: Stage }
  | { type: FrameType.Final; roots: Buffer[] }
  | { type: FrameType.Whole; slot: number; count: number }
  | { type: FrameType.Error; code: number; message: string };

// ---------------------------------------------------------------- encoding

function frame(type: FrameType, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, payload]);
}

/**
 * An ITEM frame in one allocation and one copy of the item's bytes (the
 * general path copies them twice): a sender writes one per item.
 */
function itemFrame(id: Buffer, encoding: ItemEncoding, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + ID_BYTES + 1 + data.length);
  out.writeUInt32BE(1 + ID_BYTES + 1 + data.length, 0);
  out[4] = FrameType.Item;
  out.set(id, 5);
  out[5 + ID_BYTES] = encoding;
  out.set(data, 6 + ID_BYTES);
  return out;
}

export function encodeMessage(m: Message): Buffer {
  if (m.type === FrameType.Item && m.id.length === ID_BYTES) return itemFrame(m.id, m.encoding, m.data);
  const w = new Writer();
  switch (m.type) {
    case FrameType.Hello: {
      const h = m.hello;
      w.bytes(MAGIC).u8(h.minVersion).u8(h.maxVersion).u8(h.flags).bytes(h.nonce);
      w.varint(h.patterns.length);
      for (const p of h.patterns) w.string(p);
      w.varint(h.slots.length);
      for (const s of h.slots) w.string(s.name).bytes(s.root).varint(s.count);
      break;
    }
    case FrameType.Welcome: {
      const x = m.welcome;
      w.bytes(MAGIC).u8(x.version).u8(x.flags).varint(x.refused.length);
      for (const r of x.refused) w.varint(r.slot).u8(r.reason);
      w.varint(x.extra.length);
      for (const name of x.extra) w.string(name);
      break;
    }
    case FrameType.Recon:
    case FrameType.ReconPlan:
      w.bytes(m.payload);
      break;
    case FrameType.Offer:
      w.varint(m.entries.length);
      for (const e of m.entries) w.varint(e.slot).bytes(e.short).u8(e.kind).varint(e.size);
      break;
    case FrameType.Want:
      w.varint(m.entries.length);
      for (const e of m.entries) w.varint(e.slot).bytes(e.short);
      break;
    case FrameType.Item:
      w.bytes(m.id).u8(m.encoding).bytes(m.data);
      break;
    case FrameType.Stage:
      w.u8(m.stage);
      break;
    case FrameType.Final:
      w.varint(m.roots.length);
      for (const r of m.roots) w.bytes(r);
      break;
    case FrameType.Whole:
      w.varint(m.slot).varint(m.count);
      break;
    case FrameType.Error:
      w.u8(m.code).string(utf8Prefix(m.message, 1000));
      break;
  }
  return frame(m.type, w.done());
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `maxBytes`, cut between characters. */
function utf8Prefix(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > maxBytes) break;
    end += ch.length;
  }
  return s.slice(0, end);
}

export function errorMessage(code: ProtocolErrorCode, message: string): Message {
  return { type: FrameType.Error, code: ERROR_CODES[code], message };
}

// ---------------------------------------------------------------- decoding

function magic(r: Reader): void {
  if (!r.bytes(4).equals(MAGIC)) perr('malformed', 'not a Netsync peer (bad magic)');
}

/**
 * The records of one OFFER or WANT frame, decoded a slice at a time. A frame
 * of 65,536 records decoded at once is 65,536 objects and as many Buffer
 * views alive together while the frame is handled over several turns of the
 * event loop: they outlive the young generation and a few flooding peers
 * pushed a server's resident memory past its budgets by hundreds of MB
 * (test/reliability/attacks.test.ts). A slice at a time, they die young.
 * The record count is checked against the payload when the reader is made;
 * each record as it is read; the end of the payload after the last one.
 */
export class RecordReader {
  private left: number;

  constructor(
    readonly type: FrameType.Offer | FrameType.Want,
    private readonly r: Reader,
  ) {
    this.left = type === FrameType.Offer ? r.count(1 + SHORT_ID + 2, MAX_RECORDS) : r.count(1 + SHORT_ID, MAX_RECORDS);
  }

  /** Records not read yet. */
  get remaining(): number {
    return this.left;
  }

  /** Up to `max` more records as one message of the frame's type; after the last, the payload must be at its end. */
  next(max: number): Extract<Message, { type: FrameType.Offer | FrameType.Want }> {
    const n = Math.min(max, this.left);
    this.left -= n;
    const r = this.r;
    let m: Extract<Message, { type: FrameType.Offer | FrameType.Want }>;
    if (this.type === FrameType.Offer) {
      const entries: OfferEntry[] = new Array(n);
      for (let i = 0; i < n; i++) entries[i] = { slot: r.varint(), short: r.bytes(SHORT_ID), kind: r.u8(), size: r.varint() };
      m = { type: FrameType.Offer, entries };
    } else {
      const entries: WantEntry[] = new Array(n);
      for (let i = 0; i < n; i++) entries[i] = { slot: r.varint(), short: r.bytes(SHORT_ID) };
      m = { type: FrameType.Want, entries };
    }
    if (this.left === 0) r.end();
    return m;
  }
}

/** An OFFER or WANT body, for reading a slice at a time (RecordReader); null for any other frame. */
export function recordReader(body: Buffer): RecordReader | null {
  const type = body[0];
  if (type !== FrameType.Offer && type !== FrameType.Want) return null;
  return new RecordReader(type, wireReader(body.subarray(1), `frame type ${type}`));
}

/** Decodes one frame body (type byte + payload, the length prefix already removed). */
export function decodeMessage(body: Buffer): Message {
  if (body.length === 0) perr('malformed', 'empty frame');
  const type = body[0]!;
  // Nearly every frame of a transfer is an ITEM: read in place, without a reader (a short
  // one takes the general path below, which says what is missing).
  if (type === FrameType.Item && body.length >= 2 + ID_BYTES) {
    const encoding = body[1 + ID_BYTES]!;
    if (encoding !== ItemEncoding.Raw && encoding !== ItemEncoding.DeflateRaw) perr('malformed', `unknown item encoding ${encoding}`);
    return { type, id: body.subarray(1, 1 + ID_BYTES), encoding, data: body.subarray(2 + ID_BYTES) };
  }
  const r = wireReader(body.subarray(1), `frame type ${type}`);
  const m = decodeBody(type, r);
  r.end();
  return m;
}

function decodeBody(type: number, r: Reader): Message {
  switch (type) {
    case FrameType.Hello: {
      magic(r);
      const minVersion = r.u8();
      const maxVersion = r.u8();
      const flags = r.u8();
      const nonce = r.bytes(NONCE_BYTES);
      const patterns: string[] = [];
      for (let i = r.count(1, MAX_PATTERNS); i > 0; i--) patterns.push(r.string(MAX_PATTERN_BYTES));
      const slots: SlotAnnounce[] = [];
      for (let i = r.count(1 + ID_BYTES + 1, MAX_SLOTS); i > 0; i--) {
        slots.push({ name: r.string(255), root: r.bytes(ID_BYTES), count: r.varint() });
      }
      return { type, hello: { minVersion, maxVersion, flags, nonce, patterns, slots } };
    }
    case FrameType.Welcome: {
      magic(r);
      const version = r.u8();
      const flags = r.u8();
      const refused: Welcome['refused'] = [];
      for (let i = r.count(2, MAX_SLOTS); i > 0; i--) refused.push({ slot: r.varint(), reason: r.u8() as RefuseReason });
      const extra: string[] = [];
      for (let i = r.count(1, MAX_SLOTS); i > 0; i--) extra.push(r.string(255));
      return { type, welcome: { version, flags, refused, extra } };
    }
    case FrameType.Recon:
    case FrameType.ReconPlan:
      if (r.remaining > MAX_RECON) perr('too-large', 'reconciliation message too large');
      return { type, payload: r.rest() };
    case FrameType.Offer:
    case FrameType.Want: {
      const records = new RecordReader(type, r);
      return records.next(MAX_RECORDS);
    }
    case FrameType.Item: {
      const id = r.bytes(ID_BYTES);
      const encoding = r.u8();
      if (encoding !== ItemEncoding.Raw && encoding !== ItemEncoding.DeflateRaw) perr('malformed', `unknown item encoding ${encoding}`);
      return { type, id, encoding, data: r.rest() };
    }
    case FrameType.Stage: {
      const stage = r.u8();
      if (stage < Stage.ReconDone || stage > Stage.ItemsDone) perr('malformed', `unknown stage ${stage}`);
      return { type, stage };
    }
    case FrameType.Final: {
      const roots: Buffer[] = [];
      for (let i = r.count(ID_BYTES, MAX_SLOTS); i > 0; i--) roots.push(r.bytes(ID_BYTES));
      return { type, roots };
    }
    case FrameType.Whole:
      return { type, slot: r.varint(), count: r.varint() };
    case FrameType.Error:
      return { type, code: r.u8(), message: r.string(4096) };
    default:
      return perr('malformed', `unknown frame type ${type}`);
  }
}

/**
 * Incremental frame splitter: feed it socket chunks, it yields frame bodies.
 * The length field is checked against MAX_FRAME before any buffering, so a
 * forged 4 GB length costs the peer its session, not our memory.
 */
export class FrameDecoder {
  /** Bytes received and not yet returned: `chunks[0]` from `offset` on, then the others whole. */
  private chunks: Buffer[] = [];
  private offset = 0;
  private buffered = 0;
  private first = true;

  /** `firstFrameMax`: a smaller limit for the first frame (a server's HELLO, docs/PROTOCOL.md §6). */
  constructor(
    private readonly maxFrame = MAX_FRAME,
    private readonly firstFrameMax = maxFrame,
  ) {}

  /**
   * The frames completed by `chunk`, as views of the received bytes: a frame
   * within one chunk (nearly all of them: a TLS record holds ~16 KB) is
   * neither copied nor cut off the rest, a frame across chunks is joined.
   */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    while (this.buffered >= 4) {
      let head = this.chunks[0]!;
      if (head.length - this.offset < 4) head = this.join();
      const length = head.readUInt32BE(this.offset);
      if (length === 0) perr('malformed', 'zero-length frame');
      const limit = this.first ? this.firstFrameMax : this.maxFrame;
      if (length > limit) perr('too-large', `${this.first ? 'first frame' : 'frame'} of ${length} bytes exceeds the ${limit}-byte limit`);
      if (this.buffered < 4 + length) break;
      if (head.length - this.offset < 4 + length) head = this.join();
      out.push(head.subarray(this.offset + 4, this.offset + 4 + length));
      this.first = false;
      this.offset += 4 + length;
      this.buffered -= 4 + length;
      if (this.offset === head.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    return out;
  }

  /** Bytes of an incomplete frame held right now (for stall detection). */
  get pending(): number {
    return this.buffered;
  }

  /** Makes everything buffered one chunk (a frame, or its length, spans chunks). */
  private join(): Buffer {
    const joined = Buffer.concat([this.chunks[0]!.subarray(this.offset), ...this.chunks.slice(1)], this.buffered);
    this.chunks = [joined];
    this.offset = 0;
    return joined;
  }
}
