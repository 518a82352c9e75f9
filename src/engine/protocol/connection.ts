/**
 * One framed connection over any Duplex stream (a TCP socket today, the TLS
 * socket of the secure channel tomorrow): splits frames, counts bytes,
 * enforces the timeouts and the frame limit, and writes with backpressure.
 * It knows nothing of what the frames mean.
 */
import type { Duplex } from 'node:stream';
import type { Limits } from './budgets.js';
import { FrameDecoder, FrameType, type Message, RecordReader, decodeMessage, encodeMessage, errorMessage, isExtensionFrame, recordReader } from './frames.js';
import { ProtocolError, type ProtocolErrorCode } from './wire.js';

export { DEFAULT_LIMITS, type Limits } from './budgets.js';

/** What a server's budgets ask of a connection (protocol/budgets.ts); a client passes none. */
export interface ConnectionBudget {
  /** A smaller limit for the first frame (the HELLO). */
  firstFrameMax?: number;
  /** Told the bytes of the frame in progress after each read; throws ProtocolError to refuse them. */
  onBuffered?: (bytes: number) => void;
  /** The idle limit now (it may change with the session's phase); default limits.idleMs. */
  idleMs?: () => number;
}

/**
 * Round trips are counted on the frames that find and name the difference
 * (handshake, RECON, OFFER, WANT): a "round trip" is each time a side that
 * has sent such a frame receives one back. Stage markers and items are not
 * counted: they overlap with the transfer.
 */
const COUNTS_ROUND_TRIP: ReadonlySet<number> = new Set([FrameType.Hello, FrameType.Welcome, FrameType.Recon, FrameType.Offer, FrameType.Want]);

/**
 * While corked, frames are packed back to back into buffers of this many
 * bytes, each written as it fills: four TLS records of exactly 16 KB. Written
 * frame by frame, a burst of items ended in a short record (16 items of 1 KiB
 * were a 16,384-byte record and a 640-byte one), and the receiver decrypted
 * and handled twice as many records as the data needed. A small session's
 * items (100 certs: 19 KB) leave in one write, so the receiver reads them
 * together and stores them in one transaction instead of two.
 */
export const BURST_BYTES = 4 * 16384;

/** A connection handles what arrived for at most this long in one turn of the event loop (handleBacklog). */
const HANDLE_TURN_MS = 20;
/** OFFER and WANT records handled at once (handleBacklog). */
const RECORD_SLICE = 4096;

export interface ByteCounts {
  reconSent: number;
  reconReceived: number;
  itemSent: number;
  itemReceived: number;
}

