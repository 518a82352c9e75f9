/**
 * Builds the typed progress events of a session (sequence-numbered, rate over
 * the last second) and the batches of moved item ids that go with them.
 */
import { ITEMS_BATCH_MAX, type ItemsBatch, type Phase, type ProgressEvent, type Traffic } from '../../shared/sync.js';

const EMIT_EVERY_MS = 100;

/** What a connection counts of itself (connection.ts). */
export interface WireCounts {
  readonly bytes: { readonly reconSent: number; readonly reconReceived: number };
  readonly roundTrips: number;
}
/** Bytes of an id that name it in a diff row (frames.ts SHORT_ID). */
const ROW_ID_BYTES = 8;
const ORDER: readonly Phase[] = ['connecting', 'handshake', 'refining', 'transferring', 'done'];

export class ProgressTracker {
  private seq = 0;
  private lastEmit = 0;
  private readonly started = Date.now();
  private window: { t: number; bytes: number }[] = [];
  private itemsSeq = 0;
  private movedIn: string[] = [];
  private movedOut: string[] = [];
  phase: Phase = 'connecting';
  readonly sent: Traffic = { items: 0, bytes: 0, totalItems: 0, totalBytes: 0 };
  readonly received: Traffic = { items: 0, bytes: 0, totalItems: 0, totalBytes: 0 };
  /** Reconciliation bytes and round trips of the sessions that ended (a sync may run up to three). */
  private past = { reconSent: 0, reconReceived: 0, roundTrips: 0 };
  /** The live session's connection, read at every event. */
  private wire: WireCounts | null = null;
  error?: { code: string; message: string };

  constructor(
    readonly sessionId: string,
    private readonly listener?: (e: ProgressEvent) => void,
    private readonly itemsListener?: (batch: ItemsBatch) => void,
  ) {}

  /** Items stored here (verified, committed): they go out with the next progress event. */
  itemsReceived(ids: readonly Buffer[]): void {
    if (!this.itemsListener) return;
    for (const id of ids) {
      this.movedIn.push(id.toString('hex', 0, ROW_ID_BYTES));
      if (this.movedIn.length + this.movedOut.length >= ITEMS_BATCH_MAX) this.flushItems();
    }
  }

  /** An item written to the peer. */
  itemSent(id: Buffer): void {
    if (!this.itemsListener) return;
    this.movedOut.push(id.toString('hex', 0, ROW_ID_BYTES));
    if (this.movedIn.length + this.movedOut.length >= ITEMS_BATCH_MAX) this.flushItems();
  }

  /** Hands over the ids noted since the last batch, if any (a full batch goes at once, the rest with progress). */
  private flushItems(): void {
    if (!this.itemsListener || this.movedIn.length + this.movedOut.length === 0) return;
    const batch: ItemsBatch = { seq: ++this.itemsSeq, sessionId: this.sessionId, received: this.movedIn, sent: this.movedOut };
    this.movedIn = [];
    this.movedOut = [];
    this.itemsListener(batch);
  }

  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** Every event shows this connection's reconciliation bytes and round trips as they grow, added to the earlier sessions'. */
  follow(wire: WireCounts): void {
    this.unfollow();
    this.wire = wire;
  }

  /** The followed connection is over: its counts are kept. */
  unfollow(): void {
    if (!this.wire) return;
    this.past = this.counts();
    this.wire = null;
  }

  private counts(): { reconSent: number; reconReceived: number; roundTrips: number } {
    const w = this.wire;
    if (!w) return this.past;
    return {
      reconSent: this.past.reconSent + w.bytes.reconSent,
      reconReceived: this.past.reconReceived + w.bytes.reconReceived,
      roundTrips: this.past.roundTrips + w.roundTrips,
    };
  }

  /** While set, 'done' waits: a client about to run another session of the same sync. */
  holdDone = false;

  /**
   * Phases only move forward (connecting, handshake, refining, transferring,
   * done), also across the sessions of one sync; error and cancelled end it.
   */
  setPhase(phase: Phase): void {
    if (this.phase === phase || this.phase === 'error' || this.phase === 'cancelled') return;
    if (phase === 'done' && this.holdDone) return;
    if (ORDER.indexOf(phase) >= 0 && ORDER.indexOf(phase) < ORDER.indexOf(this.phase)) return;
    this.phase = phase;
    this.emit(true);
  }

  /** Emits at most every 100 ms unless forced (phase changes, the end). */
  emit(force = false): void {
    if (!this.listener && !this.itemsListener) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < EMIT_EVERY_MS) return;
    this.lastEmit = now;
    // Ids first: a window never shows a count that its rows have not caught up with.
    this.flushItems();
    if (!this.listener) return;
    const total = this.sent.bytes + this.received.bytes;
    this.window.push({ t: now, bytes: total });
    while (this.window.length > 1 && now - this.window[0]!.t > 1000) this.window.shift();
    const first = this.window[0]!;
    const rate = now > first.t ? ((total - first.bytes) * 1000) / (now - first.t) : 0;
    const wire = this.counts();
    this.listener({
      seq: ++this.seq,
      sessionId: this.sessionId,
      phase: this.phase,
      sent: { ...this.sent },
      received: { ...this.received },
      reconBytesSent: wire.reconSent,
      reconBytesReceived: wire.reconReceived,
      roundTrips: wire.roundTrips,
      rate: Math.round(rate),
      elapsedMs: now - this.started,
      ...(this.error ? { error: this.error } : {}),
    });
  }
}
