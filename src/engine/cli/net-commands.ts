/** Network commands: serve, sync, push, pull, diff (docs/PROTOCOL.md), trust (docs/SECURITY.md). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type AddressUse, type HostPort, readAddress } from '../../shared/address.js';
import { refusalSentences } from '../../shared/refusals.js';
import type { Direction, DiffSide, ProgressEvent, SessionIdentity, SessionSummary } from '../../shared/sync.js';
import { fail } from '../errors.js';
import { configDir } from '../paths.js';
import { DEFAULT_PORT, type Identity, type ServerEvent } from '../protocol/api.js';
import { runClientSession } from '../protocol/client.js';
import { startServer } from '../protocol/server.js';
import { fingerprint, formatFingerprint, parseFingerprint } from '../security/fingerprint.js';
import { KnownServers, serverAddress } from '../security/known-servers.js';
import { PERMISSIONS_FILE, Permissions } from '../security/permissions.js';
import { printable } from '../security/printable.js';
import { DEFAULT_INTERVAL_MS } from '../service/sync-scheduler.js';
import { unmatchedPatterns } from '../service/unmatched.js';
import { ReadStore } from '../store/store.js';
import { type Parsed, flag, list, str } from './args.js';
import { type ExitClass, exitCode } from './exit-codes.js';
import { type Keeping, addressText, keepSynced } from './keep-synced.js';
import { formatBytes } from './format.js';
import { type Command, type Context, keyStore, loadSigner } from './local-commands.js';
import { reindexNote } from './output.js';
import type { ProgressUpdate } from './progress-bar.js';

/** An address typed on the command line (shared/address.ts); a usage error names what was typed. */
export function addressArg(text: string, use: AddressUse): HostPort {
  const read = readAddress(text, use, DEFAULT_PORT);
  if (!read.ok) fail('usage', `"${text}" is not an address: ${read.problem}`);
  return read.address;
}

function hasKeys(): boolean {
  return process.env.NETSYNC_KEY !== undefined || keyStore().list().length > 0;
}

/** serve's log line for an event, or null; everything a peer chose (its error text, branch names) is escaped. */
function serverLogLine(e: ServerEvent): string | null {
  if (e.type === 'session-end') {
    const refused = e.refused?.length ? `; refused ${e.refused.join(', ')}` : '';
    const ended = e.error ? `; ended: ${e.errorCode ? `${e.errorCode}: ` : ''}${e.error}` : '';
    return printable(`${e.remote} ${e.client}: sent ${e.itemsSent}, received ${e.itemsReceived} items${refused}${ended}`);
  }
  if (e.type === 'refused') return printable(`${e.remote}: refused: ${e.reason}`);
  if (e.type === 'permissions-error') {
    return printable(`permissions file unusable, this session gets the defaults (only the server's key may act): ${e.message}`);
  }
  return null;
}

/** serve stops within this long of SIGTERM, whatever its sessions do: the grace, then ending them, then a forced exit. */
const STOP_BOUND_MS = 2000;

async function identityFor(name: string | undefined): Promise<Identity> {
  const signer = await loadSigner(name);
  return { name: signer.name, keyPair: signer.pair };
}

