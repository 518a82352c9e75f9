/**
 * The command line's automatic sync, shared by `netsync watch` (one server)
 * and `netsync serve --mirror` (each mirror): the app's scheduler
 * (service/sync-scheduler.ts) running the engine's client, with the change
 * notifier (store/collection-watch.ts) telling it when the local database
 * changed in a branch it keeps. A session moves both ways; while a peer
 * cannot be reached each try waits twice as long (from 2 s up to 5 min).
 */
import type { SessionSummary } from '../../shared/sync.js';
import { NetsyncError } from '../errors.js';
import type { Identity } from '../protocol/api.js';
import { runClientSession } from '../protocol/client.js';
import { branchFilter } from '../security/patterns.js';
import { printable } from '../security/printable.js';
import { BACKOFF_FIRST_MS, BACKOFF_MAX_MS, SyncScheduler, backoffDelay } from '../service/sync-scheduler.js';
import { CollectionWatch } from '../store/collection-watch.js';
import { describeSystemError } from '../system-errors.js';
import { exitClassOf } from './exit-codes.js';
import { formatBytes } from './format.js';
import type { Context } from './local-commands.js';
import { reindexNote } from './output.js';

export interface KeptPeer {
  host: string;
  port: number;
  /** Branch globs (a leading '!' excludes); ['*'] for everything the peer offers. */
  patterns: string[];
}

export interface KeepOptions {
  peers: KeptPeer[];
  identity: Identity | 'anonymous';
  intervalMs: number;
  /**
   * A failure no retry can mend (a key, a permission, the database): true
   * stops everything and hands it to `onFatal` (`watch` exits with it);
   * false retries it as any failure (a server keeps serving, and the other
   * side's owner may grant the permission later).
   */
  stopOnFatal: boolean;
  onFatal?: (e: unknown) => void;
  /** Where a line goes: what moved (stdout for `watch`), what failed. */
  say: (line: string) => void;
  warn: (line: string) => void;
  /** Words before each line (`mirror HOST:PORT: `). */
  prefix?: (address: string) => string;
}

export interface Keeping {
  /** No further session; the running ones are aborted; resolves once they ended. */
  close(): Promise<void>;
}

export function addressText(p: KeptPeer): string {
  return `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
}

function errorText(e: unknown): string {
  if (e instanceof NetsyncError) return e.message;
  return describeSystemError(e)?.text ?? (e instanceof Error ? e.message : String(e));
}

const clock = () => new Date().toTimeString().slice(0, 8);

function movedText(s: SessionSummary): string | null {
  if (s.itemsReceived === 0 && s.itemsSent === 0) return null;
  return `received ${s.itemsReceived} items (${formatBytes(s.bytesReceived)}), sent ${s.itemsSent} items (${formatBytes(s.bytesSent)}) in ${s.ms} ms`;
}

/** Starts keeping `o.peers` in sync with the database of `ctx`; sessions begin at once. */
export function keepSynced(ctx: Context, o: KeepOptions): Keeping {
  const byAddress = new Map(o.peers.map((p) => [addressText(p), p]));
  const filters = new Map(o.peers.map((p) => [addressText(p), branchFilter(p.patterns)]));
  const running = new Map<string, AbortController>();
  const failures = new Map<string, number>();
  const told = new Set<string>();
  const prefix = o.prefix ?? (() => '');
  const changes = CollectionWatch.open(ctx.db);

  const run = async (address: string) => {
    const peer = byAddress.get(address)!;
    const controller = new AbortController();
    running.set(address, controller);
    const before = prefix(address);
    try {
      const s = await runClientSession({
        db: ctx.db,
        host: peer.host,
        port: peer.port,
        patterns: peer.patterns,
        direction: 'sync',
        dryRun: false,
        identity: o.identity,
        signal: controller.signal,
        listLimit: 0,
        onReindex: reindexNote(ctx.io),
        onNewServer: (fp, at) => {
          o.warn(`${before}pinned new server ${at} with fingerprint ${fp}`);
          return true;
        },
      });
      const moved = movedText(s);
      if (moved) o.say(`${clock()} ${before}${moved}`);
      else if ((failures.get(address) ?? 0) > 0 || !told.has(address)) o.say(`${clock()} ${before}up to date with ${address}`);
      for (const r of s.refused ?? []) o.warn(`${before}refused: ${printable(r.branch)} (${r.reason}) on ${address}`);
      told.add(address);
      failures.set(address, 0);
      return { ok: true } as const;
    } catch (e) {
      if (controller.signal.aborted) return { ok: true } as const;
      const message = printable(errorText(e));
      if (exitClassOf(e) !== 'network' && o.stopOnFatal) {
        o.onFatal?.(e);
        return { ok: false, error: { code: 'fatal', message } } as const;
      }
      const n = (failures.get(address) ?? 0) + 1;
      failures.set(address, n);
      o.warn(`${clock()} ${before}${message}; trying again in ${Math.ceil(backoffDelay(n, BACKOFF_FIRST_MS, BACKOFF_MAX_MS) / 1000)} s`);
      return { ok: false, error: { code: 'network', message } } as const;
    } finally {
      running.delete(address);
    }
  };

  const scheduler = new SyncScheduler({ intervalMs: () => o.intervalMs, run });
  changes.subscribe(({ branches }) => {
    const concerned = [...filters].filter(([, f]) => branches.some((b) => f.matches(b.name))).map(([address]) => address);
    if (concerned.length > 0) scheduler.localChanged(concerned);
  });
  scheduler.keepOnly([...byAddress.keys()]);
  return {
    async close() {
      for (const c of running.values()) c.abort();
      try {
        await scheduler.close();
      } finally {
        changes.close();
      }
    },
  };
}
