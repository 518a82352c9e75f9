/** Network commands: serve, sync, push, pull, diff (docs/PROTOCOL.md). */
import type { Direction, DiffSide, SessionSummary } from '../../shared/sync.js';
import { fail } from '../errors.js';
import { DEFAULT_PORT } from '../protocol/api.js';
import { runClientSession } from '../protocol/client.js';
import { startServer } from '../protocol/server.js';
import { type OptionSpec, flag, parse, str } from './args.js';
import type { Command, Context } from './local-commands.js';
import { formatBytes } from './output.js';

/** HOST, HOST:PORT, [V6], [V6]:PORT. */
export function parseAddress(text: string, defaultHost: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]*)(?::(\d+))?$/.exec(text);
  if (!m) fail('usage', `"${text}" is not an address (HOST[:PORT] or [IPv6]:PORT)`);
  const host = m[1] || defaultHost;
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('usage', `"${m[2]}" is not a port number`);
  return { host, port };
}

export const serve: Command = async (ctx, args) => {
  const p = parse('serve', args, { bind: { type: 'string' } }, { min: 0, max: Infinity, usage: 'serve [--bind HOST:PORT] [PATTERN ...]' });
  const { host, port } = parseAddress(str(p, 'bind') ?? '', '::');
  const server = await startServer({
    db: ctx.db,
    host,
    port,
    patterns: p.positionals,
    onEvent: (e) => {
      if (e.type === 'session-end') {
        const what = `${e.remote}: sent ${e.itemsSent}, received ${e.itemsReceived} items`;
        process.stderr.write(e.error ? `${what}; ended: ${e.error}\n` : `${what}\n`);
      }
    },
  });
  ctx.io.out(`serving ${ctx.db} on ${host.includes(':') ? `[${host}]` : host}:${server.port}${p.positionals.length ? ` (${p.positionals.join(' ')})` : ''}`);
  await new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      process.stderr.write(`${signal}: finishing sessions in flight (at most 5 s)\n`);
      await server.close(5000);
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
  return 0;
};

function printSide(ctx: Context, title: string, side: DiffSide): void {
  ctx.io.out(`${title}: ${side.count} items, ${formatBytes(side.bytes)}`);
  for (const g of side.groups) ctx.io.out(`  ${g.branch}  ${g.kind}: ${g.count} (${formatBytes(g.bytes)})`);
}

function printItems(ctx: Context, title: string, side: DiffSide): void {
  if (side.items.length === 0) return;
  ctx.io.out(`${title}:`);
  for (const i of side.items) ctx.io.out(`  ${i.id}  ${i.kind.padEnd(8)} ${String(i.size).padStart(10)}  ${i.branches.join(',')}`);
  if (side.count > side.items.length) ctx.io.out(`  … and ${side.count - side.items.length} more`);
}

function jsonLine(s: SessionSummary): string {
  return JSON.stringify({
    direction: s.direction,
    dryRun: s.dryRun,
    itemsSent: s.itemsSent,
    itemsReceived: s.itemsReceived,
    bytesSent: s.bytesSent,
    bytesReceived: s.bytesReceived,
    reconBytesSent: s.reconBytesSent,
    reconBytesReceived: s.reconBytesReceived,
    roundTrips: s.roundTrips,
    ms: s.ms,
    weLack: { count: s.weLack.count, bytes: s.weLack.bytes, groups: s.weLack.groups },
    theyLack: { count: s.theyLack.count, bytes: s.theyLack.bytes, groups: s.theyLack.groups },
  });
}

function session(direction: Direction, forceDryRun: boolean): Command {
  const name = forceDryRun ? 'diff' : direction;
  return async (ctx, args) => {
    const options: OptionSpec = { json: { type: 'boolean' } };
    if (!forceDryRun) options['dry-run'] = { type: 'boolean' };
    const usage = forceDryRun ? 'diff HOST[:PORT] PATTERN...' : `${direction} HOST[:PORT] PATTERN... [--dry-run] [--json]`;
    const p = parse(name, args, options, { min: 2, max: Infinity, usage });
    const { host, port } = parseAddress(p.positionals[0]!, 'localhost');
    const dryRun = forceDryRun || flag(p, 'dry-run');
    const json = flag(p, 'json');
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const s = await runClientSession({
      db: ctx.db,
      host,
      port,
      patterns: p.positionals.slice(1),
      direction,
      dryRun,
      signal: controller.signal,
      listLimit: dryRun ? 200 : 0,
      onProgress: (e) =>
        ctx.io.progress(
          `${e.phase}: received ${e.received.items}/${e.received.totalItems} items (${formatBytes(e.received.bytes)}), ` +
            `sent ${e.sent.items}/${e.sent.totalItems} (${formatBytes(e.sent.bytes)}), ${formatBytes(e.rate)}/s`,
        ),
    });
    ctx.io.clearProgress();
    if (dryRun) {
      printSide(ctx, 'we lack', s.weLack);
      printSide(ctx, 'they lack', s.theyLack);
      if (!json) {
        printItems(ctx, 'items we lack', s.weLack);
        printItems(ctx, 'items they lack', s.theyLack);
      }
    } else {
      ctx.io.out(
        `received ${s.itemsReceived} items (${formatBytes(s.bytesReceived)}), sent ${s.itemsSent} items (${formatBytes(s.bytesSent)}) ` +
          `in ${s.ms} ms, ${s.roundTrips} round trips`,
      );
    }
    if (json) ctx.io.out(jsonLine(s));
    return 0;
  };
}

export const sync = session('sync', false);
export const push = session('push', false);
export const pull = session('pull', false);
export const diff = session('sync', true);
