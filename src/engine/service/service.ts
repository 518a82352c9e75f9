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
  MergeOutcome,
  CheckoutSummary,
  DatabaseStatus,
  DiffPage,
  DiffSideName,
  EventListener,
  IdentityChoice,
  IdentityStatus,
  ItemView,
  KeyInfo,
  KeyTrustChange,
  KnownKey,
  LastSession,
  LogEntry,
  NetsyncApi,
  NetsyncEvent,
  NewPeer,
  Peer,
  PeerChanges,
  PermissionsFile,
  Result,
  ServeOptions,
  ServerStatus,
  TransferRecord,
  TrustedServer,
} from '../../shared/api.js';
import { parseAddress } from '../../shared/address.js';
import type { SessionSummary } from '../../shared/sync.js';
import { VERSION } from '../version.js';
import { fail } from '../errors.js';
import { KeyStore } from '../keys/keystore.js';
import { configDir as defaultConfigDir, defaultDatabasePath } from '../paths.js';
import { runClientSession } from '../protocol/client.js';
import { startServer } from '../protocol/server.js';
import { formatFingerprint, parseFingerprint } from '../security/fingerprint.js';
import { KnownServers, serverAddress } from '../security/known-servers.js';
import { CollectionWatch } from '../store/collection-watch.js';
import { branchHistory, checkoutTo, databaseStatus, listBranches, mergeHeads, openOrCreate, showItem } from './collection.js';
import { signerTrust, trustKey, untrustKey } from './content-trust.js';
import { DiffLists } from './diff-lists.js';
import { guard, refuse } from './errors.js';
import { Identities } from './identity.js';
import { generateKey, importKey, listKeys } from './keys.js';
import { ClientBook, knownKeys } from './known-keys.js';
import { PeerBook } from './peer-book.js';
import { readPermissions, writePermissions } from './permissions-file.js';
import { ServerPrompts } from './server-prompts.js';
import { type RunClientSession, type SessionOutcome, SessionRunner } from './sessions.js';
import { ServerHost, type StartServer } from './server-host.js';
import { TransferLog } from './transfer-log.js';

export interface ServiceOptions {
  /** The database `openDatabase()` opens when given no path. */
  defaultDatabase?: string;
  /** Keys and the peer list; defaults to the platform's (or NETSYNC_CONFIG_DIR). */
  configDir?: string;
  /** The protocol engine's entry points; tests pass fakes. */
  engine?: { runClientSession?: RunClientSession; startServer?: StartServer };
  /** How long a first-contact question waits for an answer before it refuses (tests shorten it). */
  promptTimeoutMs?: number;
}

export class NetsyncService implements NetsyncApi {
  private db: string | null = null;
  private readonly configDir: string;
  private readonly defaultDatabase: string;
  private readonly keys: KeyStore;
  private readonly peers: PeerBook;
  private readonly identities: Identities;
  private readonly prompts: ServerPrompts;
  private readonly diffLists = new DiffLists();
  private readonly sessions: SessionRunner;
  private readonly server: ServerHost;
  private readonly transfers: TransferLog;
  private readonly clients: ClientBook;
  /** Follows the open database's changes from any source (store/collection-watch.ts). */
  private watch: CollectionWatch | null = null;
  private readonly listeners = new Set<EventListener>();

