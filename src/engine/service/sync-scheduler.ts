/**
 * Keeps peers in sync by itself: each peer kept in sync gets a session on
 * an interval, soon after the local collection changed, and at once when
 * asked; while its sessions fail (the peer unreachable, say) the next try
 * waits twice as long each time, up to a cap. One session per peer at a
 * time: a trigger that comes while one runs is remembered and served when
 * it ends. Pausing stops new sessions (one running ends on its own);
 * resuming syncs every peer at once, since anything may have changed.
 *
 * Transport-free: what a session is, is the caller's `run` (the app's
 * service runs its sessions; `netsync watch` runs the engine's client), and
 * time is read through `Timers`, so tests drive it with a fake clock. An
 * up-to-date check costs one round trip (docs/PROTOCOL.md), which is why
 * checking on every change and every minute is cheap enough to be the rule.
 */

/** How a session ended, as far as scheduling cares. */
export type AttemptOutcome =
  | { ok: true }
  /** Another session with that peer is running (a click in the window): try again after it, not as a failure. */
  | { ok: false; busy: true }
  | { ok: false; error: { code: string; message: string } };

export type PeerScheduleState = 'waiting' | 'syncing' | 'backing-off' | 'paused';

/** One kept peer, as a window or a log line shows it. */
export interface PeerSchedule {
  peerId: string;
  state: PeerScheduleState;
  /** When the next session starts (ms since the epoch); null while one runs or while paused. */
  nextAt: number | null;
  /** Failed sessions in a row (0 after a success). */
  failures: number;
  /** Why the last session failed, while it is the latest outcome. */
  lastError?: { code: string; message: string };
  /** When a session last succeeded (ms since the epoch). */
  lastOkAt?: number;
}

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A schedule never keeps a process alive by itself: `netsync watch` waits on its signals.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Between checks when nothing happens (issue #20: "on an interval (default 60 s)"). */
export const DEFAULT_INTERVAL_MS = 60_000;
/** The first retry after a failure; each further failure doubles it. */
export const BACKOFF_FIRST_MS = 2_000;
/** The longest wait between tries of an unreachable peer: a server back after an outage is found within this. */
export const BACKOFF_MAX_MS = 5 * 60_000;
/**
 * From a local change to the session: a commit writes in several
 * transactions, and a burst of changes (a sync from another peer, a
 * commit of many files) becomes one session.
 */
export const CHANGE_DELAY_MS = 500;

export interface SchedulerOptions {
  run: (peerId: string) => Promise<AttemptOutcome>;
  /** The interval of a peer (a peer may have its own); DEFAULT_INTERVAL_MS when absent. */
  intervalMs?: (peerId: string) => number;
  backoffFirstMs?: number;
  backoffMaxMs?: number;
  changeDelayMs?: number;
  timers?: Timers;
  /** Told whenever a peer's schedule changed (a window follows it). */
  onChange?: (peers: PeerSchedule[]) => void;
}

interface Entry {
  schedule: PeerSchedule;
  timer: unknown;
  /** The session running now, if any. */
  running: Promise<void> | null;
  /** A trigger came while the session ran: sync again once it ends. */
  again: boolean;
}

/** The wait before the next try after `failures` failures in a row: doubling from `first`, never above `max`. */
export function backoffDelay(failures: number, first: number, max: number): number {
  if (failures <= 0) return 0;
  // 2^30 already passes any cap: no overflow to Infinity however long a peer stays down.
  return Math.min(max, first * 2 ** Math.min(failures - 1, 30));
}

export class SyncScheduler {
  private readonly peers = new Map<string, Entry>();
  private paused = false;
  private closed = false;
  private readonly timers: Timers;
  private readonly first: number;
  private readonly max: number;
  private readonly changeDelay: number;

  constructor(private readonly o: SchedulerOptions) {
    this.timers = o.timers ?? REAL_TIMERS;
    this.first = o.backoffFirstMs ?? BACKOFF_FIRST_MS;
    this.max = o.backoffMaxMs ?? BACKOFF_MAX_MS;
    this.changeDelay = o.changeDelayMs ?? CHANGE_DELAY_MS;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The peers kept in sync, with their next session and their last outcome. */
  list(): PeerSchedule[] {
    return [...this.peers.values()].map((e) => ({ ...e.schedule }));
  }

  /**
   * Makes exactly these peers the kept ones: a new one is synced at once, a
   * dropped one gets no further session (one running ends on its own).
   */
  keepOnly(peerIds: readonly string[]): void {
    const wanted = new Set(peerIds);
    for (const id of [...this.peers.keys()]) if (!wanted.has(id)) this.drop(id);
    for (const id of wanted) this.keep(id);
  }

  keep(peerId: string): void {
    if (this.closed || this.peers.has(peerId)) return;
    this.peers.set(peerId, { schedule: { peerId, state: 'waiting', nextAt: null, failures: 0 }, timer: null, running: null, again: false });
    this.scheduleIn(peerId, 0);
  }

  drop(peerId: string): void {
    const e = this.peers.get(peerId);
    if (!e) return;
    this.timers.clearTimeout(e.timer);
    this.peers.delete(peerId);
    this.changed();
  }

  /**
   * The local collection changed in a way that concerns these peers (all
   * kept ones when none are named): sync them soon. A peer backing off is
   * left to its backoff: the change reaches it at its next try.
   */
  localChanged(peerIds?: readonly string[]): void {
    for (const id of peerIds ?? [...this.peers.keys()]) {
      const e = this.peers.get(id);
      if (!e || e.schedule.failures > 0) continue;
      if (e.running) e.again = true;
      else this.scheduleIn(id, this.changeDelay, { sooner: true });
    }
  }

  /** Syncs now, backoff or not (the user asked): these peers, or every kept one. */
  syncNow(peerIds?: readonly string[]): void {
    for (const id of peerIds ?? [...this.peers.keys()]) {
      const e = this.peers.get(id);
      if (!e) continue;
      if (e.running) e.again = true;
      else this.scheduleIn(id, 0);
    }
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const e of this.peers.values()) {
      this.timers.clearTimeout(e.timer);
      e.timer = null;
      e.again = false;
      e.schedule.nextAt = null;
      if (!e.running) e.schedule.state = 'paused';
    }
    this.changed();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const [id, e] of this.peers) if (!e.running) this.scheduleIn(id, 0);
    this.changed();
  }

  /** No further session; resolves when the running ones have ended. */
  async close(): Promise<void> {
    this.closed = true;
    const running: Promise<void>[] = [];
    for (const e of this.peers.values()) {
      this.timers.clearTimeout(e.timer);
      if (e.running) running.push(e.running);
    }
    this.peers.clear();
    await Promise.all(running);
  }

  /**
   * The next session of `peerId` in `ms`. With `sooner`, an earlier one
   * already planned stands (a change does not postpone a due check).
   */
  private scheduleIn(peerId: string, ms: number, { sooner = false } = {}): void {
    const e = this.peers.get(peerId);
    if (!e || this.closed) return;
    if (this.paused) {
      e.schedule.state = 'paused';
      e.schedule.nextAt = null;
      this.changed();
      return;
    }
    const at = this.timers.now() + ms;
    if (sooner && e.schedule.nextAt !== null && e.schedule.nextAt <= at) return;
    this.timers.clearTimeout(e.timer);
    e.schedule.nextAt = at;
    e.schedule.state = e.schedule.failures > 0 ? 'backing-off' : 'waiting';
    e.timer = this.timers.setTimeout(() => this.fire(peerId), ms);
    this.changed();
  }

  private fire(peerId: string): void {
    const e = this.peers.get(peerId);
    if (!e || this.paused || this.closed) return;
    e.timer = null;
    if (e.running) {
      e.again = true;
      return;
    }
    e.again = false;
    e.schedule.state = 'syncing';
    e.schedule.nextAt = null;
    this.changed();
    e.running = this.attempt(peerId);
  }

  private async attempt(peerId: string): Promise<void> {
    let outcome: AttemptOutcome;
    try {
      outcome = await this.o.run(peerId);
    } catch (err) {
      outcome = { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } };
    }
    const e = this.peers.get(peerId);
    // Dropped or closed meanwhile: nothing more for it.
    if (!e || this.closed) return;
    e.running = null;
    const s = e.schedule;
    if (outcome.ok) {
      s.failures = 0;
      delete s.lastError;
      s.lastOkAt = this.timers.now();
      this.scheduleIn(peerId, e.again ? this.changeDelay : this.intervalOf(peerId));
    } else if ('busy' in outcome) {
      // Someone else's session with that peer: it does the work; look again shortly after.
      this.scheduleIn(peerId, e.again ? this.changeDelay : this.first);
    } else {
      s.failures++;
      s.lastError = outcome.error;
      this.scheduleIn(peerId, backoffDelay(s.failures, this.first, this.max));
    }
    e.again = false;
  }

  private intervalOf(peerId: string): number {
    return this.o.intervalMs?.(peerId) ?? DEFAULT_INTERVAL_MS;
  }

  private changed(): void {
    this.o.onChange?.(this.list());
  }
}
