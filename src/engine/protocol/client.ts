/**
 * The connecting side of a session (docs/PROTOCOL.md §Client). It sends its
 * HELLO and its first reconciliation message in one flight, so an
 * up-to-date check costs one round trip.
 *
 * The session runs inside TLS 1.3 (docs/SECURITY.md): the client presents
 * its key's certificate (or none: anonymous), and checks the key the server
 * proved it holds against the pin for HOST:PORT before sending anything.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import type { BranchFork, RefusedSlot, SessionSummary } from '../../shared/sync.js';
import { NetsyncError, fail } from '../errors.js';
import { describeSystemError } from '../system-errors.js';
import { configDir as defaultConfigDir } from '../paths.js';
import { Reconciler } from '../recon/reconciler.js';
import { pullRefusal } from '../security/admission.js';
import { type TlsCredentials, credentialsFor, peerPublicKey } from '../security/certificate.js';
import { fingerprint, fingerprintHex } from '../security/fingerprint.js';
import { defaultIdentity } from '../security/identity.js';
import { KnownServers, ServerKeyChangedError, serverAddress } from '../security/known-servers.js';
import { printable } from '../security/printable.js';
import { ALPN, clientTlsOptions } from '../security/tls.js';
import { forksSince, headsOfBranches } from '../store/history.js';
import { WriteStore } from '../store/store.js';
import type { ClientOptions } from './api.js';
import { DEFAULT_BUDGETS } from './budgets.js';
import { Connection, DEFAULT_LIMITS, type Limits } from './connection.js';
import { Exchange, type Slot, WHOLE_DATA_MAX, WHOLE_PAGE } from './exchange.js';
import {
  encodeMessage,
  FrameType,
  HELLO_DRY_RUN,
  HELLO_EMPTY,
  HELLO_RECEIVES,
  HELLO_SENDS,
  MAX_SLOTS,
  type Message,
  PROTOCOL_VERSION,
  RefuseReason,
  WELCOME_EMPTY,
  WELCOME_IN_SYNC,
  type Welcome,
} from './frames.js';
import { branchFilter } from '../security/patterns.js';
import { ProgressTracker } from './progress.js';
import { EMPTY_TREE, sessionKey, slotFor } from './slots.js';
import { ERROR_CODES, type ProtocolError } from './wire.js';

const CONNECT_TIMEOUT_MS = 10_000;

/** Test hooks: tests see the decrypted stream through them (test/security). */
export interface ClientHooks {
  /** Called with the TLS socket once the handshake is done, before the server's key is checked. */
  onSecureSocket?: (socket: TLSSocket) => void;
}

/** TCP connect and TLS 1.3 handshake, within one deadline. */
function openSecureSocket(host: string, port: number, credentials: TlsCredentials | null, signal?: AbortSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    let connected = false;
    const socket = connect({ host, port, ...clientTlsOptions(credentials) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NetsyncError('timeout', `no answer from ${host}:${port} within ${CONNECT_TIMEOUT_MS / 1000} s`));
    }, CONNECT_TIMEOUT_MS);
    const onAbort = () => {
      socket.destroy();
      reject(new NetsyncError('cancelled', `cancelled while connecting to ${host}:${port}; nothing was sent or received`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => (connected = true));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const known = describeSystemError(e, { where: `${host}:${port}` });
      if (!connected) return reject(new NetsyncError('unreachable', known?.text ?? `cannot connect to ${host}:${port}: ${e.message}`));
      // A server closes a connection before its handshake when it is over a budget (too many
      // connections in their handshake, from everywhere or from this address, or this address is penalised).
      if (e.code === 'ECONNRESET' || /socket disconnected|socket hang up/i.test(e.message)) {
        return reject(
          new NetsyncError(
            'protocol',
            `${host}:${port} closed the connection before the secure handshake finished: the server may be busy or limiting connections ` +
              'from this address (try again in a minute), or it is not a Netsync server',
          ),
        );
      }
      if (known?.code === 'protocol') return reject(new NetsyncError('protocol', known.text));
      reject(new NetsyncError('protocol', `no secure connection with ${host}:${port} (is it a Netsync server of this version?): ${e.message}`));
    });
  });
}

/**
 * Checks the key the server proved it holds against the pin for its
 * address; pins it on first contact when `onNewServer` agrees. Returns the
 * server's fingerprint (display form). Throws, and so sends nothing, on a
 * changed key, a refusal, or a server that is not a Netsync peer.
 */
