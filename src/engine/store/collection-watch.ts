/**
 * Notices every change of a database, from any source: this process's own
 * writes, a server it runs, the command line in another process. It keeps
 * one read-only connection open and asks SQLite's `PRAGMA data_version`
 * (which changes when any other connection commits, and costs no read of
 * the file) every half second; only when that moved does it read the
 * branches' roots (one indexed row each) and tell its subscribers which
 * branches changed. A writer in this process may call `check()` at once
 * instead of waiting for the next tick.
 *
 * The one change notifier of the engine: the app's screens follow it, and
 * the automatic sync of a later issue starts from the same events.
 */
import { toHex } from '../hash.js';
import { branchHeads } from './history.js';
import { ReadStore } from './store.js';

export interface BranchState {
  name: string;
  /** Hex hash of the branch's index root: equal roots, equal collections. */
  root: string;
  items: number;
  heads: number;
}

export interface CollectionChange {
  /** Branches whose collection changed or that are new, with their roots now; empty when only items outside every branch changed (a key, say). */
  branches: BranchState[];
}

export type ChangeListener = (change: CollectionChange) => void;

/** How often another process's commits are looked for: a screen follows them within a second. */
export const WATCH_INTERVAL_MS = 500;

export class CollectionWatch {
  private version: number;
  private roots = new Map<string, string>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly timer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly store: ReadStore,
    intervalMs: number,
  ) {
    this.version = this.dataVersion();
    for (const b of this.read()) this.roots.set(b.name, b.root);
    this.timer = setInterval(() => this.check(), intervalMs);
    // Watching never keeps a process alive by itself.
    this.timer.unref?.();
  }

  static open(path: string, intervalMs = WATCH_INTERVAL_MS): CollectionWatch {
    return new CollectionWatch(ReadStore.open(path), intervalMs);
  }

  get path(): string {
    return this.store.path;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Looks now: the change since the last look, told to every subscriber
   * and returned; null when nothing was committed since. A read that fails
   * (a rebuild of the index under way in another process) is tried again
   * at the next look.
   */
  check(): CollectionChange | null {
    let change: CollectionChange;
    try {
      const version = this.dataVersion();
      if (version === this.version) return null;
      const now = this.read();
      this.version = version;
      change = { branches: now.filter((b) => this.roots.get(b.name) !== b.root) };
      this.roots = new Map(now.map((b) => [b.name, b.root]));
    } catch {
      return null;
    }
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // One subscriber's failure must not keep the others uninformed.
      }
    }
    return change;
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
    this.store.close();
  }

  private dataVersion(): number {
    return this.store.db.pragma('data_version', { simple: true }) as number;
  }

  private read(): BranchState[] {
    return this.store.branches().map((b) => ({ name: b.name, root: toHex(b.root), items: b.items, heads: branchHeads(this.store, b.name).length }));
  }
}
