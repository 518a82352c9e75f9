/**
 * Binary encoding of reconciliation messages (docs/protocol-recon.md).
 *
 * A message is: version byte, varint record count, records. Every length and
 * count a peer sends is checked against the bytes actually left (and against a
 * fixed limit) before anything is allocated, and trailing bytes are refused, so
 * a hostile peer can make the decoder throw a ReconError and nothing else.
 * Varints are unsigned LEB128 (7 bits per byte, least significant group first).
 */
import { type Raise, Reader, Writer } from '../codec.js';
import { MAX_DEPTH, prefixOf } from '../index/trie-rules.js';

export class ReconError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconError';
  }
}

/** 2: IBLTs hash each key into 4 cells (version 1 used 3). */
export const RECON_VERSION = 2;
/** Cells each key lands in: an IBLT's cell count is a multiple of this (docs/protocol-recon.md §6). */
export const IBLT_K = 4;
export const MAX_RECORDS = 65536;
/**
 * Slots (branches) a session may hold: the protocol's documented limit
 * (docs/PROTOCOL.md §6, "slots per session"). HELLO, WELCOME and FINAL
 * frames and the slot number of every reconciliation record are held to it.
 */
export const MAX_SLOTS = 4096;
export const MAX_IBLT_CELLS = 4096;
export const MAX_SHORTS = 65536;
export const MAX_SPAN = 2;
export const ROOT_FP_BYTES = 16;
export const MIN_FP_BYTES = 3;
export const MAX_FP_BYTES = 8;
export const SHORT_BYTES = 8;
/** Highest IBLT attempt number (0 = first try, 1 = the doubled retry). */
export const MAX_ATTEMPT = 1;

export enum RecordType {
  Root = 1,
  Fps = 2,
  Iblt = 3,
  Shorts = 4,
  Empty = 5,
  Plan = 6,
}

/** The cells of an IBLT, as stored by Iblt and carried on the wire. */
export interface IbltData {
  counts: Int32Array;
  /** Key XOR, as big-endian 32-bit halves: [hi0, lo0, hi1, lo1, ...]. */
  keys: Uint32Array;
  checks: Uint32Array;
}

export interface RootRecord {
  type: RecordType.Root;
  slot: number;
  count: number;
  fp: Buffer;
}
export interface FpsRecord {
  type: RecordType.Fps;
  slot: number;
  depth: number;
  prefix: number;
  span: number;
  fpBytes: number;
  /** Presence bitmap of the 16^span nodes, MSB first (bit 0 of byte 0 = node 0). */
  present: Buffer;
  /** fpBytes per present node, in node order. */
  fps: Buffer;
}
export interface IbltRecord {
  type: RecordType.Iblt;
  slot: number;
  depth: number;
  attempt: number;
  prefixes: number[];
  cells: IbltData;
}
export interface ShortsRecord {
  type: RecordType.Shorts;
  slot: number;
  depth: number;
  prefix: number;
  /** SHORT_BYTES per id, strictly ascending. */
  shorts: Buffer;
}
export interface EmptyRecord {
  type: RecordType.Empty;
  slot: number;
  depth: number;
  prefix: number;
  /** 0: the node itself is empty; else `marked` names empty nodes span levels down. */
  span: number;
  marked: Buffer | null;
}
/**
 * Announces an IBLT record of the message the sender is about to send (same
 * slot, depth, attempt, nodes and cell count), so that the receiver can build
 * its own table while the sender builds this one. Only in plan messages.
 */
export interface PlanRecord {
  type: RecordType.Plan;
  slot: number;
  depth: number;
  attempt: number;
  prefixes: number[];
  cells: number;
}
export type ReconRecord = RootRecord | FpsRecord | IbltRecord | ShortsRecord | EmptyRecord | PlanRecord;

/** Records that oblige the receiver to send a reply message. */
export function isRequest(r: ReconRecord): boolean {
  return r.type === RecordType.Root || r.type === RecordType.Fps || r.type === RecordType.Iblt;
}

export function bitmapBytes(span: number): number {
  return span === 0 ? 0 : 16 ** span / 8;
}

export function bitAt(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[i >> 3]! >> (7 - (i & 7))) & 1) === 1;
}

export function setBit(bitmap: Uint8Array, i: number): void {
  bitmap[i >> 3]! |= 1 << (7 - (i & 7));
}

export function popcount(bitmap: Uint8Array): number {
  let n = 0;
  for (const b of bitmap) {
    let x = b;
    while (x) {
      x &= x - 1;
      n++;
    }
  }
  return n;
}

// ---------------------------------------------------------------- primitives

