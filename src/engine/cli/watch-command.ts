/**
 * `netsync watch HOST[:PORT] [PATTERN...] [--interval S]`: keeps the local
 * database in sync with a server until SIGINT or SIGTERM (keep-synced.ts):
 * a two-way session at once, soon after every local change of a watched
 * branch, on the interval, and with doubling waits while the server cannot
 * be reached. A failure no retry can mend (a key, a permission, the
 * database) ends the command with its exit code.
 */
import { fail } from '../errors.js';
import { DEFAULT_INTERVAL_MS } from '../service/sync-scheduler.js';
import { type Parsed, str } from './args.js';
import { addressText, keepSynced } from './keep-synced.js';
import type { Command, Context } from './local-commands.js';
import { addressArg, clientIdentity } from './net-commands.js';

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

/** Resolves at the first of SIGINT and SIGTERM, after saying so; the handlers are removed after. */
function untilSignal(ctx: Context): { stopped: Promise<void>; dispose: () => void } {
  let dispose = () => {};
  const stopped = new Promise<void>((resolve) => {
    const handler = (signal: string) => () => {
      ctx.io.note(`${signal}: stopping; what arrived so far is kept`);
      resolve();
    };
    const onInt = handler('SIGINT');
    const onTerm = handler('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    dispose = () => {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
    };
  });
  return { stopped, dispose };
}

export const watch: Command = async (ctx: Context, p: Parsed) => {
  const { host, port } = addressArg(p.positionals[0]!, 'connect');
  const patterns = p.positionals.length > 1 ? p.positionals.slice(1) : ['*'];
  const intervalMs = intervalArg(p);
  const identity = await clientIdentity(p);
  let fatal: unknown = null;
  let stopNow: () => void = () => {};
  const failed = new Promise<void>((resolve) => (stopNow = resolve));
  const peer = { host, port, patterns };
  // Handlers first: a signal that comes while the first session starts must find them, not Node's default (death).
  const signals = untilSignal(ctx);
  // The schedule's timers do not hold the process (sync-scheduler.ts): this does, until a signal.
  const alive = setInterval(() => {}, 1 << 30);
  try {
    const keeping = keepSynced(ctx, {
      peers: [peer],
      identity,
      intervalMs,
      stopOnFatal: true,
      onFatal: (e) => {
        fatal = e;
        stopNow();
      },
      say: (line) => ctx.io.out(line),
      warn: (line) => ctx.io.note(line),
    });
    ctx.io.note(`watching ${addressText(peer)} (${patterns.join(' ')}) every ${intervalMs / 1000} s and on every local change, with ${ctx.db}; Ctrl-C stops`);
    await Promise.race([signals.stopped, failed]);
    await keeping.close();
  } finally {
    clearInterval(alive);
    signals.dispose();
  }
  if (fatal) throw fatal;
  return 0;
};