export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly timer: NodeJS.Timeout;
  private readonly opened = Date.now();
  private lastReceive = this.opened;
  private partialSince = 0;
  private partialBytes = 0;
  private gotFirst = false;
  private drainWaiters: (() => void)[] = [];
  private stalledSince = 0;
  /** Between cork() and uncork(): frames are staged into `staging`, written a full buffer at a time. */
  private corked = false;
  private staging: Buffer | null = null;
  private staged = 0;
  closed = false;
  readonly bytes: ByteCounts = { reconSent: 0, reconReceived: 0, itemSent: 0, itemReceived: 0 };
  roundTrips = 0;
  private sentSinceReceive = false;
  /** Frames received and not yet handled (a large OFFER or WANT partly handled: its rest, decoded). */
  /** Frames received and not yet handled: raw bodies, or an OFFER or WANT part way through. */
  private backlog: (Buffer | RecordReader)[] = [];
  private backlogHead = 0;
  /** The socket is paused until the next turn of the event loop (handleBacklog). */
  private yielded = false;

  constructor(
    private readonly socket: Duplex,
    private readonly limits: Limits,
    private readonly handlers: {
      onMessage: (m: Message) => void;
      onClose: (error: ProtocolError | null, remote: boolean) => void;
    },
    private readonly budget: ConnectionBudget = {},
  ) {
    this.decoder = new FrameDecoder(limits.maxFrame, budget.firstFrameMax ?? limits.maxFrame);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.drained());
    socket.on('error', (e: Error) => this.remoteEnded(new ProtocolError('unexpected', `connection error: ${e.message}`)));
    socket.on('close', () => this.remoteEnded(null));
    socket.on('end', () => this.remoteEnded(null));
    this.timer = setInterval(() => this.checkTimers(), Math.min(1000, limits.handshakeMs / 2, limits.idleMs / 2));
    this.timer.unref();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.lastReceive = Date.now();
    try {
      const frames = this.decoder.push(chunk);
      if (frames.length > 0) this.gotFirst = true;
      for (const body of frames) this.backlog.push(body);
      this.trackPartial(frames.length > 0);
      this.budget.onBuffered?.(this.decoder.pending);
    } catch (e) {
      return this.failWith(e);
    }
    if (!this.yielded) this.handleBacklog();
  }

  private failWith(e: unknown): void {
    if (e instanceof ProtocolError) this.fail(e.code, e.message);
    else this.fail('internal', `internal error: ${(e as Error).message}`);
  }

  /**
   * Handles what arrived, in order, for at most HANDLE_TURN_MS; then the
   * socket pauses and the rest waits for the next turn of the event loop, so
   * that one peer's frames (an OFFER of 65,536 records costs most of a
   * second) never hold the others, the timers or a SIGTERM for long. An
   * OFFER or WANT is handled RECORD_SLICE records at a time: its records
   * are independent, so slices mean what the whole frame means.
   */
  private handleBacklog(untilDone = false): void {
    const started = performance.now();
    try {
      while (this.backlogHead < this.backlog.length && !this.closed) {
        if (!untilDone && performance.now() - started > HANDLE_TURN_MS) return this.yieldTurn();
        const next = this.backlog[this.backlogHead]!;
        if (Buffer.isBuffer(next) && isExtensionFrame(next[0]!)) {
          // An extension this version does not know (frames.ts): skipped, never malformed.
          this.bytes.reconReceived += next.length + 4;
          this.backlogHead++;
          continue;
        }
        const m = Buffer.isBuffer(next) ? this.decodeCounted(next) : next;
        if (m instanceof RecordReader) {
          this.backlog[this.backlogHead] = m;
          const slice = m.next(RECORD_SLICE);
          if (m.remaining === 0) this.backlogHead++;
          this.handlers.onMessage(slice);
          continue;
        }
        this.backlogHead++;
        this.handlers.onMessage(m);
      }
      this.backlog = [];
      this.backlogHead = 0;
    } catch (e) {
      this.failWith(e);
    }
  }

  /**
   * The peer closed (or the connection broke): every frame that arrived
   * before is handled first, in order, as if no turn had been yielded; a
   * peer that sent its last items and closed has sent a complete session.
   */
  private remoteEnded(error: ProtocolError | null): void {
    if (this.closed) return;
    this.handleBacklog(true);
    this.shut(error, true);
  }

  private yieldTurn(): void {
    this.yielded = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielded = false;
      if (this.closed) return;
      this.socket.resume();
      this.handleBacklog();
    });
  }

  /**
   * Decodes a frame as it is handled (an OFFER or WANT into a reader of its
   * records, handled RECORD_SLICE at a time): round trips are counted
   * against what we sent before handling it.
   */
  private decodeCounted(body: Buffer): Message | RecordReader {
    const type = body[0]!;
    if (type === FrameType.Item) this.bytes.itemReceived += body.length + 4;
    else this.bytes.reconReceived += body.length + 4;
    if (COUNTS_ROUND_TRIP.has(type)) {
      if (this.sentSinceReceive) this.roundTrips++;
      this.sentSinceReceive = false;
    }
    return recordReader(body) ?? decodeMessage(body);
  }

  /** The slow-frame clock times the frame in progress: it restarts whenever a frame completes. */
  private trackPartial(completedAFrame: boolean): void {
    const pending = this.decoder.pending;
    if (pending === 0) {
      this.partialSince = 0;
      this.partialBytes = 0;
    } else if (this.partialSince === 0 || completedAFrame) {
      this.partialSince = Date.now();
      this.partialBytes = pending;
    }
  }

  private checkTimers(): void {
    if (this.closed) return;
    const now = Date.now();
    // The first frame is timed from the start, not from the last byte: a trickle of bytes does not keep a handshake open.
    if (!this.gotFirst && now - this.opened > this.limits.handshakeMs) {
      return this.fail('timeout', `no handshake within ${this.limits.handshakeMs} ms`);
    }
    const idleMs = this.budget.idleMs?.() ?? this.limits.idleMs;
    if (now - this.lastReceive > idleMs) return this.fail('timeout', `peer silent for ${idleMs} ms`);
    if (this.partialSince) {
      const elapsed = now - this.partialSince;
      const arrived = this.decoder.pending - this.partialBytes;
      const owed = ((elapsed - this.limits.frameGraceMs) / 1000) * this.limits.minFrameRate;
      if (elapsed > this.limits.frameGraceMs && arrived < owed) {
        return this.fail('timeout', `a frame is arriving too slowly (${arrived} bytes in ${elapsed} ms)`);
      }
    }
    if (this.stalledSince && now - this.stalledSince > this.limits.writeStallMs) {
      return this.fail('timeout', `peer has not read for ${this.limits.writeStallMs} ms`);
    }
  }

  send(m: Message): void {
    if (this.closed) return;
    const frame = encodeMessage(m);
    if (m.type === FrameType.Item) this.bytes.itemSent += frame.length;
    else this.bytes.reconSent += frame.length;
    if (COUNTS_ROUND_TRIP.has(m.type)) this.sentSinceReceive = true;
    if (this.corked) this.stage(frame);
    else this.write(frame);
  }

  private write(chunk: Buffer): void {
    if (!this.socket.write(chunk) && !this.stalledSince) this.stalledSince = Date.now();
  }

  /** Packs a frame into the staging buffers (a frame may span two), writing each one that fills. */
  private stage(frame: Buffer): void {
    for (let at = 0; at < frame.length; ) {
      this.staging ??= Buffer.allocUnsafe(BURST_BYTES);
      const n = frame.copy(this.staging, this.staged, at);
      at += n;
      this.staged += n;
      if (this.staged === BURST_BYTES) {
        this.write(this.staging);
        this.staging = null;
        this.staged = 0;
      }
    }
  }

  /**
   * Holds frames back until uncork() (the sender of a run of items): they
   * leave in BURST_BYTES writes, so TLS seals them into full 16 KB records and
   * the kernel sees one system call per 64 KB, not one per 1 KiB item. What
   * is staged when the socket is congested waits with the rest; uncork()
   * writes it.
   */
  cork(): void {
    this.corked = true;
  }

  uncork(): void {
    this.corked = false;
    if (this.staged > 0 && !this.closed) this.write(this.staging!.subarray(0, this.staged));
    this.staging = null;
    this.staged = 0;
  }

  /** True while the socket's buffer is above its high-water mark. */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  waitDrain(): Promise<void> {
    if (!this.congested || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drained(): void {
    this.stalledSince = 0;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Sends an ERROR frame, then closes. */
  fail(code: ProtocolErrorCode, message: string): void {
    if (this.closed) return;
    this.uncork(); // what was staged goes first: frames leave in the order they were sent
    try {
      this.socket.write(encodeMessage(errorMessage(code, message)));
    } catch {
      // the socket may already be gone; the close below still happens
    }
    this.shut(new ProtocolError(code, message), false);
    // Nothing more is read: a peer that goes on sending (the rest of an 8 MiB frame) is held back, not decrypted for nothing.
    this.socket.pause();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Ends the connection after what was written has been flushed. */
  end(): void {
    if (this.closed) return;
    this.uncork();
    this.shut(null, false);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  destroy(): void {
    this.shut(null, false);
    this.socket.destroy();
  }

  private shut(error: ProtocolError | null, remote: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // A socket paused for the next turn (yieldTurn) must flow again, or its end and close never
    // come: a caller waiting for 'close' would wait forever, and a command line would exit
    // with nothing said once nothing else keeps the event loop alive. What still arrives is dropped.
    this.socket.resume();
    this.drained();
    this.handlers.onClose(error, remote);
  }
}