  constructor(options: ServiceOptions = {}) {
    this.configDir = resolve(options.configDir ?? defaultConfigDir());
    this.defaultDatabase = resolve(options.defaultDatabase ?? defaultDatabasePath());
    this.keys = new KeyStore(join(this.configDir, 'keys'));
    this.peers = new PeerBook(join(this.configDir, 'peers.json'));
    this.identities = new Identities(this.keys, join(this.configDir, 'identity.json'));
    this.prompts = new ServerPrompts((e) => this.emit(e), options.promptTimeoutMs);
    this.transfers = new TransferLog(join(this.configDir, 'transfers.json'));
    this.clients = new ClientBook(join(this.configDir, 'clients.json'));
    this.sessions = new SessionRunner({
      runClientSession: options.engine?.runClientSession ?? runClientSession,
      emit: (e) => this.emit(e),
      configDir: this.configDir,
      askServer: (peer, address, fingerprint, signal) => this.prompts.ask(peer, address, fingerprint, signal),
      diffLists: this.diffLists,
      transfers: this.transfers,
    });
    this.server = new ServerHost(
      options.engine?.startServer ?? startServer,
      (status) => this.emit({ type: 'server-status', status }),
      this.configDir,
      (fingerprint) => this.clients.seen(fingerprint),
    );
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the server and aborts sessions; for a host that is shutting down. */
  async dispose(): Promise<void> {
    this.sessions.cancelAll();
    this.prompts.closeAll();
    await this.server.stop().catch(() => undefined);
    this.watch?.close();
    this.watch = null;
  }

  openDatabase(path?: string): Promise<Result<DatabaseStatus>> {
    const target = resolve(path ?? this.defaultDatabase);
    return guard(() => {
      const status = openOrCreate(target);
      this.db = target;
      this.watchDatabase(target);
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
      prompts: this.prompts.list(),
      version: VERSION,
    }));
  }

  listBranches(): Promise<Result<BranchSummary[]>> {
    return guard(() => listBranches(this.openDb()));
  }

  log(branch: string): Promise<Result<LogEntry[]>> {
    return guard(() => branchHistory(this.openDb(), branch, signerTrust(this.configDir)));
  }

  show(id: string): Promise<Result<ItemView>> {
    return guard(() => showItem(this.openDb(), id, signerTrust(this.configDir)));
  }

  merge(branch: string): Promise<Result<MergeOutcome>> {
    return guard(() => {
      const { name, keyPair } = this.identities.forServer();
      return mergeHeads(this.openDb(), branch, { name, pair: keyPair });
    });
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
      this.diffLists.forgetPeer(peerId);
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
    return guard(() => this.server.start(this.openDb(), options, this.identities.forServer()), options.bind);
  }

  stopServer(): Promise<Result<ServerStatus>> {
    return guard(() => this.server.stop());
  }

  serverStatus(): Promise<Result<ServerStatus>> {
    return guard(() => this.server.status());
  }

  listKeys(): Promise<Result<KeyInfo[]>> {
    return guard(() => listKeys(this.keys, this.db, signerTrust(this.configDir)));
  }

  generateKey(name: string, passphrase?: string): Promise<Result<KeyInfo>> {
    return guard(() => {
      const { info, pair } = generateKey(this.keys, this.db, name, passphrase);
      // The user just typed the passphrase: asking for it again at the first sync would be noise.
      if (passphrase) this.identities.remember(name, pair);
      this.watch?.check();
      this.emitIdentity();
      return info;
    });
  }

  importKey(text: string): Promise<Result<KeyInfo>> {
    return guard(() => {
      const key = importKey(this.keys, this.openDb(), text, signerTrust(this.configDir));
      this.watch?.check();
      return key;
    });
  }

  getIdentity(): Promise<Result<IdentityStatus>> {
    return guard(() => this.identities.status());
  }

  setIdentity(choice: IdentityChoice): Promise<Result<IdentityStatus>> {
    return guard(() => this.emitIdentity(this.identities.choose(choice)));
  }

  unlockKey(name: string, passphrase: string): Promise<Result<IdentityStatus>> {
    return guard(() => this.emitIdentity(this.identities.unlock(name, passphrase)));
  }

  answerServerPrompt(promptId: string, accept: boolean): Promise<Result<boolean>> {
    return guard(() => this.prompts.answer(promptId, accept));
  }

  trustServer(address: string, fingerprint: string): Promise<Result<TrustedServer>> {
    return guard(() => {
      const target = parseAddress(address);
      const fp = parseFingerprint(fingerprint);
      if (!target || !fp) refuse('usage', 'give a server address (HOST:PORT) and a fingerprint of 64 hex digits');
      const pinned = serverAddress(target.host, target.port);
      const before = new KnownServers(this.configDir).pin(pinned, fp);
      return { address: pinned, fingerprint: formatFingerprint(fp), replaced: before && before !== fp ? formatFingerprint(before) : null };
    });
  }

