/**
 * The hostile-input fuzzer of the reliability suite (docs/RELIABILITY.md
 * §Hostile input): valid client traffic recorded from real sessions, mutated
 * by seeded operators, fed to a live server through the same per-connection
 * code path the TLS listener uses (`LocalServer.serveStream`), over an
 * in-memory stream pair, so that 100,000 cases fit in a CI run. The same
 * cases can be sent through a real TLS connection (`tlsCase`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duplex } from 'node:stream';
import { connect as connectTls } from 'node:tls';
import { deflateRawSync } from 'node:zlib';
import type { KeyObject } from 'node:crypto';
import { privateKeyObject, signBytes } from '../../src/engine/keys/ed25519.js';
import {
  EntryType,
  ITEM_MAX,
  type ManifestEntry,
  Kind,
  certSignedBytes,
  encodeCert,
  encodeInlineFile,
  encodeKey,
  encodeManifest,
  itemId,
} from '../../src/engine/items/format.js';
import type { ClientOptions } from '../../src/engine/protocol/api.js';
import { runClientSession } from '../../src/engine/protocol/client.js';
import { FrameDecoder, FrameType, MAX_FRAME, type Message, PROTOCOL_VERSION, encodeMessage } from '../../src/engine/protocol/frames.js';
import { RecordType, encodeReconMessage } from '../../src/engine/recon/messages.js';
import type { LocalServer } from '../../src/engine/protocol/server.js';
import { clientTlsOptions } from '../../src/engine/security/tls.js';
import { credentialsFor } from '../../src/engine/security/certificate.js';
import type { Signer } from '../../src/engine/workspace/commit.js';
import type { SeededRandom } from '../helpers/random.js';

// ------------------------------------------------------------------ an in-memory connection

/**
 * Two connected in-memory Duplex streams, as a socket pair: what one writes
 * the other reads; ending or destroying one ends the other's reading side.
 */
export function duplexPair(): [Duplex, Duplex] {
  const ended = [false, false];
  const sides: Duplex[] = [];
  const make = (me: number): Duplex => {
    const other = 1 - me;
    const pushTo = (chunk: Buffer | null) => {
      const p = sides[other]!;
      if (ended[other] || p.destroyed) return;
      if (chunk === null) ended[other] = true;
      p.push(chunk);
    };
    return new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        pushTo(chunk);
        cb();
      },
      final(cb) {
        pushTo(null);
        cb();
      },
      destroy(err, cb) {
        pushTo(null);
        cb(err);
      },
    });
  };
  sides.push(make(0), make(1));
  return [sides[0]!, sides[1]!];
}

// ------------------------------------------------------------------ recording real traffic

export interface Corpus {
  name: string;
  /** The client's frames, each with its length prefix, in the order it wrote them. */
  frames: Buffer[];
  /** Relative share of the cases that start from this corpus. */
  weight: number;
  /**
   * A session that sends items: most of its cases get fresh items instead
   * (refresh()), so the server lacks what they send whatever earlier cases stored.
   */
  refreshable?: boolean;
}

/** Runs a real client session and records every frame the client wrote inside the channel. */
export async function recordSession(opts: ClientOptions): Promise<{ frames: Buffer[]; error: Error | null }> {
  const frames: Buffer[] = [];
  const error = await runClientSession(opts, undefined, {
    onSecureSocket: (socket) => {
      const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
      (socket as unknown as { write: typeof write }).write = (chunk: unknown, ...rest: unknown[]) => {
        if (Buffer.isBuffer(chunk)) frames.push(Buffer.from(chunk));
        return write(chunk, ...rest);
      };
    },
  }).then(
    () => null,
    (e: Error) => e,
  );
  return { frames, error };
}

// ------------------------------------------------------------------ mutations