async function checkServer(socket: TLSSocket, opts: ClientOptions, config: string): Promise<string> {
  if (socket.alpnProtocol !== ALPN) fail('protocol', `${opts.host}:${opts.port} does not speak ${ALPN}; is it a Netsync server?`);
  const key = peerPublicKey(socket);
  if (!key) fail('key', `${opts.host}:${opts.port} presented no key`);
  const presented = fingerprintHex(key);
  const address = serverAddress(opts.host, opts.port);
  const pins = new KnownServers(config);
  const pinned = pins.lookup(address);
  if (pinned === presented) return fingerprint(key);
  if (pinned !== null) throw new ServerKeyChangedError(address, pinned, presented);
  const accept = opts.onNewServer ? await opts.onNewServer(fingerprint(key), address) : true;
  if (!accept) fail('key', `not connecting to ${address}: its key (fingerprint ${fingerprint(key)}) was not accepted`);
  pins.pin(address, presented);
  return fingerprint(key);
}

/** Sessions run in a row at most, when a two-way sync ends with unequal roots. */
const MAX_SESSIONS = 3;

/**
 * Runs a session; after a two-way sync whose final roots differ (a new item
 * became reachable only once another arrived, a fingerprint collided, or
 * someone wrote during the session) it runs another with a fresh session
 * key, up to three in all, and reports their sum.
 */
export async function runClientSession(opts: ClientOptions, limits: Limits = DEFAULT_LIMITS, hooks: ClientHooks = {}): Promise<SessionSummary> {
  // One progress stream for the whole sync: one session id, one sequence, totals summed.
  const progress = new ProgressTracker(randomUUID(), opts.onProgress, opts.onItems);
  progress.holdDone = true;
  progress.emit(true);
  let total = await runSessionOnce(opts, limits, hooks, progress);
  let sessions = 1;
  while (total.converged === false && sessions < MAX_SESSIONS && !opts.signal?.aborted) {
    const next = await runSessionOnce(opts, limits, hooks, progress);
    sessions++;
    // Item counts come from the shared progress tracker and are already totals; the rest is per session.
    total = {
      ...next,
      ms: total.ms + next.ms,
      bytesSent: total.bytesSent + next.bytesSent,
      bytesReceived: total.bytesReceived + next.bytesReceived,
      reconBytesSent: total.reconBytesSent + next.reconBytesSent,
      reconBytesReceived: total.reconBytesReceived + next.reconBytesReceived,
      roundTrips: total.roundTrips + next.roundTrips,
      weLack: total.weLack,
      theyLack: total.theyLack,
      ...mergedForks(total.forks, next.forks),
    };
  }
  progress.holdDone = false;
  progress.setPhase('done');
  return sessions > 1 ? { ...total, sessions } : total;
}

/** The forks of two sessions of one sync, by branch, the later session's count winning. */
function mergedForks(first: BranchFork[] | undefined, second: BranchFork[] | undefined): { forks?: BranchFork[] } {
  const byBranch = new Map([...(first ?? []), ...(second ?? [])].map((f) => [f.branch, f]));
  return byBranch.size > 0 ? { forks: [...byBranch.values()] } : {};
}

async function runSessionOnce(opts: ClientOptions, limits: Limits, hooks: ClientHooks, progress: ProgressTracker): Promise<SessionSummary> {
  const filter = branchFilter(opts.patterns);
  const config = opts.configDir ?? defaultConfigDir();
  const store = WriteStore.open(opts.db, { onReindex: opts.onReindex });
  let socket: TLSSocket | null = null;
  try {
    const identity = opts.identity === 'anonymous' ? null : (opts.identity ?? defaultIdentity(config));
    const credentials = identity ? await credentialsFor(identity.keyPair, config) : null;
    socket = await openSecureSocket(opts.host, opts.port, credentials, opts.signal);
    hooks.onSecureSocket?.(socket);
    progress.setPhase('handshake');
    const peerFingerprint = await checkServer(socket, opts, config);
    const before = headsOfBranches(store, filter.matches);
    const session = await runOnSocket(socket, store, filter.matches, opts, progress, limits);
    const forks = forksSince(before, headsOfBranches(store, filter.matches));
    const result = { ...session, peerFingerprint, ...(forks.length > 0 ? { forks } : {}) };
    await closed(socket);
    return result;
  } catch (e) {
    progress.error = { code: e instanceof NetsyncError ? e.code : 'internal', message: (e as Error).message };
    progress.setPhase(e instanceof NetsyncError && e.code === 'cancelled' ? 'cancelled' : 'error');
    if (socket) await closed(socket);
    throw e;
  } finally {
    if (opts.exitsAfter) store.closeAtExit();
    else store.close();
  }
}

