/** Builds the typed progress events of a session (sequence-numbered, rate over the last second). */
import type { Phase, ProgressEvent, Traffic } from '../../shared/sync.js';

const EMIT_EVERY_MS = 100;
const ORDER: readonly Phase[] = ['connecting', 'handshake', 'refining', 'transferring', 'done'];

export class ProgressTracker {
  private seq = 0;
  private lastEmit = 0;
  private readonly started = Date.now();
  private window: { t: number; bytes: number }[] = [];
  phase: Phase = 'connecting';
  readonly sent: Traffic = { items: 0, bytes: 0, totalItems: 0, totalBytes: 0 };
  readonly received: Traffic = { items: 0, bytes: 0, totalItems: 0, totalBytes: 0 };
  reconBytesSent = 0;
  reconBytesReceived = 0;
  roundTrips = 0;
  error?: { code: string; message: string };

  constructor(
    readonly sessionId: string,
    private readonly listener?: (e: ProgressEvent) => void,
  ) {}

  get elapsedMs(): number {
    return Date.now() - this.started;
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
    if (!this.listener) return;
    const now = Date.now();
    if (!force && now - this.lastEmit < EMIT_EVERY_MS) return;
    this.lastEmit = now;
    const total = this.sent.bytes + this.received.bytes;
    this.window.push({ t: now, bytes: total });
    while (this.window.length > 1 && now - this.window[0]!.t > 1000) this.window.shift();
    const first = this.window[0]!;
    const rate = now > first.t ? ((total - first.bytes) * 1000) / (now - first.t) : 0;
    this.listener({
      seq: ++this.seq,
      sessionId: this.sessionId,
      phase: this.phase,
      sent: { ...this.sent },
      received: { ...this.received },
      reconBytesSent: this.reconBytesSent,
      reconBytesReceived: this.reconBytesReceived,
      roundTrips: this.roundTrips,
      rate: Math.round(rate),
      elapsedMs: now - this.started,
      ...(this.error ? { error: this.error } : {}),
    });
  }
}