/** What a hostile item may be; each is offered first (so it is wanted), then sent. */
export interface BadItemKit {
  /** A manifest the server holds (certs on it are checked against it). */
  manifest: Buffer;
  /** A signer whose key the server holds. */
  signer: Signer;
  /** A signer whose key the server does not hold. */
  stranger: Signer;
  /** An id of a cert the server holds (named as a file: wrong kind). */
  certId: Buffer;
}

export interface MutatedCase {
  bytes: Buffer;
  /** Sizes of the pieces the bytes are written in. */
  pieces: number[];
  ops: string[];
}

const pick = <T>(rnd: SeededRandom, xs: readonly T[]): T => xs[rnd.int(xs.length)]!;

const INTERESTING_LENGTHS = [0, 1, 2, 5, 0xff, 0xffff, MAX_FRAME, MAX_FRAME + 1, 0x7fffffff, 0xffffffff];

function offerFrame(slot: number, id: Buffer, kind: number, size: number): Buffer {
  return encodeMessage({ type: FrameType.Offer, entries: [{ slot, short: id.subarray(0, 8), kind, size }] });
}

function itemFrame(id: Buffer, data: Buffer, encoding: 0 | 1 = 0): Buffer {
  return encodeMessage({ type: FrameType.Item, id, encoding, data });
}

const keyObjects = new WeakMap<Signer, KeyObject>();
/** The signer's private key as a KeyObject, made once (signing from a raw seed rebuilds it every time). */
function keyObjectOf(s: Signer): KeyObject {
  let k = keyObjects.get(s);
  if (!k) keyObjects.set(s, (k = privateKeyObject(s.pair.seed)));
  return k;
}

const bombs = new Map<boolean, { id: Buffer; data: Buffer }>();
/** A deflated item that inflates to ITEM_MAX - 16 or ITEM_MAX + 16 bytes (made once each). */
function bomb(over: boolean): { id: Buffer; data: Buffer } {
  let b = bombs.get(over);
  if (!b) {
    const inflated = Buffer.alloc(ITEM_MAX + (over ? 16 : -16));
    inflated[0] = Kind.File; // an inline file (layout 0) of zeros
    b = { id: itemId(inflated), data: deflateRawSync(inflated, { level: 1 }) };
    bombs.set(over, b);
  }
  return b;
}

