/**
 * The listening side (docs/PROTOCOL.md §Server). Serves many sessions at
 * once on one database handle; every session is independent and stateless,
 * and one that misbehaves is closed without touching the others.
 *
 * Every session runs inside TLS 1.3 (docs/SECURITY.md): the server presents
 * its key's certificate, the client its own or none (anonymous), and what
 * the client may read and write is decided from its key and the permissions
 * file, re-read at the start of every session.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { NetsyncError, fail } from '../errors.js';
import { describeSystemError } from '../system-errors.js';
import { configDir as defaultConfigDir } from '../paths.js';
import { pushRefusal } from '../security/admission.js';
import { credentialsFor, peerPublicKey } from '../security/certificate.js';
import { formatFingerprint } from '../security/fingerprint.js';
import { defaultIdentity } from '../security/identity.js';
import { type Access, PERMISSIONS_FILE, Permissions } from '../security/permissions.js';
import { ALPN, serverTlsOptions } from '../security/tls.js';
import { Reconciler } from '../recon/reconciler.js';
import { WriteStore } from '../store/store.js';
import type { RunningServer, ServerOptions, ServerStats } from './api.js';
import { type Budgets, DEFAULT_BUDGETS, type SessionAccount, ServerLedger, type Startup, sourceOf } from './budgets.js';
import { Connection, DEFAULT_LIMITS, type Limits } from './connection.js';
import { Exchange, WHOLE_DATA_MAX, WHOLE_PAGE } from './exchange.js';
import {
  encodeMessage,
  errorMessage,
  FrameType,
  HELLO_DRY_RUN,
  HELLO_EMPTY,
  HELLO_RECEIVES,
  HELLO_SENDS,
  type Hello,
  type Message,
  PROTOCOL_VERSION,
  RefuseReason,
  WELCOME_EMPTY,
  WELCOME_IN_SYNC,
} from './frames.js';
import { type BranchFilter, branchFilter } from '../security/patterns.js';
import { ProgressTracker } from './progress.js';
import { sessionKey, slotFor } from './slots.js';
import { ProtocolError } from './wire.js';

export interface ServerTuning {
  limits?: Limits;
  /** Shorthand for budgets.maxSessions. */
  maxSessions?: number;
  /** Budgets other than the defaults (protocol/budgets.ts). */
  budgets?: Partial<Budgets>;
}

interface Live {
  conn: Connection;
  exchange: Exchange | null;
  account: SessionAccount;
  /** What WELCOME refused the client, for the log: `read BRANCH`, `write BRANCH`. */
  refused: string[];
}

/**
 * How long close() lets sessions in flight finish before it ends them with
 * ERROR shutdown (storing what they received first), unless told otherwise.
 * `serve` gives none on SIGTERM: a session may be in the middle of an
 * attacker's 65,536-record OFFER, and it must stop within 2 s whatever its
 * sessions are doing (docs/SECURITY.md §7).
 */
export const SHUTDOWN_GRACE_MS = 1000;

/** A connection refused for a budget before it became a session is said once a second per address, not once per connection. */
const REFUSAL_LOG_MS = 1000;

export interface LocalServer extends RunningServer {
  /**
   * Serves one session over a stream that is already open and authenticated,
   * with the client's key (null: anonymous), exactly as a connection accepted
   * by the TLS listener is served (which calls it). Tests feed it in-memory
   * streams to run many sessions fast (test/reliability/fuzz.test.ts).
   */
  serveStream(stream: Duplex, remote: string, clientKey: Buffer | null): void;
}