  trustKey(keyId: string): Promise<Result<KeyTrustChange>> {
    return guard(() => this.emitKeyTrust(trustKey(this.configDir, this.keys, this.db, keyId)));
  }

  untrustKey(keyId: string): Promise<Result<KeyTrustChange>> {
    return guard(() => this.emitKeyTrust(untrustKey(this.configDir, this.keys, this.db, keyId)));
  }

  diffItems(sessionId: string, side: DiffSideName, offset: number, limit: number, branch?: string): Promise<Result<DiffPage>> {
    return guard(() => this.diffLists.page(sessionId, side, offset, limit, branch));
  }

  getPermissions(): Promise<Result<PermissionsFile>> {
    return guard(() => readPermissions(this.configDir));
  }

  setPermissions(text: string): Promise<Result<PermissionsFile>> {
    return guard(() => {
      const saved = writePermissions(this.configDir, text);
      this.server.permissionsFixed();
      return saved;
    });
  }

  listKnownKeys(): Promise<Result<KnownKey[]>> {
    return guard(() => knownKeys(listKeys(this.keys, this.db, signerTrust(this.configDir)), this.clients.list()));
  }

  listTransfers(): Promise<Result<TransferRecord[]>> {
    return guard(() => this.transfers.list());
  }

  private async runSession(peerId: string, dryRun: boolean): Promise<Result<SessionSummary>> {
    // Who we are is settled first: a locked key or a missing choice is answered before anything connects.
    const started = await guard(() => ({ peer: this.peers.get(peerId), db: this.openDb(), identity: this.identities.forClient() }));
    if (!started.ok) return started;
    const { peer, db, identity } = started.value;
    const outcome = await guard(() => this.sessions.run(peer, db, dryRun, identity));
    if (!outcome.ok) return outcome;
    const o = outcome.value;
    await guard(() => this.peers.recordSession(peerId, lastSession(o, dryRun)));
    // What arrived shows at once, not at the watch's next look.
    this.watch?.check();
    return o.ok ? { ok: true, value: o.summary } : { ok: false, error: o.error };
  }

  /** One watch, of the open database: its changes reach every window as `collection-changed`, with the branches that changed. */
  private watchDatabase(path: string): void {
    if (this.watch?.path === path) return;
    this.watch?.close();
    this.watch = CollectionWatch.open(path);
    this.watch.subscribe(({ branches }) =>
      this.emit({ type: 'collection-changed', branches: branches.map((b) => ({ name: b.name, items: b.items, root: b.root, heads: b.heads })) }),
    );
  }

  private emitIdentity(status = this.identities.status()): IdentityStatus {
    this.emit({ type: 'identity-changed', identity: status });
    return status;
  }

  /** Open logs, manifests and key lists re-mark that key's certs (in every window). */
  private emitKeyTrust(change: KeyTrustChange): KeyTrustChange {
    if (change.changed) this.emit({ type: 'key-trust-changed', keyId: change.keyId, trusted: change.trusted });
    return change;
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

/** What a peer remembers of its last session: enough to say, after a restart, whether anything was left or blocked. */
function lastSession(o: SessionOutcome, dryRun: boolean): LastSession {
  const base = { at: new Date().toISOString(), dryRun, direction: o.info.direction };
  if (!o.ok) return { ...base, itemsSent: 0, itemsReceived: 0, bytesSent: 0, bytesReceived: 0, error: o.error };
  const s = o.summary;
  return {
    ...base,
    itemsSent: s.itemsSent,
    itemsReceived: s.itemsReceived,
    bytesSent: s.bytesSent,
    bytesReceived: s.bytesReceived,
    weLack: s.weLack.count,
    theyLack: s.theyLack.count,
    ...(s.refused?.length ? { refused: s.refused } : {}),
    ...(s.unmatchedPatterns?.length ? { unmatchedPatterns: s.unmatchedPatterns } : {}),
    ...(s.identity ? { identity: s.identity } : {}),
    ...(s.converged === undefined ? {} : { converged: s.converged }),
  };
}