/** A pair of frames: an OFFER of a bad (or good) item in slot 0, then the ITEM itself. */
function badItem(rnd: SeededRandom, kit: BadItemKit): { frames: Buffer[]; op: string } {
  const which = rnd.int(11);
  const signed = (s: Signer, name: string, value: string) => {
    const keyId = itemId(encodeKey(s.name, s.pair.publicKey));
    const v = Buffer.from(value);
    return encodeCert(kit.manifest, keyId, name, v, signBytes(keyObjectOf(s), certSignedBytes(kit.manifest, keyId, name, v)));
  };
  let data: Buffer;
  let id: Buffer | null = null;
  let kind = Kind.File;
  let encoding: 0 | 1 = 0;
  let op: string;
  switch (which) {
    case 0: {
      op = 'item:hash-mismatch';
      data = encodeInlineFile(rnd.bytes(rnd.between(1, 200)));
      id = itemId(data);
      data = Buffer.from(data);
      data[data.length - 1]! ^= 0x01;
      break;
    }
    case 1: {
      op = 'item:bad-signature';
      const good = signed(kit.signer, 'changelog', `forged ${rnd.int(1e9)}`);
      data = Buffer.from(good);
      data[data.length - 1 - rnd.int(64)]! ^= 1 << rnd.int(8); // inside the signature
      kind = Kind.Cert;
      break;
    }
    case 2: {
      op = 'item:unknown-signer';
      data = signed(kit.stranger, 'tag', `t${rnd.int(1e9)}`);
      kind = Kind.Cert;
      break;
    }
    case 3: {
      op = 'item:manifest-missing-file';
      data = encodeManifest([{ path: 'ghost', type: EntryType.File, file: rnd.bytes(32) }]);
      kind = Kind.Manifest;
      break;
    }
    case 4: {
      op = 'item:manifest-wrong-kind';
      data = encodeManifest([{ path: 'notafile', type: EntryType.File, file: kit.certId }]);
      kind = Kind.Manifest;
      break;
    }
    case 5: {
      op = 'item:malformed';
      data = Buffer.concat([Buffer.of(rnd.between(0, 7)), rnd.bytes(rnd.between(0, 80))]);
      kind = rnd.between(1, 5);
      break;
    }
    case 6: {
      op = 'item:cert-on-missing-manifest';
      const keyId = itemId(encodeKey(kit.signer.name, kit.signer.pair.publicKey));
      const m = rnd.bytes(32);
      const v = Buffer.from('org.fuzz.push');
      data = encodeCert(m, keyId, 'branch', v, signBytes(keyObjectOf(kit.signer), certSignedBytes(m, keyId, 'branch', v)));
      kind = Kind.Cert;
      break;
    }
    case 7: {
      op = 'item:deflate-garbage';
      data = rnd.bytes(rnd.between(1, 300));
      id = rnd.bytes(32);
      encoding = 1;
      break;
    }
    case 8: {
      // Inflates to just under or just over ITEM_MAX: an inline file far too big, or more than any item.
      const over = rnd.next() < 0.5;
      op = `item:deflate-bomb-${over ? 'over' : 'under'}`;
      ({ id, data } = bomb(over));
      encoding = 1;
      break;
    }
    case 9: {
      op = 'item:good-new-file';
      data = encodeInlineFile(Buffer.concat([Buffer.from('fuzz-new '), rnd.bytes(rnd.between(1, 100))]));
      break;
    }
    default: {
      op = 'item:claimed-id-differs';
      data = encodeInlineFile(rnd.bytes(rnd.between(1, 100)));
      id = Buffer.concat([itemId(data).subarray(0, 8), rnd.bytes(24)]); // the short matches, the rest does not
      break;
    }
  }
  const claimed = id ?? itemId(data);
  const slot = rnd.next() < 0.8 ? 0 : rnd.int(4);
  return { frames: [offerFrame(slot, claimed, kind, data.length), itemFrame(claimed, data, encoding)], op };
}