/**
 * Ends the socket and waits until it has closed, at most a second: a session
 * returns only once what it wrote (an ERROR frame, the last DONE) has left,
 * so a command line may exit at once (cli/entry.ts). End, not destroy, so
 * those bytes still reach the server.
 */
function closed(socket: TLSSocket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    // Flowing, so that the peer's end is read and 'close' can come (a connection that stopped
    // reading mid-turn left it paused). The timer is not unref'd: a socket that neither reads
    // nor writes does not keep the event loop alive, and the caller must not be left waiting.
    socket.resume();
    socket.end();
  });
}

const REFUSE_REASONS: Record<number, RefusedSlot['reason']> = {
  [RefuseReason.NotOffered]: 'not-offered',
  [RefuseReason.NoPermission]: 'no-permission',
  [RefuseReason.ReadOnly]: 'read-only',
};

function runOnSocket(
  socket: TLSSocket,
  store: WriteStore,
  selects: (branch: string) => boolean,
  opts: ClientOptions,
  progress: ProgressTracker,
  limits: Limits,
): Promise<SessionSummary> {
  const started = Date.now();
  const sends = opts.direction !== 'pull';
  const receives = opts.direction !== 'push';
  const slots: Slot[] = store
    .branches()
    .filter((b) => selects(b.name))
    .map((b) => slotFor(store, b.name));
  const nonce = randomBytes(16);
  // An empty database lacks everything: the server may send it whole slots without offers (HELLO EMPTY).
  const askWhole = receives && !opts.dryRun && store.isEmpty();
  const recon = new Reconciler({ role: 'initiator', slots: slots.map((s) => s.tree), sessionKey: sessionKey(nonce) });
  let exchange: Exchange | null = null;
  let inSync = false;
  const refusedSlots: RefusedSlot[] = [];

  return new Promise<SessionSummary>((resolve, reject) => {
    const summary = (): SessionSummary => {
      const base = { sessionId: progress.sessionId, direction: opts.direction, ms: Date.now() - started };
      const refused = refusedSlots.length ? { refused: refusedSlots } : {};
      if (exchange) return { ...exchange.summary(base), ...refused };
      const empty = { count: 0, bytes: 0, groups: [], items: [] };
      return {
        ...base,
        dryRun: opts.dryRun,
        itemsSent: progress.sent.items,
        itemsReceived: progress.received.items,
        bytesSent: conn.bytes.reconSent,
        bytesReceived: conn.bytes.reconReceived,
        reconBytesSent: conn.bytes.reconSent,
        reconBytesReceived: conn.bytes.reconReceived,
        roundTrips: conn.roundTrips,
        weLack: empty,
        theyLack: empty,
        ...refused,
      };
    };

    const onWelcome = (w: Welcome) => {
      if (w.version !== PROTOCOL_VERSION) return conn.fail('version', `server chose protocol version ${w.version}`);
      if (w.flags & WELCOME_IN_SYNC) {
        inSync = true;
        progress.setPhase('done');
        conn.end();
        return;
      }
      for (const r of w.refused) {
        const slot = slots[r.slot];
        if (!slot) return conn.fail('malformed', `WELCOME refuses slot ${r.slot}, which does not exist`);
        refusedSlots.push({ branch: slot.name, reason: REFUSE_REASONS[r.reason] ?? 'not-offered' });
        // A read-only slot is still reconciled and pulled; the server just accepts nothing in it.
        if (r.reason !== RefuseReason.ReadOnly) slot.refused = true;
        else slot.readOnly = true;
      }
      for (const name of w.extra) {
        if (!selects(name)) return conn.fail('malformed', `server added branch "${name}", which we did not ask for`);
        slots.push({ name, bid: store.branchId(name), tree: EMPTY_TREE, refused: false });
      }
      progress.setPhase('refining');
      const inSession = new Set(slots.filter((s) => !s.refused).map((s) => s.name));
      exchange = new Exchange({
        store,
        conn,
        slots,
        recon,
        maySend: sends,
        mayReceive: receives,
        dryRun: opts.dryRun,
        // A dry run moves nothing, so its roots stay unequal: comparing them would only start more sessions.
        finalCheck: sends && receives && !opts.dryRun,
        progress,
        listLimit: opts.listLimit ?? 1000,
        askedWhole: askWhole,
        // Only the branches of this session: anything else the server sends ends it (issue #18).
        refuseReceived: (_id, data) => pullRefusal(data, (branch) => inSession.has(branch)),
      });
      // Having sent items, let the server close first: it does once it has verified and stored
      // them (or it sends ERROR bad-item), so a session that resolves has really delivered.
      exchange.whenDone.then(() => {
        if (progress.sent.items === 0) conn.end();
      });
      exchange.reconOutput({ reply: null, have: [], need: [] });
      // The server holds nothing: our slots go whole, without offers (docs/PROTOCOL.md §4.6).
      if (w.flags & WELCOME_EMPTY && sends && !opts.dryRun) {
        const whole = slots.flatMap((s, slot) =>
          s.refused || s.readOnly || s.bid === null ? [] : [{ slot, members: store.membersWithMeta(s.bid, WHOLE_PAGE, WHOLE_DATA_MAX) }],
        );
        exchange.sendWhole(whole).catch((e: Error) => conn.fail('internal', e.message));
      }
    };

    const onMessage = (m: Message) => {
      if (m.type === FrameType.Error) {
        serverError = printable(m.message);
        serverRefused = m.code === ERROR_CODES.permission;
        serverBadItem = m.code === ERROR_CODES['bad-item'];
        conn.destroy();
        return;
      }
      if (exchange) return exchange.handle(m);
      if (m.type !== FrameType.Welcome) return conn.fail('unexpected', `expected WELCOME, got frame type ${m.type}`);
      onWelcome(m.welcome);
    };

    let serverError: string | null = null;
    let serverRefused = false;
    // Kept apart so a window can say why the rest did not move (an item failed verification).
    let serverBadItem = false;
    const onClose = (error: ProtocolError | null) => {
      exchange?.flushReceived();
      progress.unfollow();
      if (opts.signal?.aborted) return reject(new NetsyncError('cancelled', 'cancelled; what arrived was kept'));
      if (exchange?.storeError) return reject(exchange.storeError); // our database could not store what arrived
      if (serverError)
        return reject(new NetsyncError(serverRefused ? 'permission' : serverBadItem ? 'bad-item' : 'protocol', `the server ended the session: ${serverError}`));
      if (error) return reject(new NetsyncError(error.code === 'timeout' || error.code === 'bad-item' ? error.code : 'protocol', error.message));
      if (inSync || exchange?.finished) {
        progress.setPhase('done');
        return resolve(summary());
      }
      reject(new NetsyncError('protocol', 'the server closed the connection before the session finished; what arrived was kept'));
    };

    const conn = new Connection(socket, limits, { onMessage, onClose });
    progress.follow(conn);
    opts.signal?.addEventListener('abort', () => conn.fail('shutdown', 'cancelled by the user'), { once: true });

    let flags = 0;
    if (sends) flags |= HELLO_SENDS;
    if (receives) flags |= HELLO_RECEIVES;
    if (opts.dryRun) flags |= HELLO_DRY_RUN;
    if (askWhole) flags |= HELLO_EMPTY;
    const hello: Message = {
      type: FrameType.Hello,
      hello: {
        minVersion: PROTOCOL_VERSION,
        maxVersion: PROTOCOL_VERSION,
        flags,
        nonce,
        patterns: opts.patterns,
        slots: slots.map((s) => {
          const root = s.tree.node(0, 0);
          return { name: s.name, root: root.hash, count: root.count };
        }),
      },
    };
    // A server refuses a first frame above its HELLO budget: say so here, in words, instead.
    const helloBytes = encodeMessage(hello).length - 4;
    if (helloBytes > DEFAULT_BUDGETS.helloFrameBytes) {
      fail(
        'usage',
        `these patterns select ${slots.length} branches, a HELLO of ${helloBytes} bytes; a server takes at most ${DEFAULT_BUDGETS.helloFrameBytes}: sync fewer branches at a time`,
      );
    }
    conn.send(hello);
    conn.send({ type: FrameType.Recon, payload: recon.initiate() });
    if (slots.length > MAX_SLOTS) fail('usage', `too many branches in one session (at most ${MAX_SLOTS})`);
  });
}
