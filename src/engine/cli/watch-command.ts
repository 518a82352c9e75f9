/**
 * `netsync watch HOST[:PORT] [PATTERN...] [--interval S]`: keeps the local
 * database in sync with a server until SIGINT or SIGTERM, with the app's
 * scheduler (service/sync-scheduler.ts): a two-way session at once, soon
 * after every local change of a watched branch (the change notifier,
 * store/collection-watch.ts), on the interval, and with doubling waits while
 * the server cannot be reached. A failure no retry can mend (a key, a
 * permission, the database) ends the command with its exit code.
 */
import type { SessionSummary } from '../../shared/sync.js';
import { NetsyncError, fail } from '../errors.js';
import { runClientSession } from '../protocol/client.js';
import { branchFilter } from '../security/patterns.js';
import { printable } from '../security/printable.js';
import { BACKOFF_FIRST_MS, BACKOFF_MAX_MS, DEFAULT_INTERVAL_MS, SyncScheduler, backoffDelay } from '../service/sync-scheduler.js';
import { CollectionWatch } from '../store/collection-watch.js';
import { describeSystemError } from '../system-errors.js';
import { type Parsed, str } from './args.js';
import { exitClassOf } from './exit-codes.js';
import { formatBytes } from './format.js';
import type { Command, Context } from './local-commands.js';
import { addressArg, clientIdentity } from './net-commands.js';
import { reindexNote } from './output.js';

/** The longest interval: a day (the app's limit too). */
const MAX_INTERVAL_S = 86_400;

function intervalArg(p: Parsed): number {
  const text = str(p, 'interval');
  if (text === undefined) return DEFAULT_INTERVAL_MS;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds < 1 || seconds > MAX_INTERVAL_S) {
    fail('usage', `watch: --interval "${text}" is not a number of seconds from 1 to ${MAX_INTERVAL_S}`);
  }
  return Math.round(seconds * 1000);
}

function errorText(e: unknown): string {
  if (e instanceof NetsyncError) return e.message;
  return describeSystemError(e)?.text ?? (e instanceof Error ? e.message : String(e));
}

const clock = () => new Date().toTimeString().slice(0, 8);

function sessionLine(s: SessionSummary): string | null {
  if (s.itemsReceived === 0 && s.itemsSent === 0) return null;
  return (
    `${clock()} received ${s.itemsReceived} items (${formatBytes(s.bytesReceived)}), ` + `sent ${s.itemsSent} items (${formatBytes(s.bytesSent)}) in ${s.ms} ms`
  );
}

export const watch: Command = async (ctx: Context, p: Parsed) => {
  const { host, port } = addressArg(p.positionals[0]!, 'connect');
  const patterns = p.positionals.length > 1 ? p.positionals.slice(1) : ['*'];
  const filter = branchFilter(patterns);
  const intervalMs = intervalArg(p);
  const identity = await clientIdentity(p);
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const changes = CollectionWatch.open(ctx.db);

  // The session running now, to abort on a signal; a failure that ends the command.
  let current: AbortController | null = null;
  let fatal: unknown = null;
  let failures = 0;
  let quiet = false;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));

  const scheduler = new SyncScheduler({
    intervalMs: () => intervalMs,
    run: async () => {
      current = new AbortController();
      try {
        const s = await runClientSession({
          db: ctx.db,
          host,
          port,
          patterns,
          direction: 'sync',
          dryRun: false,
          identity,
          signal: current.signal,
          listLimit: 0,
          onReindex: reindexNote(ctx.io),
          onNewServer: (fp, at) => {
            ctx.io.note(`pinned new server ${at} with fingerprint ${fp}`);
            return true;
          },
        });
        const line = sessionLine(s);
        if (line) ctx.io.out(line);
        else if (failures > 0 || !quiet) ctx.io.out(`${clock()} up to date with ${address}`);
        for (const r of s.refused ?? []) ctx.io.note(`refused: ${printable(r.branch)} (${r.reason}) on ${address}`);
        failures = 0;
        quiet = true;
        return { ok: true };
      } catch (e) {
        if (current.signal.aborted) return { ok: true };
        const message = errorText(e);
        if (exitClassOf(e) !== 'network') {
          fatal = e;
          stop();
          return { ok: false, error: { code: 'fatal', message } };
        }
        failures++;
        const wait = backoffDelay(failures, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
        ctx.io.note(`${clock()} ${printable(message)}; trying again in ${Math.ceil(wait / 1000)} s`);
        return { ok: false, error: { code: 'network', message } };
      } finally {
        current = null;
      }
    },
  });
  changes.subscribe(({ branches }) => {
    if (branches.some((b) => filter.matches(b.name))) scheduler.localChanged();
  });

  const onSignal = (signal: string) => {
    ctx.io.note(`${signal}: stopping; what arrived so far is kept`);
    current?.abort();
    stop();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  ctx.io.note(`watching ${address} (${patterns.join(' ')}) every ${intervalMs / 1000} s and on every local change, ` + `with ${ctx.db}; Ctrl-C stops`);
  // The schedule's timers do not hold the process (sync-scheduler.ts): this does, until a signal.
  const alive = setInterval(() => {}, 1 << 30);
  scheduler.keep(address);
  try {
    await stopped;
    await scheduler.close();
  } finally {
    clearInterval(alive);
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
    changes.close();
  }
  if (fatal) throw fatal;
  return 0;
};