/** A random frame: sometimes well-formed with hostile values, sometimes garbage of a random type. */
function randomFrame(rnd: SeededRandom): { frame: Buffer; op: string } {
  const r = rnd.int(12);
  const short = () => rnd.bytes(8);
  const bigVarint = () => pick(rnd, [0, 1, 127, 128, 4095, 4096, 65_535, 65_536, 2 ** 31, 2 ** 52]);
  let m: Message;
  switch (r) {
    case 0:
      m = { type: FrameType.Stage, stage: rnd.between(1, 3) };
      break;
    case 1:
      m = {
        type: FrameType.Offer,
        entries: Array.from({ length: rnd.between(0, 5) }, () => ({ slot: bigVarint(), short: short(), kind: rnd.int(256), size: bigVarint() })),
      };
      break;
    case 2:
      m = {
        type: FrameType.Want,
        entries: Array.from({ length: rnd.between(0, 5) }, () => ({ slot: rnd.next() < 0.5 ? rnd.int(3) : bigVarint(), short: short() })),
      };
      break;
    case 3:
      m = { type: FrameType.Final, roots: Array.from({ length: rnd.between(0, 4) }, () => rnd.bytes(32)) };
      break;
    case 4:
      m = {
        type: FrameType.Hello,
        hello: {
          minVersion: rnd.int(PROTOCOL_VERSION + 2),
          maxVersion: rnd.int(PROTOCOL_VERSION + 2),
          flags: rnd.int(256),
          nonce: rnd.bytes(16),
          patterns: ['org.fuzz.*'],
          slots: [],
        },
      };
      break;
    case 5:
      m = { type: FrameType.Welcome, welcome: { version: PROTOCOL_VERSION, flags: rnd.int(2), refused: [], extra: ['org.fuzz.x'] } };
      break;
    case 6:
      m = { type: FrameType.Error, code: rnd.int(256), message: 'x'.repeat(rnd.int(5000)) };
      break;
    case 7:
      m = { type: FrameType.Recon, payload: rnd.bytes(rnd.int(200)) };
      break;
    case 8:
      m = { type: FrameType.Item, id: rnd.bytes(32), encoding: rnd.int(2), data: rnd.bytes(rnd.int(100)) };
      break;
    case 9: {
      // A well-formed plan (docs/protocol-recon.md §8) at a random moment: out of turn, a second one, or
      // announcing nodes and sizes that no IBLT will match; sometimes with a slot that does not exist.
      const depth = rnd.int(5);
      const prefixes = [...new Set(Array.from({ length: rnd.between(1, 6) }, () => rnd.int(16 ** depth)))].sort((a, b) => a - b);
      const plan = {
        type: RecordType.Plan,
        slot: rnd.next() < 0.8 ? 0 : rnd.int(4),
        depth,
        attempt: rnd.int(2),
        prefixes,
        cells: 3 * rnd.between(1, 1365),
      } as const;
      m = { type: FrameType.ReconPlan, payload: encodeReconMessage(Array.from({ length: rnd.between(1, 3) }, () => plan)) };
      break;
    }
    default: {
      // Any type byte, any payload.
      const body = Buffer.concat([Buffer.of(rnd.int(256)), rnd.bytes(rnd.int(64))]);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      return { frame: Buffer.concat([head, body]), op: `inject:raw-type-${body[0]}` };
    }
  }
  return { frame: encodeMessage(m), op: `inject:type-${m.type}` };
}