/** Whatever is wrong with a message, the peer sent a bad one: a ReconError naming where. */
const badMessage: Raise = (_problem, message) => {
  throw new ReconError(message);
};

/** A bounded reader (codec.ts) that throws ReconError. */
export function reconReader(buf: Buffer, what = 'recon message'): Reader {
  return new Reader(buf, what, badMessage);
}

// ---------------------------------------------------------------- IBLT cells

/** Cell format: zigzag varint count, 8-byte key XOR, 4-byte check XOR. */
export function writeIbltCells(w: Writer, cells: IbltData): void {
  const n = cells.counts.length;
  w.varint(n);
  for (let i = 0; i < n; i++) {
    w.zigzag(cells.counts[i]!);
    w.u32(cells.keys[2 * i]!);
    w.u32(cells.keys[2 * i + 1]!);
    w.u32(cells.checks[i]!);
  }
}

export function readIbltCells(r: Reader): IbltData {
  const n = r.varint(MAX_IBLT_CELLS, 'iblt cell count');
  if (n === 0 || n % IBLT_K !== 0) throw new ReconError(`iblt cell count ${n} is not a positive multiple of ${IBLT_K}`);
  r.need(n * 13, 'iblt cells');
  const cells: IbltData = { counts: new Int32Array(n), keys: new Uint32Array(2 * n), checks: new Uint32Array(n) };
  for (let i = 0; i < n; i++) {
    cells.counts[i] = r.zigzag(0x7fffffff, 'iblt count');
    cells.keys[2 * i] = r.u32('iblt key');
    cells.keys[2 * i + 1] = r.u32('iblt key');
    cells.checks[i] = r.u32('iblt check');
  }
  return cells;
}

// ---------------------------------------------------------------- records

function readNode(r: Reader, what: string): { depth: number; prefix: number } {
  const depth = r.u8(`${what} depth`);
  if (depth > MAX_DEPTH) throw new ReconError(`${what}: depth ${depth} > ${MAX_DEPTH}`);
  const prefix = r.varint(16 ** depth - 1, `${what} prefix`);
  return { depth, prefix };
}

function writeNode(w: Writer, depth: number, prefix: number): void {
  w.u8(depth);
  w.varint(prefix);
}

function readRoot(r: Reader, slot: number): RootRecord {
  const count = r.varint(undefined, 'root count');
  return { type: RecordType.Root, slot, count, fp: r.copy(ROOT_FP_BYTES, 'root fingerprint') };
}

function readFps(r: Reader, slot: number): FpsRecord {
  const { depth, prefix } = readNode(r, 'fps');
  const shape = r.u8('fps shape');
  const span = shape & 0x0f;
  const fpBytes = shape >> 4;
  if (span < 1 || span > MAX_SPAN || depth + span > MAX_DEPTH) throw new ReconError(`fps: bad span ${span} at depth ${depth}`);
  if (fpBytes < MIN_FP_BYTES || fpBytes > MAX_FP_BYTES) throw new ReconError(`fps: bad width ${fpBytes}`);
  const present = r.copy(bitmapBytes(span), 'fps bitmap');
  const fps = r.copy(popcount(present) * fpBytes, 'fps fingerprints');
  return { type: RecordType.Fps, slot, depth, prefix, span, fpBytes, present, fps };
}

/** An IBLT's or a plan's `u8 depth , u8 attempt , varint n , n * varint gap`. */
function readIbltNodes(r: Reader, what: string): { depth: number; attempt: number; prefixes: number[] } {
  const depth = r.u8(`${what} depth`);
  if (depth > MAX_DEPTH) throw new ReconError(`${what}: depth ${depth} > ${MAX_DEPTH}`);
  const attempt = r.u8(`${what} attempt`);
  if (attempt > MAX_ATTEMPT) throw new ReconError(`${what}: bad attempt ${attempt}`);
  const limit = 16 ** depth - 1;
  const n = r.varint(Math.min(MAX_RECORDS, limit + 1), `${what} node count`);
  if (n === 0) throw new ReconError(`${what}: no nodes`);
  r.need(n, `${what} nodes`);
  const prefixes: number[] = [];
  let p = -1;
  for (let i = 0; i < n; i++) {
    p += r.varint(limit, `${what} node`) + 1; // first is the prefix + 1 - 1; then gaps
    if (p > limit) throw new ReconError(`${what}: node prefix ${p} out of range`);
    prefixes.push(p);
  }
  return { depth, attempt, prefixes };
}

function writeIbltNodes(w: Writer, depth: number, attempt: number, prefixes: readonly number[]): void {
  w.u8(depth);
  w.u8(attempt);
  w.varint(prefixes.length);
  let prev = -1;
  for (const p of prefixes) {
    w.varint(p - prev - 1);
    prev = p;
  }
}

