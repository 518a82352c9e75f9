/**
 * The app's automatic sync: the peers marked "keep in sync" in the peer
 * book, each synced by the scheduler (sync-scheduler.ts) through the same
 * sessions a click runs, so a window sees them as any other session. A
 * change of the local collection syncs the kept peers whose patterns select
 * a changed branch.
 */
import type { ApiError, AutoSyncPeer, AutoSyncStatus, NetsyncEvent, Peer, Result } from '../../shared/api.js';
import type { SessionSummary } from '../../shared/sync.js';
import { branchFilter } from '../security/patterns.js';
import type { PeerBook } from './peer-book.js';
import { clientPatterns } from './sessions.js';
import { type AttemptOutcome, DEFAULT_INTERVAL_MS, type PeerSchedule, type SchedulerOptions, SyncScheduler } from './sync-scheduler.js';

/** The scheduler's timing; tests shorten it. */
export type AutoSyncTiming = Pick<SchedulerOptions, 'backoffFirstMs' | 'backoffMaxMs' | 'changeDelayMs' | 'timers'> & {
  /** The interval of a peer that sets none (DEFAULT_INTERVAL_MS). */
  intervalMs?: number;
};

export interface KeepInSyncOptions {
  peers: PeerBook;
  /** A session in the peer's direction, as `sync(peerId)` runs it; `auto` for the scheduler's own. */
  sync: (peerId: string, auto: boolean) => Promise<Result<SessionSummary>>;
  emit: (event: NetsyncEvent) => void;
  timing?: AutoSyncTiming;
}

export class KeepInSync {
  private readonly scheduler: SyncScheduler;

  constructor(private readonly o: KeepInSyncOptions) {
    this.scheduler = new SyncScheduler({
      ...o.timing,
      run: (peerId) => this.attempt(peerId),
      intervalMs: (peerId) => this.intervalOf(peerId),
      onChange: () => o.emit({ type: 'auto-sync', status: this.status() }),
    });
  }

  /** Follows the peer book: the peers kept in sync are exactly those marked so, while a database is open. */
  refresh(databaseOpen: boolean): void {
    this.scheduler.keepOnly(
      databaseOpen
        ? this.o.peers
            .list()
            .filter((p) => p.keepInSync)
            .map((p) => p.id)
        : [],
    );
  }

  /** The local collection changed in these branches: the kept peers that exchange any of them sync soon. */
  collectionChanged(branches: readonly string[]): void {
    if (branches.length === 0) return;
    const kept = new Set(this.scheduler.list().map((s) => s.peerId));
    const concerned = this.o.peers
      .list()
      .filter((p) => kept.has(p.id) && exchangesAny(p, branches))
      .map((p) => p.id);
    this.scheduler.localChanged(concerned);
  }

  status(): AutoSyncStatus {
    return { paused: this.scheduler.isPaused, peers: this.scheduler.list().map(apiSchedule) };
  }

  setPaused(paused: boolean): AutoSyncStatus {
    if (paused) this.scheduler.pause();
    else this.scheduler.resume();
    return this.status();
  }

  /** Every peer now: the kept ones through their schedule (so one session each, and their backoff restarts from here), the others once. */
  syncAllNow(): AutoSyncStatus {
    const kept = new Set(this.scheduler.list().map((s) => s.peerId));
    this.scheduler.syncNow();
    for (const peer of this.o.peers.list()) {
      // Its outcome reaches the window as events; a peer already busy simply says so there.
      if (!kept.has(peer.id)) void this.o.sync(peer.id, false);
    }
    return this.status();
  }

  close(): Promise<void> {
    return this.scheduler.close();
  }

  private async attempt(peerId: string): Promise<AttemptOutcome> {
    const r = await this.o.sync(peerId, true);
    if (r.ok) return { ok: true };
    if (r.error.code === 'busy') return { ok: false, busy: true };
    return { ok: false, error: r.error };
  }

  private intervalOf(peerId: string): number {
    const peer = this.o.peers.list().find((p) => p.id === peerId);
    if (peer?.intervalSeconds) return peer.intervalSeconds * 1000;
    return this.o.timing?.intervalMs ?? DEFAULT_INTERVAL_MS;
  }
}

function exchangesAny(peer: Peer, branches: readonly string[]): boolean {
  try {
    const filter = branchFilter(clientPatterns(peer));
    return branches.some((b) => filter.matches(b));
  } catch {
    // A pattern the engine refuses: its session will say so; a change is no reason to stay silent about it.
    return true;
  }
}

function apiSchedule(s: PeerSchedule): AutoSyncPeer {
  return {
    peerId: s.peerId,
    state: s.state,
    nextAt: s.nextAt === null ? null : new Date(s.nextAt).toISOString(),
    failures: s.failures,
    // The scheduler keeps the error the session returned: an ApiError.
    ...(s.lastError ? { lastError: s.lastError as ApiError } : {}),
    ...(s.lastOkAt === undefined ? {} : { lastOkAt: new Date(s.lastOkAt).toISOString() }),
  };
}