/** A long or non-minimal varint written over a payload position (oversized count and length fields). */
function varintOverwrite(rnd: SeededRandom, frame: Buffer): Buffer {
  if (frame.length <= 6) return frame;
  const out = Buffer.from(frame);
  const at = 5 + rnd.int(frame.length - 5);
  const patterns = [
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // 2^56 - 1: beyond 2^53
    [0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32 - 1
    [0x80, 0x80, 0x04], // 65,536
    [0x81, 0x80, 0x04], // 65,537
    [0x80, 0x00], // non-minimal zero
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // nine bytes
  ];
  const p = patterns[rnd.int(patterns.length)]!;
  for (let i = 0; i < p.length && at + i < out.length; i++) out[at + i] = p[i]!;
  return out;
}

/**
 * The branch of fresh items' certs: outside every recorded session's
 * patterns, so what cases store never changes the tries (or the extra slots)
 * that the recorded reconciliation messages were computed against.
 */
export const FRESH_BRANCH = 'net.fuzz.fresh';

/**
 * New items for one case, as a client would send them: one to four inline
 * files, a manifest naming them and (half the time) a `branch` cert on it
 * (FRESH_BRANCH), signed by `signer`; an OFFER of all of them (slot 0) and
 * their ITEM frames in an order the receiver can verify.
 */
function freshItems(rnd: SeededRandom, signer: Signer): { offer: Buffer; items: Buffer[] } {
  const branch = FRESH_BRANCH;
  const files = Array.from({ length: rnd.between(1, 4) }, () => encodeInlineFile(Buffer.concat([Buffer.from('fresh '), rnd.bytes(rnd.between(8, 200))])));
  const ids = files.map((f) => itemId(f));
  const entries: ManifestEntry[] = ids.map((file, i) => ({ path: `fresh/${i}`, type: EntryType.File, file }));
  entries.push({ path: 'fresh', type: EntryType.Dir });
  const manifest = encodeManifest(entries);
  const mid = itemId(manifest);
  const all: { data: Buffer; kind: Kind }[] = [...files.map((data) => ({ data, kind: Kind.File })), { data: manifest, kind: Kind.Manifest }];
  if (rnd.next() < 0.5) {
    const keyId = itemId(encodeKey(signer.name, signer.pair.publicKey));
    const v = Buffer.from(branch);
    all.push({ data: encodeCert(mid, keyId, 'branch', v, signBytes(keyObjectOf(signer), certSignedBytes(mid, keyId, 'branch', v))), kind: Kind.Cert });
  }
  const offer = encodeMessage({
    type: FrameType.Offer,
    entries: all.map((x) => ({ slot: 0, short: itemId(x.data).subarray(0, 8), kind: x.kind, size: x.data.length })),
  });
  return { offer, items: all.map((x) => itemFrame(itemId(x.data), x.data)) };
}

/**
 * The corpus with its OFFER and ITEM frames replaced by fresh items (where
 * its first OFFER and first ITEM were): the rest of the recorded session
 * (handshake, reconciliation, stages) stays as it was.
 */
function refresh(frames: readonly Buffer[], fresh: { offer: Buffer; items: Buffer[] }): Buffer[] {
  const out: Buffer[] = [];
  let offered = false;
  let sent = false;
  for (const f of frames) {
    if (f[4] === FrameType.Offer) {
      if (!offered) out.push(fresh.offer);
      offered = true;
    } else if (f[4] === FrameType.Item) {
      if (!offered) out.push(fresh.offer);
      if (!sent) out.push(...fresh.items);
      offered = sent = true;
    } else out.push(f);
  }
  return out;
}

/**
 * A case: a corpus, mutated by 1 to 3 seeded operators, cut into pieces.
 * Deterministic in (rnd state, corpora, kit).
 */
export function mutate(rnd: SeededRandom, corpus: Corpus, others: readonly Corpus[], kit: BadItemKit): MutatedCase {
  const ops: string[] = [];
  let frames: Buffer[];
  if (corpus.refreshable && rnd.next() < 0.9) {
    frames = refresh(corpus.frames, freshItems(rnd, kit.signer));
    ops.push('fresh');
  } else frames = corpus.frames.map((f) => f);
  let rawEdits: ((b: Buffer) => Buffer)[] = [];
  const count = rnd.next() < 0.08 ? 0 : rnd.between(1, 3);
  const after = (minIndex: number) => Math.min(frames.length, minIndex + rnd.int(Math.max(1, frames.length - minIndex + 1)));
  for (let i = 0; i < count; i++) {
    const op = rnd.int(15);
    const fi = frames.length > 0 ? rnd.int(frames.length) : 0;
    switch (op) {
      case 0:
      case 1: {
        const flips = rnd.between(1, 8);
        ops.push(`flip:${flips}`);
        rawEdits.push((b) => {
          if (b.length === 0) return b;
          const out = Buffer.from(b);
          for (let k = 0; k < flips; k++) out[rnd.int(out.length)]! ^= 1 << rnd.int(8);
          return out;
        });
        break;
      }
      case 2: {
        ops.push('byte');
        rawEdits.push((b) => {
          if (b.length === 0) return b;
          const out = Buffer.from(b);
          out[rnd.int(out.length)] = pick(rnd, [0, 0xff, 0x7f, 0x80, 0x01, rnd.int(256)]);
          return out;
        });
        break;
      }
      case 3: {
        ops.push('truncate');
        rawEdits.push((b) => b.subarray(0, rnd.int(b.length + 1)));
        break;
      }
      case 4:
        if (frames.length) {
          ops.push(`dup:${fi}`);
          frames.splice(after(fi), 0, frames[fi]!);
        }
        break;
      case 5:
        if (frames.length > 1) {
          const fj = rnd.int(frames.length);
          ops.push(`swap:${fi}:${fj}`);
          [frames[fi], frames[fj]] = [frames[fj]!, frames[fi]!];
        }
        break;
      case 6:
        if (frames.length) {
          ops.push(`drop:${fi}`);
          frames.splice(fi, 1);
        }
        break;
      case 7:
        if (frames.length) {
          const f = Buffer.from(frames[fi]!);
          const orig = f.readUInt32BE(0);
          const v = rnd.next() < 0.5 ? INTERESTING_LENGTHS[rnd.int(INTERESTING_LENGTHS.length)]! : Math.max(0, orig + rnd.between(-16, 16));
          f.writeUInt32BE(v >>> 0, 0);
          ops.push(`length:${fi}:${v}`);
          frames[fi] = f;
        }
        break;
      case 8: {
        const { frame, op: o } = randomFrame(rnd);
        ops.push(o);
        frames.splice(rnd.int(frames.length + 1), 0, frame);
        break;
      }
      case 9:
        if (frames.length) {
          ops.push(`varint:${fi}`);
          frames[fi] = varintOverwrite(rnd, frames[fi]!);
        }
        break;
      case 10:
      case 11:
      case 12: {
        const { frames: bad, op: o } = badItem(rnd, kit);
        ops.push(o);
        // Early, mostly: after the HELLO and the first RECON, while the session still receives.
        const at = rnd.next() < 0.7 ? Math.min(frames.length, 2 + rnd.int(3)) : after(Math.min(2, frames.length));
        frames.splice(at, 0, ...bad);
        break;
      }
      case 13: {
        const other = others[rnd.int(others.length)]!;
        const cut = rnd.int(frames.length + 1);
        const from = rnd.int(other.frames.length + 1);
        ops.push(`splice:${other.name}:${cut}:${from}`);
        frames = [...frames.slice(0, cut), ...other.frames.slice(from)];
        break;
      }
      default: {
        // An ITEM frame whose data is damaged (stays "wanted": the id and short are intact).
        const items = frames.map((f, k) => (f[4] === FrameType.Item ? k : -1)).filter((k) => k >= 0);
        if (items.length) {
          const k = items[rnd.int(items.length)]!;
          const f = Buffer.from(frames[k]!);
          const at = 4 + 1 + 32 + 1 + rnd.int(Math.max(1, f.length - 38));
          if (at < f.length) f[at]! ^= 1 << rnd.int(8);
          frames[k] = f;
          ops.push(`item-data:${k}`);
        }
      }
    }
  }
  let bytes: Buffer = Buffer.concat(frames);
  for (const edit of rawEdits) bytes = edit(bytes);
  rawEdits = [];
  const pieces: number[] = [];
  const nPieces = rnd.next() < 0.7 ? 1 : rnd.between(2, 12);
  let left = bytes.length;
  for (let i = 0; i < nPieces - 1 && left > 1; i++) {
    const n = rnd.between(1, Math.max(1, Math.floor(left / 2)));
    pieces.push(n);
    left -= n;
  }
  pieces.push(left);
  return { bytes, pieces, ops };
}

// ------------------------------------------------------------------ running a case

export interface CaseOutcome {
  /** ERROR codes the server sent. */
  errorCodes: number[];
  errorMessages: string[];
  /** Milliseconds until the server's session ended. */
  ms: number;
  /** True when the session did not end within the bound. */
  hung: boolean;
}

/** Waits for the server's `session-end` event of a remote; the fuzz server's onEvent resolves them. */
export class SessionEnds {
  private readonly waiting = new Map<string, () => void>();
  private readonly ended = new Set<string>();

  onEvent = (e: { type: string; remote?: string }): void => {
    if (e.type !== 'session-end' || !e.remote) return;
    const w = this.waiting.get(e.remote);
    if (w) {
      this.waiting.delete(e.remote);
      w();
    } else this.ended.add(e.remote);
  };

  wait(remote: string, timeoutMs: number): Promise<boolean> {
    if (this.ended.delete(remote)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(remote);
        resolve(false);
      }, timeoutMs);
      this.waiting.set(remote, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** Reads every frame the server sends back and keeps its ERROR frames. */
function errorCollector(stream: Duplex): { codes: number[]; messages: string[] } {
  const decoder = new FrameDecoder(MAX_FRAME);
  const out = { codes: [] as number[], messages: [] as string[] };
  let broken = false;
  stream.on('data', (chunk: Buffer) => {
    if (broken) return;
    try {
      for (const body of decoder.push(chunk)) {
        if (body[0] === FrameType.Error && body.length >= 2) {
          out.codes.push(body[1]!);
          out.messages.push(body.subarray(3).toString('utf8'));
        }
      }
    } catch {
      broken = true; // the server never sends a bad frame; the caller notices a missing ERROR if it matters
    }
  });
  stream.on('error', () => undefined);
  return out;
}

/** One case through `serveStream` over an in-memory stream; the client side ends after writing. */
export async function streamCase(
  server: LocalServer,
  ends: SessionEnds,
  c: MutatedCase,
  remote: string,
  clientKey: Buffer | null,
  boundMs: number,
): Promise<CaseOutcome> {
  const [ours, theirs] = duplexPair();
  const errors = errorCollector(ours);
  const started = Date.now();
  const ended = ends.wait(remote, boundMs);
  server.serveStream(theirs, remote, clientKey);
  let at = 0;
  for (const n of c.pieces) {
    if (ours.destroyed) break;
    ours.write(c.bytes.subarray(at, at + n));
    at += n;
    if (c.pieces.length > 1) await new Promise((r) => setImmediate(r));
  }
  // Two turns of the event loop before closing: the bytes reach the server's stream on the next
  // tick, received items are stored (and refused) on the turn after, and the server's answer to
  // them must reach us while the session is still open.
  for (let turn = 0; turn < 2 && !ours.readableEnded; turn++) await new Promise((r) => setImmediate(r));
  ours.end();
  const ok = await ended;
  ours.destroy();
  return { errorCodes: errors.codes, errorMessages: errors.messages, ms: Date.now() - started, hung: !ok };
}

/**
 * One case through a real TLS 1.3 connection to the server's port (as the
 * given key, or anonymous), then the write side is closed; resolves when the
 * server closes the connection.
 */
export async function tlsCase(port: number, c: MutatedCase, key: Signer | null, boundMs: number): Promise<CaseOutcome> {
  const credentials = key ? await credentialsFor(key.pair) : null;
  const started = Date.now();
  const socket = connectTls({ host: '127.0.0.1', port, ...clientTlsOptions(credentials) });
  const errors = errorCollector(socket as unknown as Duplex);
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), boundMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.on('error', () => undefined);
  socket.once('secureConnect', () => {
    let at = 0;
    for (const n of c.pieces) {
      socket.write(c.bytes.subarray(at, at + n));
      at += n;
    }
    socket.end();
  });
  const ok = await closed;
  socket.destroy();
  return { errorCodes: errors.codes, errorMessages: errors.messages, ms: Date.now() - started, hung: !ok };
}

// ------------------------------------------------------------------ findings

export interface Finding {
  seed: number;
  caseIndex: number;
  corpus: string;
  ops: string[];
  clientKey: 'owner' | 'other' | 'anonymous';
  what: string;
  pieces: number[];
  bytesHex: string;
  /** ERROR codes the server must answer with (hand-made samples say what they expect). */
  expectCodes?: number[];
}

export const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Writes a finding as a regression fixture (test/reliability/fixtures/); returns its path. */
export function saveFinding(f: Finding): string {
  const dir = process.env.NETSYNC_FUZZ_FIXTURES ?? FIXTURE_DIR;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `found-${f.seed}-${f.caseIndex}.json`);
  writeFileSync(path, `${JSON.stringify(f, null, 1)}\n`);
  return path;
}
