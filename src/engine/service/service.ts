/**
 * NetsyncService: the engine behind the one NetsyncApi contract. Plain Node
 * (no Electron, no React); hosts run it inside a worker thread
 * (worker.ts) so that hashing, SQLite and sockets never block a UI.
 * Every call returns a Result; no exception leaves this class.
 */
import { join, resolve } from 'node:path';
import type {
  AppStatus,
  AutoSyncStatus,
  BranchSummary,
  MergeOutcome,
  CheckoutSummary,
  CommitPreview,
  CommitSummary,
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
import {
  branchHistory,
  checkoutTo,
  commitFolder,
  databaseStatus,
  headCount,
  listBranches,
  mergeHeads,
  openOrCreate,
  previewCommit,
  showItem,
} from './collection.js';
import { signerTrust, trustKey, untrustKey } from './content-trust.js';
import { DiffLists } from './diff-lists.js';
import { guard, refuse } from './errors.js';
import { Identities } from './identity.js';
import { type AutoSyncTiming, KeepInSync } from './keep-in-sync.js';
import { generateKey, importKey, listKeys } from './keys.js';
import { ClientBook, knownKeys } from './known-keys.js';
import { PeerBook, lastSession } from './peer-book.js';
import { readPermissions, writePermissions } from './permissions-file.js';
import { ServerPrompts } from './server-prompts.js';
import { type RunClientSession, SessionRunner } from './sessions.js';
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
  /** The automatic sync's interval and backoff (tests shorten them). */
  autoSync?: AutoSyncTiming;
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
  private readonly keepInSync: KeepInSync;
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
    this.keepInSync = new KeepInSync({
      peers: this.peers,
      sync: (peerId, auto) => this.runSession(peerId, false, auto),
      emit: (e) => this.emit(e),
      timing: options.autoSync,
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the server and aborts sessions; for a host that is shutting down. */
  async dispose(): Promise<void> {
    const scheduled = this.keepInSync.close();
    this.sessions.cancelAll();
    await scheduled;
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
      this.keepInSync.refresh(true);
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
      autoSync: this.keepInSync.status(),
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

  previewCommit(dir: string, branch: string): Promise<Result<CommitPreview>> {
    return guard(() => previewCommit(this.openDb(), dir, branch), dir);
  }

  commitFolder(dir: string, branch: string, message: string, key?: string): Promise<Result<CommitSummary>> {
    return guard(async () => {
      const summary = await commitFolder(this.openDb(), dir, branch, message, this.identities.forSigning(key));
      // The Collection screen and the peers kept in sync hear of it now, not at the watch's next look.
      this.watch?.check();
      return summary;
    }, dir);
  }

  pickFolder(_title: string): Promise<Result<string | null>> {
    // The engine has no window: the desktop app's main process answers this call itself (src/main).
    return guard(() => refuse('usage', 'this window has no folder picker; type the folder path'));
  }

  listPeers(): Promise<Result<Peer[]>> {
    return guard(() => this.peers.list());
  }

  addPeer(peer: NewPeer): Promise<Result<Peer>> {
    return guard(() => this.peers.add(peer));
  }

  updatePeer(peerId: string, changes: PeerChanges): Promise<Result<Peer>> {
    return guard(() => {
      const peer = this.peers.update(peerId, changes);
      this.keepInSync.refresh(this.db !== null);
      return peer;
    });
  }

  removePeer(peerId: string): Promise<Result<null>> {
    return guard(() => {
      if (this.sessions.list().some((s) => s.peerId === peerId)) refuse('busy', 'a session with that peer is running; cancel it first');
      this.peers.remove(peerId);
      this.keepInSync.refresh(this.db !== null);
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

  setAutoSyncPaused(paused: boolean): Promise<Result<AutoSyncStatus>> {
    return guard(() => this.keepInSync.setPaused(paused));
  }

  syncAllNow(): Promise<Result<AutoSyncStatus>> {
    return guard(() => this.keepInSync.syncAllNow());
  }

  private async runSession(peerId: string, dryRun: boolean, auto = false): Promise<Result<SessionSummary>> {
    // Who we are is settled first: a locked key or a missing choice is answered before anything connects.
    const started = await guard(() => ({ peer: this.peers.get(peerId), db: this.openDb(), identity: this.identities.forClient() }));
    if (!started.ok) return started;
    const { peer, db, identity } = started.value;
    const outcome = await guard(() => this.sessions.run(peer, db, dryRun, identity, auto));
    if (!outcome.ok) return outcome;
    const o = outcome.value;
    await guard(() => this.peers.recordSession(peerId, lastSession(o, dryRun)));
    // What arrived shows at once, not at the watch's next look.
    this.watch?.check();
    if (o.ok && !dryRun) this.tellHeads(peerId, db, o.summary);
    return o.ok ? { ok: true, value: o.summary } : { ok: false, error: o.error };
  }

  /**
   * The heads of the branches a session brought versions of: a second head
   * means someone committed concurrently, which a window notifies. Only
   * after sessions that received versions (a local commit joins every head,
   * so forks arrive only from peers), so no change costs a history scan.
   */
  private tellHeads(peerId: string, db: string, summary: SessionSummary): void {
    const branches = new Set(summary.weLack.groups.filter((g) => (g.kind === 'revision' || g.kind === 'manifest') && g.count > 0).map((g) => g.branch));
    for (const branch of branches) {
      try {
        this.emit({ type: 'branch-heads', peerId, branch, heads: headCount(db, branch) });
      } catch {
        // Counting heads is for a notice: a failed read loses the notice, never the session's result.
      }
    }
  }

  /** One watch, of the open database: its changes reach every window as `collection-changed`, with the branches that changed. */
  private watchDatabase(path: string): void {
    if (this.watch?.path === path) return;
    this.watch?.close();
    this.watch = CollectionWatch.open(path);
    this.watch.subscribe(({ branches }) => {
      this.emit({ type: 'collection-changed', branches: branches.map((b) => ({ name: b.name, items: b.items, root: b.root, heads: b.heads })) });
      this.keepInSync.collectionChanged(branches.map((b) => b.name));
    });
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
