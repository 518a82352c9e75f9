/**
 * The connecting side of a session (docs/PROTOCOL.md §Client). It sends its
 * HELLO and its first reconciliation message in one flight, so an
 * up-to-date check costs one round trip.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { SessionSummary } from '../../shared/sync.js';
import { NetsyncError, fail } from '../errors.js';
import { Reconciler } from '../recon/reconciler.js';
import { WriteStore } from '../store/store.js';
import type { ClientOptions } from './api.js';
import { Connection, DEFAULT_LIMITS, type Limits } from './connection.js';
import { Exchange, type Slot } from './exchange.js';
import { FrameType, HELLO_DRY_RUN, HELLO_RECEIVES, HELLO_SENDS, type Message, PROTOCOL_VERSION, WELCOME_IN_SYNC, type Welcome } from './frames.js';
import { branchFilter } from './patterns.js';
import { ProgressTracker } from './progress.js';
import { EMPTY_TREE, sessionKey, slotFor } from './slots.js';
import type { ProtocolError } from './wire.js';

const CONNECT_TIMEOUT_MS = 10_000;

function openSocket(host: string, port: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NetsyncError('timeout', `no answer from ${host}:${port} within ${CONNECT_TIMEOUT_MS / 1000} s`));
    }, CONNECT_TIMEOUT_MS);
    const onAbort = () => {
      socket.destroy();
      reject(new NetsyncError('cancelled', 'cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' ? 'unknown host' : e.message;
      reject(new NetsyncError('io', `cannot connect to ${host}:${port}: ${why}`));
    });
  });
}

export async function runClientSession(opts: ClientOptions, limits: Limits = DEFAULT_LIMITS): Promise<SessionSummary> {
  const filter = branchFilter(opts.patterns);
  const sessionId = randomUUID();
  const progress = new ProgressTracker(sessionId, opts.onProgress);
  progress.emit(true);
  const store = WriteStore.open(opts.db);
  try {
    const socket = await openSocket(opts.host, opts.port, opts.signal);
    progress.setPhase('handshake');
    return await runOnSocket(socket, store, filter.matches, opts, progress, limits);
  } catch (e) {
    progress.error = { code: e instanceof NetsyncError ? e.code : 'internal', message: (e as Error).message };
    progress.setPhase(e instanceof NetsyncError && e.code === 'cancelled' ? 'cancelled' : 'error');
    throw e;
  } finally {
    store.close();
  }
}

function runOnSocket(
  socket: Socket,
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
  const recon = new Reconciler({ role: 'initiator', slots: slots.map((s) => s.tree), sessionKey: sessionKey(nonce) });
  let exchange: Exchange | null = null;
  let inSync = false;

  return new Promise<SessionSummary>((resolve, reject) => {
    const summary = (): SessionSummary => {
      const base = { sessionId: progress.sessionId, direction: opts.direction, ms: Date.now() - started };
      if (exchange) return exchange.summary(base);
      const empty = { count: 0, bytes: 0, groups: [], items: [] };
      return {
        ...base,
        dryRun: opts.dryRun,
        itemsSent: 0,
        itemsReceived: 0,
        bytesSent: conn.bytes.reconSent,
        bytesReceived: conn.bytes.reconReceived,
        reconBytesSent: conn.bytes.reconSent,
        reconBytesReceived: conn.bytes.reconReceived,
        roundTrips: conn.roundTrips,
        weLack: empty,
        theyLack: empty,
      };
    };

    const onWelcome = (w: Welcome) => {
      if (w.version !== PROTOCOL_VERSION) return conn.fail('version', `server chose protocol version ${w.version}`);
      if (w.flags & WELCOME_IN_SYNC) {
        inSync = true;
        progress.roundTrips = conn.roundTrips;
        progress.setPhase('done');
        conn.end();
        return;
      }
      for (const r of w.refused) {
        const slot = slots[r.slot];
        if (!slot) return conn.fail('malformed', `WELCOME refuses slot ${r.slot}, which does not exist`);
        slot.refused = true;
      }
      for (const name of w.extra) {
        if (!selects(name)) return conn.fail('malformed', `server added branch "${name}", which we did not ask for`);
        slots.push({ name, bid: store.branchId(name), tree: EMPTY_TREE, refused: false });
      }
      progress.setPhase('refining');
      exchange = new Exchange({
        store,
        conn,
        slots,
        recon,
        maySend: sends,
        mayReceive: receives,
        dryRun: opts.dryRun,
        finalCheck: sends && receives,
        progress,
        listLimit: opts.listLimit ?? 1000,
      });
      exchange.whenDone.then(() => conn.end());
      exchange.reconOutput({ reply: null, have: [], need: [] });
    };

    const onMessage = (m: Message) => {
      if (m.type === FrameType.Error) {
        serverError = m.message;
        conn.destroy();
        return;
      }
      if (exchange) return exchange.handle(m);
      if (m.type !== FrameType.Welcome) return conn.fail('unexpected', `expected WELCOME, got frame type ${m.type}`);
      onWelcome(m.welcome);
    };

    let serverError: string | null = null;
    const onClose = (error: ProtocolError | null) => {
      exchange?.flushReceived();
      progress.roundTrips = conn.roundTrips;
      if (opts.signal?.aborted) return reject(new NetsyncError('cancelled', 'cancelled; what arrived was kept'));
      if (serverError) return reject(new NetsyncError('protocol', `the server ended the session: ${serverError}`));
      if (error) return reject(new NetsyncError(error.code === 'timeout' ? 'timeout' : 'protocol', error.message));
      if (inSync || exchange?.finished) {
        progress.setPhase('done');
        return resolve(summary());
      }
      reject(new NetsyncError('protocol', 'the server closed the connection before the session finished; what arrived was kept'));
    };

    const conn = new Connection(socket, limits, { onMessage, onClose });
    opts.signal?.addEventListener('abort', () => conn.fail('shutdown', 'cancelled by the user'), { once: true });

    let flags = 0;
    if (sends) flags |= HELLO_SENDS;
    if (receives) flags |= HELLO_RECEIVES;
    if (opts.dryRun) flags |= HELLO_DRY_RUN;
    conn.send({
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
    });
    conn.send({ type: FrameType.Recon, payload: recon.initiate() });
    if (slots.length > 4096) fail('usage', 'too many branches in one session (at most 4096)');
  });
}
