/**
 * NetsyncService: the engine behind the one NetsyncApi contract. Plain Node
 * (no Electron, no React); hosts run it inside a worker thread
 * (worker.ts) so that hashing, SQLite and sockets never block a UI.
 * Every call returns a Result; no exception leaves this class.
 */
import { join, resolve } from 'node:path';
import type {
  AppStatus,
  BranchSummary,
  CheckoutSummary,
  DatabaseStatus,
  EventListener,
  ItemView,
  KeyInfo,
  LogEntry,
  NetsyncApi,
  NetsyncEvent,
  NewPeer,
  Peer,
  PeerChanges,
  Result,
  ServeOptions,
  ServerStatus,
} from '../../shared/api.js';
import type { SessionSummary } from '../../shared/sync.js';
import { VERSION } from '../cli/main.js';
import { fail } from '../errors.js';
import { KeyStore } from '../keys/keystore.js';
import { configDir as defaultConfigDir, defaultDatabasePath } from '../paths.js';
import { runClientSession } from '../protocol/client.js';
import { startServer } from '../protocol/server.js';
import { branchHistory, checkoutTo, databaseStatus, listBranches, openOrCreate, showItem } from './collection.js';
import { guard, refuse } from './errors.js';
import { generateKey, listKeys } from './keys.js';
import { PeerBook } from './peer-book.js';
import { type RunClientSession, SessionRunner } from './sessions.js';
import { ServerHost, type StartServer } from './server-host.js';

export interface ServiceOptions {
  /** The database `openDatabase()` opens when given no path. */
  defaultDatabase?: string;
  /** Keys and the peer list; defaults to the platform's (or NETSYNC_CONFIG_DIR). */
  configDir?: string;
  /** The protocol engine's entry points; tests pass fakes. */
  engine?: { runClientSession?: RunClientSession; startServer?: StartServer };
}

export class NetsyncService implements NetsyncApi {
  private db: string | null = null;
  private readonly configDir: string;
  private readonly defaultDatabase: string;
  private readonly keys: KeyStore;
  private readonly peers: PeerBook;
  private readonly sessions: SessionRunner;
  private readonly server: ServerHost;
  private readonly listeners = new Set<EventListener>();

  constructor(options: ServiceOptions = {}) {
    this.configDir = resolve(options.configDir ?? defaultConfigDir());
    this.defaultDatabase = resolve(options.defaultDatabase ?? defaultDatabasePath());
    this.keys = new KeyStore(join(this.configDir, 'keys'));
    this.peers = new PeerBook(join(this.configDir, 'peers.json'));
    this.sessions = new SessionRunner(options.engine?.runClientSession ?? runClientSession, (e) => this.emit(e), this.configDir);
    this.server = new ServerHost(options.engine?.startServer ?? startServer, (status) => this.emit({ type: 'server-status', status }), this.configDir);
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the server and aborts sessions; for a host that is shutting down. */
  async dispose(): Promise<void> {
    this.sessions.cancelAll();
    await this.server.stop().catch(() => undefined);
  }

  openDatabase(path?: string): Promise<Result<DatabaseStatus>> {
    const target = resolve(path ?? this.defaultDatabase);
    return guard(() => {
      const status = openOrCreate(target);
      this.db = target;
      this.emit({ type: 'collection-changed' });
      return status;
    }, target);
  }

  getStatus(): Promise<Result<AppStatus>> {
    return guard(() => ({
      database: this.db ? databaseStatus(this.db) : null,
      configDir: this.configDir,
      server: this.server.status(),
      sessions: this.sessions.list(),
      version: VERSION,
    }));
  }

  listBranches(): Promise<Result<BranchSummary[]>> {
    return guard(() => listBranches(this.openDb()));
  }

  log(branch: string): Promise<Result<LogEntry[]>> {
    return guard(() => branchHistory(this.openDb(), branch));
  }

  show(id: string): Promise<Result<ItemView>> {
    return guard(() => showItem(this.openDb(), id));
  }

  checkout(target: string, dir: string): Promise<Result<CheckoutSummary>> {
    return guard(() => checkoutTo(this.openDb(), target, dir), dir);
  }

  listPeers(): Promise<Result<Peer[]>> {
    return guard(() => this.peers.list());
  }

  addPeer(peer: NewPeer): Promise<Result<Peer>> {
    return guard(() => this.peers.add(peer));
  }

  updatePeer(peerId: string, changes: PeerChanges): Promise<Result<Peer>> {
    return guard(() => this.peers.update(peerId, changes));
  }

  removePeer(peerId: string): Promise<Result<null>> {
    return guard(() => {
      if (this.sessions.list().some((s) => s.peerId === peerId)) refuse('busy', 'a session with that peer is running; cancel it first');
      this.peers.remove(peerId);
      return null;
    });
  }

  diff(peerId: string): Promise<Result<SessionSummary>> {
    return this.runSession(peerId, true);
  }

  sync(peerId: string): Promise<Result<SessionSummary>> {
    return this.runSession(peerId, false);
  }

  cancel(sessionId: string): Promise<Result<boolean>> {
    return guard(() => this.sessions.cancel(sessionId));
  }

  startServer(options: ServeOptions): Promise<Result<ServerStatus>> {
    return guard(() => this.server.start(this.openDb(), options), options.bind);
  }

  stopServer(): Promise<Result<ServerStatus>> {
    return guard(() => this.server.stop());
  }

  serverStatus(): Promise<Result<ServerStatus>> {
    return guard(() => this.server.status());
  }

  listKeys(): Promise<Result<KeyInfo[]>> {
    return guard(() => listKeys(this.keys, this.db));
  }

  generateKey(name: string, passphrase?: string): Promise<Result<KeyInfo>> {
    return guard(() => {
      const key = generateKey(this.keys, this.db, name, passphrase);
      if (this.db) this.emit({ type: 'collection-changed' });
      return key;
    });
  }

  private async runSession(peerId: string, dryRun: boolean): Promise<Result<SessionSummary>> {
    const started = await guard(() => ({ peer: this.peers.get(peerId), db: this.openDb() }));
    if (!started.ok) return started;
    const { peer, db } = started.value;
    const outcome = await guard(() => this.sessions.run(peer, db, dryRun));
    if (!outcome.ok) return outcome;
    const o = outcome.value;
    const at = new Date().toISOString();
    const last = o.ok
      ? { at, dryRun, direction: o.info.direction, itemsSent: o.summary.itemsSent, itemsReceived: o.summary.itemsReceived, bytesSent: o.summary.bytesSent, bytesReceived: o.summary.bytesReceived }
      : { at, dryRun, direction: o.info.direction, itemsSent: 0, itemsReceived: 0, bytesSent: 0, bytesReceived: 0, error: o.error };
    await guard(() => this.peers.recordSession(peerId, last));
    if (o.ok && o.summary.itemsReceived > 0) this.emit({ type: 'collection-changed' });
    return o.ok ? { ok: true, value: o.summary } : { ok: false, error: o.error };
  }

  private openDb(): string {
    if (!this.db) fail('db-missing', 'no database is open; open or create one first');
    return this.db;
  }

  private emit(event: NetsyncEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener must not break the session that emitted.
      }
    }
  }
}