function readIblt(r: Reader, slot: number): IbltRecord {
  return { type: RecordType.Iblt, slot, ...readIbltNodes(r, 'iblt'), cells: readIbltCells(r) };
}

function readPlan(r: Reader, slot: number): PlanRecord {
  const nodes = readIbltNodes(r, 'plan');
  const cells = r.varint(MAX_IBLT_CELLS, 'plan cell count');
  if (cells === 0 || cells % IBLT_K !== 0) throw new ReconError(`plan: cell count ${cells} is not a positive multiple of ${IBLT_K}`);
  return { type: RecordType.Plan, slot, ...nodes, cells };
}

function readShorts(r: Reader, slot: number): ShortsRecord {
  const { depth, prefix } = readNode(r, 'shorts');
  const n = r.varint(MAX_SHORTS, 'shorts count');
  const shorts = r.copy(n * SHORT_BYTES, 'shorts');
  for (let i = 0; i < n; i++) {
    const s = shorts.subarray(i * SHORT_BYTES, (i + 1) * SHORT_BYTES);
    if (prefixOf(s, depth) !== prefix) throw new ReconError('shorts: id outside its node');
    if (i > 0 && Buffer.compare(shorts.subarray((i - 1) * SHORT_BYTES, i * SHORT_BYTES), s) >= 0) {
      throw new ReconError('shorts: not strictly ascending');
    }
  }
  return { type: RecordType.Shorts, slot, depth, prefix, shorts };
}

function readEmpty(r: Reader, slot: number): EmptyRecord {
  const { depth, prefix } = readNode(r, 'empty');
  const span = r.u8('empty span');
  if (span > MAX_SPAN || depth + span > MAX_DEPTH) throw new ReconError(`empty: bad span ${span} at depth ${depth}`);
  const marked = span === 0 ? null : r.copy(bitmapBytes(span), 'empty bitmap');
  return { type: RecordType.Empty, slot, depth, prefix, span, marked };
}

export function decodeReconMessage(msg: Buffer): ReconRecord[] {
  const r = reconReader(msg);
  const version = r.u8('version');
  if (version !== RECON_VERSION) throw new ReconError(`unknown recon message version ${version}`);
  const n = r.varint(MAX_RECORDS, 'record count');
  r.need(n, 'records'); // every record is at least one byte
  const out: ReconRecord[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.u8('record type');
    const slot = r.varint(MAX_SLOTS - 1, 'slot');
    switch (type) {
      case RecordType.Root:
        out.push(readRoot(r, slot));
        break;
      case RecordType.Fps:
        out.push(readFps(r, slot));
        break;
      case RecordType.Iblt:
        out.push(readIblt(r, slot));
        break;
      case RecordType.Shorts:
        out.push(readShorts(r, slot));
        break;
      case RecordType.Empty:
        out.push(readEmpty(r, slot));
        break;
      case RecordType.Plan:
        out.push(readPlan(r, slot));
        break;
      default:
        throw new ReconError(`unknown record type ${type}`);
    }
  }
  r.end();
  return out;
}

function writeRecord(w: Writer, rec: ReconRecord): void {
  w.u8(rec.type);
  w.varint(rec.slot);
  switch (rec.type) {
    case RecordType.Root:
      w.varint(rec.count);
      w.bytes(rec.fp);
      return;
    case RecordType.Fps:
      writeNode(w, rec.depth, rec.prefix);
      w.u8((rec.fpBytes << 4) | rec.span);
      w.bytes(rec.present);
      w.bytes(rec.fps);
      return;
    case RecordType.Iblt:
      writeIbltNodes(w, rec.depth, rec.attempt, rec.prefixes);
      writeIbltCells(w, rec.cells);
      return;
    case RecordType.Plan:
      writeIbltNodes(w, rec.depth, rec.attempt, rec.prefixes);
      w.varint(rec.cells);
      return;
    case RecordType.Shorts:
      writeNode(w, rec.depth, rec.prefix);
      w.varint(rec.shorts.length / SHORT_BYTES);
      w.bytes(rec.shorts);
      return;
    case RecordType.Empty:
      writeNode(w, rec.depth, rec.prefix);
      w.u8(rec.span);
      if (rec.marked) w.bytes(rec.marked);
      return;
  }
}

export function encodeReconMessage(records: readonly ReconRecord[]): Buffer {
  if (records.length > MAX_RECORDS) throw new ReconError(`too many records: ${records.length}`);
  const w = new Writer();
  w.u8(RECON_VERSION);
  w.varint(records.length);
  for (const rec of records) writeRecord(w, rec);
  return w.done();
}