export async function startServer(opts: ServerOptions, tuning: ServerTuning = {}): Promise<LocalServer> {
  const config = opts.configDir ?? defaultConfigDir();
  const identity = opts.identity ?? defaultIdentity(config);
  if (!identity) fail('key', `a server needs a key and ${join(config, 'keys')} has none; create one with "netsync key generate NAME"`);
  const serverKey = identity.keyPair.publicKey;
  const permissionsFile = opts.permissionsFile ?? join(config, PERMISSIONS_FILE);
  Permissions.load(permissionsFile); // a mistake in the file stops the start, with its line number
  const offer = branchFilter(opts.patterns);
  const limits = tuning.limits ?? DEFAULT_LIMITS;
  const credentials = await credentialsFor(identity.keyPair, config);
  const store = WriteStore.open(opts.db, { onReindex: opts.onReindex });
  const budgets: Budgets = { ...DEFAULT_BUDGETS, ...tuning.budgets, ...(tuning.maxSessions ? { maxSessions: tuning.maxSessions } : {}) };
  const ledger = new ServerLedger(budgets);
  /** Connections in their TLS handshake, by remote address and port. */
  const startups = new Map<string, { startup: Startup; socket: Socket }>();
  const refusalLogged = new Map<string, number>();
  const live = new Set<Live>();
  const stats: ServerStats = { connected: 0, sessions: 0, itemsSent: 0, itemsReceived: 0 };
  let closing = false;

  const server: Server = createServer(serverTlsOptions(credentials, limits.handshakeMs), (socket) => {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    startups.get(remote)?.startup.end(false);
    startups.delete(remote);
    let clientKey: Buffer | null;
    try {
      if (socket.alpnProtocol !== ALPN) fail('protocol', `the client did not ask for ${ALPN} (ALPN)`);
      clientKey = peerPublicKey(socket);
    } catch (e) {
      opts.onEvent?.({ type: 'refused', remote, reason: (e as Error).message });
      socket.destroy();
      return;
    }
    serveStream(socket, remote, clientKey);
  });
  // Before TLS: a connection is a startup, within the budgets of connections in their handshake
  // (in all, per address, and none from a penalised address), closed at once past them.
  server.on('connection', (socket: Socket) => {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const admitted = closing ? 'the server is shutting down' : ledger.startup(sourceOf(remote));
    if (typeof admitted === 'string') {
      logRefusal(remote, admitted);
      socket.destroy();
      return;
    }
    startups.set(remote, { startup: admitted, socket });
    // Closed before its handshake ended (a TLS error, a timeout, the peer left): a penalty for its address.
    socket.once('close', () => {
      startups.get(remote)?.startup.end(true);
      startups.delete(remote);
    });
  });
  // A failed handshake (no TLS, TLS < 1.3, a certificate whose key the client does not hold) never becomes a session.
  server.on('tlsClientError', (e, socket) => {
    opts.onEvent?.({ type: 'refused', remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: e.message });
    socket.destroy(); // node:tls does not close the socket after a handshake timeout: silent peers would pile up
  });
  // A last bound behind the ledger's (which closes connections with a reason).
  server.maxConnections = budgets.maxSessions + budgets.maxWaitingSessions + budgets.maxStartups + 16;

  function logRefusal(remote: string, reason: string): void {
    const source = sourceOf(remote);
    const now = Date.now();
    if (now - (refusalLogged.get(source) ?? 0) < REFUSAL_LOG_MS) return;
    refusalLogged.set(source, now);
    if (refusalLogged.size > 4096) refusalLogged.clear();
    opts.onEvent?.({ type: 'refused', remote, reason });
  }

  /** Permissions are read afresh for each session: an edit applies to the next session, no restart. */
  function sessionAccess(clientKey: Buffer | null): Access {
    let permissions: Permissions;
    try {
      permissions = Permissions.load(permissionsFile);
    } catch (e) {
      opts.onEvent?.({ type: 'permissions-error', message: (e as Error).message });
      permissions = Permissions.none(permissionsFile); // fail closed
    }
    return permissions.accessFor(clientKey, serverKey);
  }

  function serveStream(stream: Duplex, remote: string, clientKey: Buffer | null): void {
    if (closing) {
      stream.destroy();
      return;
    }
    let entry: Live | null = null;
    const account = ledger.session(sourceOf(remote), clientKey !== null, (reason) => entry?.conn.fail('over-budget', reason));
    if (typeof account === 'string') {
      // Said inside the channel, so the client reads why (not a bare reset).
      logRefusal(remote, account);
      stream.on('error', () => undefined);
      stream.end(encodeMessage(errorMessage('over-budget', account)));
      setTimeout(() => stream.destroy(), 1000).unref();
      return;
    }
    entry = serveSocket(stream, remote, sessionAccess(clientKey), account);
  }

  function serveSocket(socket: Duplex, remote: string, access: Access, account: SessionAccount): Live {
    (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    const sessionId = randomUUID();
    const progress = new ProgressTracker(sessionId);
    const entry: Live = { conn: null as unknown as Connection, exchange: null, account, refused: [] };
    const client = access.client ? formatFingerprint(access.client) : 'anonymous';
    let pending: Message[] | null = null;
    const onMessage = (m: Message) => {
      if (m.type === FrameType.Error) return entry.conn.destroy();
      if (entry.exchange) return entry.exchange.handle(m);
      if (pending) {
        pending.push(m); // the client's first RECON, pipelined behind its HELLO
        return;
      }
      if (m.type !== FrameType.Hello) return entry.conn.fail('unexpected', 'expected HELLO');
      pending = [];
      welcome(entry, m.hello, progress, access);
      const queued = pending;
      pending = null;
      for (const q of queued) (entry.exchange as Exchange | null)?.handle(q);
    };
    const onClose = (error: ProtocolError | null) => {
      entry.exchange?.flushReceived();
      account.close();
      live.delete(entry);
      stats.connected = live.size;
      stats.itemsSent += progress.sent.items;
      stats.itemsReceived += progress.received.items;
      const storeError = entry.exchange?.storeError;
      opts.onEvent?.({
        type: 'session-end',
        sessionId,
        remote,
        client,
        itemsSent: progress.sent.items,
        itemsReceived: progress.received.items,
        ...(entry.refused.length ? { refused: entry.refused } : {}),
        ...(error ? { errorCode: error.code, error: error.message } : storeError ? { errorCode: 'internal', error: storeError.message } : {}),
      });
    };
    entry.conn = new Connection(
      socket,
      limits,
      {
        onMessage: (m) => {
          try {
            onMessage(m);
          } catch (e) {
            if (e instanceof ProtocolError) throw e;
            if (e instanceof NetsyncError) throw new ProtocolError(e.code === 'permission' ? 'permission' : 'internal', e.message);
            throw e;
          }
        },
        onClose,
      },
      { firstFrameMax: budgets.helloFrameBytes, onBuffered: (bytes) => account.setBuffered(bytes), idleMs: () => account.idleMs(limits) },
    );
    live.add(entry);
    stats.connected = live.size;
    stats.sessions++;
    opts.onEvent?.({ type: 'session-start', sessionId, remote, client });
    return entry;
  }

  function welcome(entry: Live, hello: Hello, progress: ProgressTracker, access: Access): void {
    const { conn } = entry;
    if (hello.maxVersion < PROTOCOL_VERSION) {
      return conn.fail(
        'version',
        `the client speaks protocol version ${hello.maxVersion}, this server ${PROTOCOL_VERSION} (format v4: trees and revisions); upgrade Netsync on the client`,
      );
    }
    if (hello.minVersion > PROTOCOL_VERSION) {
      return conn.fail(
        'version',
        `no common protocol version (the client speaks ${hello.minVersion}..${hello.maxVersion}, this server ${PROTOCOL_VERSION}); upgrade Netsync on the server`,
      );
    }
    let ask: BranchFilter;
    try {
      ask = branchFilter(hello.patterns);
    } catch (e) {
      return conn.fail('malformed', (e as Error).message);
    }
    const branches = store.branches();
    // Matching is linear in each name (patterns.ts), but a HELLO of 64 long patterns and 4,096 long names still costs a second.
    const names = (list: readonly { name: string }[]) => list.reduce((n, b) => n + b.name.length, 0);
    entry.account.matching(ask.stepsPerChar * (names(hello.slots) + names(branches)));
    // Reading is decided before anything else: a branch the client may not read
    // is refused whether or not the server has it, so the answer says nothing of its content.
    const reason = (name: string) =>
      !ask.matches(name) || !offer.matches(name) ? RefuseReason.NotOffered : !access.mayRead(name) ? RefuseReason.NoPermission : null;
    const selects = (name: string) => reason(name) === null;
    const slots = hello.slots.map((s) => slotFor(store, s.name, !selects(s.name)));
    const refused = hello.slots.flatMap((s, slot) => {
      const why = reason(s.name);
      return why === null ? [] : [{ slot, reason: why }];
    });
    const announced = new Set(hello.slots.map((s) => s.name));
    const extra = branches.filter((b) => selects(b.name) && !announced.has(b.name)).map((b) => b.name);
    const inSync = refused.length === 0 && extra.length === 0 && slots.every((s, i) => s.tree.node(0, 0).hash.equals(hello.slots[i]!.root));
    // A client that sends learns which of its readable slots it may not write
    // (only where the roots differ: where they are equal there is nothing to push).
    const clientSends = (hello.flags & HELLO_SENDS) !== 0;
    const readOnly = clientSends
      ? slots.flatMap((s, slot) =>
          !s.refused && !access.mayWrite(s.name) && !s.tree.node(0, 0).hash.equals(hello.slots[slot]!.root) ? [{ slot, reason: RefuseReason.ReadOnly }] : [],
        )
      : [];
    for (const r of [...refused, ...readOnly]) {
      if (r.reason !== RefuseReason.NotOffered) entry.refused.push(`${r.reason === RefuseReason.ReadOnly ? 'write' : 'read'} ${hello.slots[r.slot]!.name}`);
    }
    // An empty database lacks everything a client pushes: it may send whole slots instead of
    // offers. Said only to a client that may write here (it tells that nothing is stored).
    const emptyHere =
      !inSync && clientSends && (hello.flags & HELLO_DRY_RUN) === 0 && slots.some((s) => !s.refused && access.mayWrite(s.name)) && store.isEmpty();
    conn.send({
      type: FrameType.Welcome,
      welcome: {
        version: PROTOCOL_VERSION,
        flags: (inSync ? WELCOME_IN_SYNC : 0) | (emptyHere ? WELCOME_EMPTY : 0),
        refused: [...refused, ...readOnly],
        extra,
      },
    });
    if (inSync) return conn.end();
    const recon = new Reconciler({ role: 'responder', slots: slots.map((s) => s.tree), sessionKey: sessionKey(hello.nonce) });
    for (const name of extra) slots.push(slotFor(store, name));
    const exchange = new Exchange({
      store,
      conn,
      slots,
      recon,
      maySend: (hello.flags & HELLO_RECEIVES) !== 0,
      mayReceive: (hello.flags & HELLO_SENDS) !== 0,
      dryRun: (hello.flags & HELLO_DRY_RUN) !== 0,
      finalCheck: (hello.flags & HELLO_SENDS) !== 0 && (hello.flags & HELLO_RECEIVES) !== 0 && (hello.flags & HELLO_DRY_RUN) === 0,
      progress,
      listLimit: 0,
      mayReceiveSlot: (slot) => access.mayWrite(slots[slot]!.name),
      askedWhole: emptyHere,
      refuseReceived: (id, data) => pushRefusal(store, access, id, data),
      budget: entry.account,
    });
    entry.exchange = exchange;
    // The extra slots: the client has none of their items. One whose database is empty and that
    // receives gets them without offers (sendWhole, docs/PROTOCOL.md §4.6); others get offers.
    const sendWhole = (hello.flags & (HELLO_EMPTY | HELLO_RECEIVES | HELLO_DRY_RUN)) === (HELLO_EMPTY | HELLO_RECEIVES);
    const whole = slots.slice(hello.slots.length).map((s, i) => ({
      slot: hello.slots.length + i,
      members: sendWhole ? store.membersWithMeta(s.bid!, WHOLE_PAGE, WHOLE_DATA_MAX) : store.membersWithMeta(s.bid!),
    }));
    if (whole.length > 0) (sendWhole ? exchange.sendWhole(whole) : exchange.offerAll(whole)).catch((e: Error) => conn.fail('internal', e.message));
    exchange.whenDone.then(() => conn.end());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${opts.host}:${opts.port}`;
      reject(new NetsyncError('io', describeSystemError(e, { where })?.text ?? `cannot listen on ${where}: ${e.message}`));
    });
    server.listen({ host: opts.host, port: opts.port, ipv6Only: false }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.onEvent?.({ type: 'listening', host: opts.host, port });

  return {
    host: opts.host,
    port,
    stats: () => ({ ...stats, connected: live.size }),
    serveStream,
    async close(graceMs = SHUTDOWN_GRACE_MS) {
      closing = true;
      server.close();
      for (const { socket } of startups.values()) socket.destroy(); // no session yet: nothing to finish
      const deadline = Date.now() + graceMs;
      while (live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      for (const entry of live) entry.conn.fail('shutdown', 'the server is shutting down');
      store.close();
      opts.onEvent?.({ type: 'closed' });
    },
  };
}