export const serve: Command = async (ctx, p) => {
  const bind = str(p, 'bind');
  const { host, port } = bind === undefined ? { host: '::', port: DEFAULT_PORT } : addressArg(bind, 'bind');
  if (!str(p, 'key') && !hasKeys()) fail('key', 'a server needs a key to prove who it is; create one with "netsync key generate NAME"');
  const identity = await identityFor(str(p, 'key'));
  const permissionsFile = str(p, 'permissions') ?? join(configDir(), PERMISSIONS_FILE);
  if (str(p, 'permissions') && !existsSync(permissionsFile)) fail('usage', `serve: no permissions file at ${permissionsFile}`);
  const rules = Permissions.load(permissionsFile).ruleCount;
  // Usage errors first, before anything listens.
  const mirrors = list(p, 'mirror').map((m) => ({ ...addressArg(m, 'connect'), patterns: p.positionals.length > 0 ? p.positionals : ['*'] }));
  const server = await startServer({
    db: ctx.db,
    host,
    port,
    patterns: p.positionals,
    identity,
    permissionsFile,
    onReindex: reindexNote(ctx.io),
    onEvent: (e) => {
      const line = serverLogLine(e);
      if (line) process.stderr.write(`${line}\n`);
    },
  });
  let keeping: Keeping | null = null;
  // Handlers first, then the line that says we are serving: a supervisor (or a test) that
  // signals as soon as it reads that line must find them installed, not Node's default (death).
  const stopped = new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      process.stderr.write(
        `${signal}: ending the sessions in flight with ERROR shutdown, storing what they received (stopping within ${STOP_BOUND_MS / 1000} s)\n`,
      );
      // A backstop: should ending the sessions take longer, exit anyway. SQLite commits are atomic,
      // so the database is consistent whenever the process ends; what had not been stored is asked for again.
      setTimeout(() => {
        process.stderr.write(`${signal}: sessions did not end within ${STOP_BOUND_MS / 1000} s; exiting\n`);
        process.exit(0);
      }, STOP_BOUND_MS).unref();
      await Promise.all([keeping?.close(), server.close(0)]);
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
  ctx.io.out(
    `serving ${ctx.db} on ${host.includes(':') ? `[${host}]` : host}:${server.port}${p.positionals.length ? ` (${p.positionals.join(' ')})` : ''} ` +
      `as ${identity.name}, key fingerprint ${fingerprint(identity.keyPair.publicKey)}`,
  );
  process.stderr.write(
    rules === 0
      ? `no permission granted in ${permissionsFile}: only this server's own key may read or write (docs/SECURITY.md)\n`
      : `permissions: ${permissionsFile} (${rules} rule${rules === 1 ? '' : 's'}, read again at every session)\n`,
  );
  if (mirrors.length > 0) {
    // Each mirror as `netsync watch` keeps a server, as this server's key; a refusal is retried, never the end of serving.
    const log = (line: string) => process.stderr.write(`${line}\n`);
    keeping = keepSynced(ctx, {
      peers: mirrors,
      identity,
      intervalMs: DEFAULT_INTERVAL_MS,
      stopOnFatal: false,
      say: log,
      warn: log,
      prefix: (address) => `mirror ${address}: `,
    });
    log(`mirroring ${mirrors.map(addressText).join(', ')}: on every change here, and every ${DEFAULT_INTERVAL_MS / 1000} s`);
  }
  await stopped;
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

function jsonLine(s: SessionSummary, unmatched: readonly string[]): string {
  return JSON.stringify({
    ...(unmatched.length > 0 ? { unmatchedPatterns: unmatched } : {}),
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
    ...(s.converged === undefined ? {} : { converged: s.converged }),
    sessions: s.sessions ?? 1,
    weLack: { count: s.weLack.count, bytes: s.weLack.bytes, groups: s.weLack.groups },
    theyLack: { count: s.theyLack.count, bytes: s.theyLack.bytes, groups: s.theyLack.groups },
    ...(s.forks ? { forks: s.forks } : {}),
  });
}

function localBranches(db: string): string[] {
  const store = ReadStore.open(db);
  try {
    return store.branches().map((b) => b.name);
  } finally {
    store.close();
  }
}

function sessionIdentity(identity: Identity | 'anonymous'): SessionIdentity {
  return identity === 'anonymous' ? { kind: 'anonymous' } : { kind: 'key', name: identity.name, fingerprint: fingerprint(identity.keyPair.publicKey) };
}

/** --anonymous, --key NAME, else the only key, else anonymous with a note. The parser refuses both options together. */
export async function clientIdentity(p: Parsed): Promise<Identity | 'anonymous'> {
  if (flag(p, 'anonymous')) return 'anonymous';
  if (!str(p, 'key') && !hasKeys()) return 'anonymous';
  return identityFor(str(p, 'key'));
}

/**
 * Says what the server refused, one line per branch, and returns how the
 * command ends: a push into a branch it may not write fails at once; a pull
 * or sync that could not read a branch, or a sync that could not write one,
 * did not do what was asked ('permission'); a branch the server does not
 * serve is as a pattern that matched nothing ('unmatched'). A dry run only
 * reports.
 */
function reportRefused(ctx: Context, s: SessionSummary, direction: Direction, anonymous: boolean, asked: boolean): ExitClass | null {
  const who = anonymous ? 'an anonymous client' : 'your key';
  if (anonymous && !asked) ctx.io.note('note: you have no key, so this session was anonymous (create one with "netsync key generate NAME")');
  const denied: string[] = [];
  for (const r of s.refused ?? []) {
    const branch = printable(r.branch);
    if (r.reason === 'not-offered') ctx.io.note(`note: the server does not offer branch "${branch}"`);
    else if (r.reason === 'no-permission') {
      ctx.io.note(`refused: ${who} may not read branch "${branch}" on this server`);
      denied.push(branch);
    } else {
      ctx.io.note(`refused: ${who} may read but not write branch "${branch}" on this server; nothing of ours in it was sent`);
      denied.push(branch);
    }
  }
  if (direction === 'push' && denied.length > 0) {
    fail('permission', `the server refused the push into ${denied.map((b) => `"${b}"`).join(', ')}: ${who} may not write there`);
  }
  if (direction === 'push' || s.dryRun) return null;
  const reasons = new Set((s.refused ?? []).map((r) => r.reason));
  if (reasons.has('no-permission') || (direction === 'sync' && reasons.has('read-only'))) return 'permission';
  return reasons.has('not-offered') ? 'unmatched' : null;
}

/** The bar of a session: every item due either way, with the bytes moved; the phase names the wait before any total is known. */
function sessionProgress(label: string, e: ProgressEvent): ProgressUpdate {
  const total = e.received.totalItems + e.sent.totalItems;
  return {
    label: total > 0 ? label : `${label}: ${e.phase}`,
    done: e.received.items + e.sent.items,
    total: total > 0 ? total : null,
    unit: 'items',
    bytes: e.received.bytes + e.sent.bytes,
  };
}

function session(direction: Direction, forceDryRun: boolean): Command {
  const name = forceDryRun ? 'diff' : direction;
  return async (ctx, p) => {
    const { host, port } = addressArg(p.positionals[0]!, 'connect');
    const dryRun = forceDryRun || flag(p, 'dryRun');
    const json = flag(p, 'json');
    const identity = await clientIdentity(p);
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const s = await runClientSession({
      identity,
      onNewServer: (fp, address) => {
        ctx.io.note(`pinned new server ${address} with fingerprint ${fp}`);
        return true;
      },
      db: ctx.db,
      host,
      port,
      patterns: p.positionals.slice(1),
      direction,
      dryRun,
      signal: controller.signal,
      listLimit: dryRun ? 200 : 0,
      exitsAfter: true,
      onReindex: reindexNote(ctx.io),
      onProgress: (e) => ctx.io.progress(sessionProgress(name, e)),
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
          `in ${s.ms} ms, ${s.roundTrips} round trips${s.sessions ? ` over ${s.sessions} sessions` : ''}`,
      );
      if (s.converged === false) {
        ctx.io.note('netsync: warning: the two sides still differ after 3 sessions (is someone writing to either database?); run sync again');
      }
    }
    for (const f of s.forks ?? []) ctx.io.note(`${printable(f.branch)} now has ${f.heads} heads; \`netsync merge ${printable(f.branch)}\` joins them`);
    const patterns = p.positionals.slice(1);
    const unmatched = unmatchedPatterns(
      { include: patterns.filter((x) => !x.startsWith('!')), exclude: patterns.filter((x) => x.startsWith('!')).map((x) => x.slice(1)) },
      s,
      localBranches(ctx.db),
    );
    if (json) ctx.io.out(jsonLine(s, unmatched));
    const refused = reportRefused(ctx, s, direction, identity === 'anonymous', flag(p, 'anonymous'));
    const sentences = refusalSentences({ unmatchedPatterns: unmatched, identity: sessionIdentity(identity), keyHint: 'use --key NAME' });
    for (const line of sentences) ctx.io.note(`netsync: ${printable(line)}`);
    if (refused) return exitCode(refused);
    // A pull or sync that could bring nothing of a pattern did not do what was asked; a push may create the branch there.
    return unmatched.length > 0 && direction !== 'push' && !dryRun ? exitCode('unmatched') : 0;
  };
}

/** `trust HOST[:PORT] FINGERPRINT`: pin a server's key deliberately (first contact, or a key that changed). */
export const trust: Command = (ctx, p) => {
  const { host, port } = addressArg(p.positionals[0]!, 'connect');
  const fp = parseFingerprint(p.positionals.slice(1).join(''));
  if (!fp) fail('usage', `trust: "${p.positionals.slice(1).join(' ')}" is not a fingerprint (64 hex digits, spaces allowed)`);
  const address = serverAddress(host, port);
  const before = new KnownServers(configDir()).pin(address, fp);
  if (before === fp) ctx.io.out(`${address} was already pinned to ${formatFingerprint(fp)}`);
  else if (before) ctx.io.out(`${address}: replaced the pinned key ${formatFingerprint(before)} with ${formatFingerprint(fp)}`);
  else ctx.io.out(`${address}: pinned ${formatFingerprint(fp)}`);
  return 0;
};

export const sync = session('sync', false);
export const push = session('push', false);
export const pull = session('pull', false);
export const diff = session('sync', true);
