/**
 * The one contract between the UI and the engine. Both hosts (the Electron
 * main process over IPC, the headless web host over a WebSocket) implement
 * `NetsyncApi`; the renderer talks to nothing else. Every value here is plain
 * JSON-safe data, and this file imports neither Node nor DOM APIs.
 */
import type { DiffGroup, DiffItem, Direction, ItemsBatch, ProgressEvent, RefusedSlot, SessionIdentity, SessionSummary } from './sync.js';

export type { DiffGroup, DiffItem, Direction, ItemsBatch, ProgressEvent, RefusedSlot, SessionIdentity, SessionSummary } from './sync.js';

// ------------------------------------------------------------------ results

/**
 * Every code an ApiError can carry: what logs, tests and the UI compare
 * against (a typo fails type-checking). The engine's own codes
 * (src/engine/errors.ts) reach the API through a total mapping in
 * src/engine/service/errors.ts. A new code is one line here.
 */
export type ApiErrorCode =
  // The call and the path to the engine
  /** A call's name, arguments or WebSocket envelope failed the contract's check (api-validate.ts). */
  | 'bad-request'
  /** A call came from a page or frame that is not Netsync's own (the Electron host's sender check). */
  | 'forbidden'
  /** The engine could not be reached: its worker stopped or did not start, the host failed to pass the call on, or the page lost its host. */
  | 'engine-unavailable'
  /** A value the argument check let through is still wrong for the engine (a pattern, a folder that is not empty, an ambiguous id). */
  | 'usage'
  /** A session with that peer, or the server, is already running. */
  | 'busy'
  /** No such item, peer, key, comparison or file. */
  | 'not-found'
  /** The user, or a closing app, cancelled the session. */
  | 'cancelled'
  /** An unexpected failure inside the engine (a bug): the message carries the detail. */
  | 'internal'
  // The database
  /** No database is open, or its file is missing. */
  | 'db-missing'
  /** The database was written by a newer Netsync. */
  | 'db-newer'
  /** The database contradicts itself (a missing chunk, an item of the wrong kind). */
  | 'db-corrupt'
  /** Reading or writing failed: a full disk, a cut connection. */
  | 'io'
  // Items
  /** An item's bytes do not match its id or do not decode: it failed verification. */
  | 'bad-item'
  /** A cert's signature does not verify. */
  | 'bad-signature'
  /** An item names another item that is not there. */
  | 'missing-reference'
  /** An item, a frame or a list is over its stated limit. */
  | 'too-large'
  // Keys and identity
  /** A key is missing, unusable or not accepted (a server without a key, a peer that presented none). */
  | 'key'
  /** The key needed is sealed with a passphrase: `key` names it (then `unlockKey`). */
  | 'key-locked'
  /** The passphrase given does not open the key (`key` names it). */
  | 'bad-passphrase'
  /** Several keys exist and none is chosen for sessions (then `setIdentity`). */
  | 'identity-required'
  // Peers and the network
  /** The peer's address cannot be reached: nothing listens, or the name does not resolve. */
  | 'unreachable'
  /** The peer did not answer in time. */
  | 'timeout'
  /** The peer broke the protocol or ended the session early. */
  | 'protocol'
  /** Refused by permissions: the peer's file does not let us, our server's file is unusable, or this user may not use an address or path. */
  | 'permission'
  /** The user refused a server's key on first contact, or nobody answered in time. */
  | 'server-refused'
  /** A pinned server presented another key: `serverKey` has both fingerprints (then, once checked with its owner, `trustServer`). */
  | 'server-key-changed'
  // Serving
  /** Another program already listens on the address to serve on. */
  | 'address-in-use'
  /** The address to serve on is not one of this machine's. */
  | 'address-unavailable'
  /** A permissions text has wrong lines: `lines` lists every one; nothing was saved. */
  | 'bad-permissions';

/**
 * A stable code for logs and tests, and one clear sentence for the user.
 * A few codes carry the facts the UI needs to offer the way out (see
 * ApiErrorCode): `key`, `serverKey`, `lines`.
 */
export interface ApiError {
  code: ApiErrorCode;
  message: string;
  key?: string;
  serverKey?: ServerKeyChange;
  lines?: LineProblem[];
}

export interface ServerKeyChange {
  /** HOST:PORT as the pin is keyed. */
  address: string;
  /** Fingerprints, 64 hex digits. */
  pinned: string;
  presented: string;
}

export interface LineProblem {
  /** 1-based. */
  line: number;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err<T = never>(code: ApiErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

const TRY_AGAIN = 'try again, and restart Netsync if it keeps failing';

/**
 * What every host and adapter answers when the engine cannot be reached:
 * one sentence, what failed (with the `cause` when there is one), then what
 * to do.
 */
export function engineUnavailable<T = never>(what: string, { cause, whatToDo = TRY_AGAIN }: { cause?: unknown; whatToDo?: string } = {}): Result<T> {
  const why = cause === undefined ? '' : ` (${cause instanceof Error ? cause.message : String(cause)})`;
  return err('engine-unavailable', `${what}${why}; ${whatToDo}.`);
}

// ------------------------------------------------------------------ values

export interface DatabaseStatus {
  path: string;
  items: number;
  branches: number;
}

export interface AppStatus {
  /** Null until `openDatabase` succeeded. */
  database: DatabaseStatus | null;
  /** Where private keys and the peer list live (never inside the database, which syncs). */
  configDir: string;
  server: ServerStatus;
  /** Sessions (diffs and syncs) running now. */
  sessions: SessionInfo[];
  /** First-contact questions waiting for an answer (a page reloaded meanwhile shows them again). */
  prompts: ServerPrompt[];
  /** The peers kept in sync and their schedule. */
  autoSync: AutoSyncStatus;
  version: string;
}

export interface BranchSummary {
  name: string;
  /** Items in the branch's collection. */
  items: number;
  /** Hex hash of the branch's index root: equal roots, equal collections. */
  root: string;
  /** Its heads: more than one after concurrent commits, until `netsync merge` joins them. */
  heads?: number;
}

/** What `merge` did: a revision joining two heads, or the conflicts that kept it from committing. */
export interface MergeOutcome {
  branch: string;
  /** The merge revision (hex), null when conflicts kept it from being committed. */
  revision: string | null;
  /** Heads the branch has now. */
  heads: number;
  conflicts: { kind: string; path: string }[];
}

export interface CertView {
  name: string;
  value: string;
  /** Name of the signing key, or '?' when the key is not in the database. */
  signer: string;
  signerKey: string;
  /**
   * The signer's key is in the local trust list or is one of the user's own
   * keys. Every stored cert's signature is valid; this says whether the user
   * chose to believe its signer (docs/SECURITY.md §5).
   */
  trusted: boolean;
}

export interface LogEntry {
  manifest: string;
  date: string | null;
  author: string | null;
  changelog: string | null;
  parents: string[];
  certs: CertView[];
  /** A head of its branch: no version of the branch names it as a parent. */
  head?: boolean;
}

export type EntryKind = 'file' | 'exec' | 'dir';

export interface ManifestEntryView {
  path: string;
  type: EntryKind;
  /** File item id (hex); absent for folders. */
  file?: string;
  size?: number;
}

export type ItemView =
  | { kind: 'manifest'; id: string; entries: ManifestEntryView[]; certs: CertView[] }
  | { kind: 'file'; id: string; size: number; chunks: number }
  | { kind: 'chunk'; id: string; size: number }
  | { kind: 'cert'; id: string; manifest: string; name: string; value: string; signer: string; signerKey: string; trusted: boolean }
  | { kind: 'key'; id: string; name: string; publicKey: string };

export interface CheckoutSummary {
  manifest: string;
  dir: string;
  files: number;
  dirs: number;
  bytes: number;
}

/** One entry of a commit's preview. */
export interface PreviewEntry {
  /** '/'-separated, relative to the folder. */
  path: string;
  type: EntryKind;
  /** Bytes now (for a removed entry: in the version compared with); 0 for a folder. */
  size: number;
  /** Bytes in the version compared with, for a changed file. */
  before?: number;
}

/** The most entries a preview lists per kind of change (the counts are always whole). */
export const PREVIEW_LIST_MAX = 500;

/** What committing a folder to a branch would change, before anything is written. */
export interface CommitPreview {
  dir: string;
  branch: string;
  /** The manifest compared with: the branch's head (its newest, with several); null for a new branch. */
  base: string | null;
  /** The branch's heads now: with several, the commit names each as its ancestor and so joins them. */
  heads: number;
  counts: { added: number; changed: number; removed: number; unchanged: number };
  /** Each at most PREVIEW_LIST_MAX entries, in path order. */
  added: PreviewEntry[];
  changed: PreviewEntry[];
  removed: PreviewEntry[];
  /** The folder's files and their bytes. */
  files: number;
  bytes: number;
}

export interface CommitSummary {
  manifest: string;
  branch: string;
  files: number;
  bytes: number;
  /** False when the folder equals the branch's head: nothing was written. */
  changed: boolean;
  /** The key that signed it. */
  signer: string;
}

export interface LastSession {
  at: string;
  dryRun: boolean;
  direction: Direction;
  itemsSent: number;
  itemsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Branches the server would not sync, wholly or one way (a blocked direction). */
  refused?: RefusedSlot[];
  /** Include patterns that selected no branch the server offers to this identity. */
  unmatchedPatterns?: string[];
  /** Who the session was to the server. */
  identity?: SessionIdentity;
  /** False when a two-way sync still ended with a difference. */
  converged?: boolean;
  /** What was left to fetch / to send, found by that session. */
  weLack?: number;
  theyLack?: number;
  error?: ApiError;
}

export interface Peer {
  id: string;
  name: string;
  /** HOST or HOST:PORT as typed; the default port is 4691. */
  address: string;
  /** Remembered per peer: what the Sync button does. */
  direction: Direction;
  /** Branch globs to exchange (`org.example.*`). */
  include: string[];
  /** Branch globs left out even when included. */
  exclude: string[];
  /** Synced by itself: when the collection changes, on an interval, with backoff while unreachable (absent: no). */
  keepInSync?: boolean;
  /** The interval of a peer kept in sync; absent: 60 s. */
  intervalSeconds?: number;
  last?: LastSession;
}

export interface NewPeer {
  name: string;
  address: string;
}

export interface PeerChanges {
  name?: string;
  address?: string;
  direction?: Direction;
  include?: string[];
  exclude?: string[];
  keepInSync?: boolean;
  intervalSeconds?: number;
}

/** Where the automatic sync of one peer stands. */
export type AutoSyncState = 'waiting' | 'syncing' | 'backing-off' | 'paused';

export interface AutoSyncPeer {
  peerId: string;
  state: AutoSyncState;
  /** When the next session starts (ISO time); null while one runs or while paused. */
  nextAt: string | null;
  /** Failed sessions in a row: the wait before the next doubles with each, up to 5 minutes. */
  failures: number;
  /** Why the latest session failed, while it is the latest outcome. */
  lastError?: ApiError;
  /** When a session last went well (ISO time). */
  lastOkAt?: string;
}

/** The automatic sync: paused or not, and the peers kept in sync (those with `keepInSync`). */
export interface AutoSyncStatus {
  paused: boolean;
  peers: AutoSyncPeer[];
}

export type PeerState = 'idle' | 'connecting' | 'refining' | 'transferring' | 'done' | 'error' | 'cancelled';

export interface SessionInfo {
  sessionId: string;
  peerId: string;
  direction: Direction;
  dryRun: boolean;
  startedAt: string;
  /** Started by the automatic sync of a peer kept in sync, not by a click. */
  auto?: boolean;
}

export interface ServeOptions {
  /** HOST:PORT to listen on, e.g. 0.0.0.0:4691. */
  bind: string;
  /** Branch globs offered; empty offers every branch. */
  patterns: string[];
}

export interface ServerConnection {
  sessionId: string;
  remote: string;
  since: string;
}

export interface ServerStatus {
  running: boolean;
  /** The address actually bound (the port is real even when 0 was asked for). */
  host?: string;
  port?: number;
  patterns: string[];
  startedAt?: string;
  connections: ServerConnection[];
  sessions: number;
  itemsSent: number;
  itemsReceived: number;
  /** The key the server proves it is, while running: what first-contact prompts show to clients. */
  identity?: { name: string; fingerprint: string };
  /** Why the server stopped or could not start. */
  error?: ApiError;
}

export interface KeyInfo {
  name: string;
  /** The key item's id (hex): what certs name as signer. */
  id: string;
  publicKey: string;
  /** The private half is in this machine's key folder. */
  hasPrivate: boolean;
  /** The private half is sealed with a passphrase. */
  encrypted: boolean;
  /** The public key item is stored in the open database. */
  inDatabase: boolean;
  /** SHA-256 of the public key in 16 groups of 4 hex digits: what to share and compare. */
  fingerprint: string;
  /** `netsync-public-key-v1 NAME BASE64`: what another user imports (here or with `netsync key import`). */
  exportText: string;
  /** Certs it signs show as trusted: one of the user's own keys, or in the local trust list. */
  trusted: boolean;
}

/** What `trustKey` / `untrustKey` did to the local trust list. */
export interface KeyTrustChange {
  /** The key item's id (hex). */
  keyId: string;
  name: string;
  /** Certs it signed show as trusted now (one of the user's own keys always does). */
  trusted: boolean;
  /** False when the list already said so and was left as it was. */
  changed: boolean;
}

/** Who client sessions are: one of our keys, or nobody (anonymous). A server always needs a key. */
export type IdentityChoice = { kind: 'key'; name: string } | { kind: 'anonymous' };

export interface IdentityStatus {
  /**
   * Who sessions run as: the choice remembered in the config folder; with no
   * choice, the only key (anonymous when there is none). Null when several
   * keys exist and none was chosen.
   */
  active: IdentityChoice | null;
  /** `active` was chosen by the user (not a default). */
  chosen: boolean;
  /** Keys whose passphrase was given during this run of the app; held by the engine, never written. */
  unlocked: string[];
}

/** A server met for the first time: its key is pinned only if the user accepts it. */
export interface ServerPrompt {
  id: string;
  peerId: string;
  peerName: string;
  /** HOST:PORT as pinned. */
  address: string;
  /** The key's fingerprint, 16 groups of 4 hex digits. */
  fingerprint: string;
  /** When the question refuses by itself (ISO time). */
  expiresAt: string;
}

export type PromptOutcome = 'accepted' | 'refused' | 'timeout' | 'cancelled';

export interface PermissionsFile {
  path: string;
  /** The file's text ('' when there is no file: only the server's own key may act). */
  text: string;
  exists: boolean;
  rules: number;
}

export type DiffSideName = 'weLack' | 'theyLack';

/** A slice of one side of a session's missing-item list, from the same data as its counts. */
export interface DiffPage {
  /** Rows in this list (of the branch asked for, or all). */
  total: number;
  offset: number;
  items: DiffItem[];
}

/**
 * What one batch of moved items took off the peer's latest diff (the dry run
 * whose rows a window lists, `sessionId`): per side, the count and bytes of
 * the batch's ids found among that diff's rows, by branch and kind. Rows of
 * `weLack` moved when their id is in the batch's `received`, rows of
 * `theyLack` when it is in `sent`: the same ids, so counts and ticks agree.
 */
export interface DiffTaken {
  sessionId: string;
  weLack: DiffGroup[];
  theyLack: DiffGroup[];
}

/**
 * A session as the Transfers screen keeps it across reloads and restarts:
 * the last 100, in `<config>/transfers.json` (not in the database, which
 * syncs).
 */
export interface TransferRecord {
  info: SessionInfo;
  /** The peer as it was then (it may have been renamed or removed since). */
  peerName: string;
  address: string;
  endedAt: string;
  /** The engine's last progress report: items and bytes each way against what was due; null when none came. */
  progress: ProgressEvent | null;
  /** How it ended: its figures (the lists of items left out), or why it failed. */
  summary?: SessionSummary;
  error?: ApiError;
}

/** Where a key a permissions rule may name is known from. */
export type KnownKeySource = 'own' | 'database' | 'client';

/** A key to pick in the permissions editor. */
export interface KnownKey {
  /** 16 groups of 4 hex digits: what a rule names. */
  fingerprint: string;
  /** Its name, where a key item or the key folder gives one; null for a client known only by its fingerprint. */
  name: string | null;
  sources: KnownKeySource[];
  /** When a client with this key last began a session with this app's server. */
  lastSeen?: string;
}

export interface TrustedServer {
  address: string;
  fingerprint: string;
  /** The fingerprint this pin replaced, if any. */
  replaced: string | null;
}

// ------------------------------------------------------------------ the calls

/**
 * A new call is one method here plus its argument schema (`argSchemas` in
 * api-validate.ts, which the compiler holds to this interface); the list of
 * calls, both hosts, the preload and the adapters follow from those two.
 */
export interface NetsyncApi {
  /** Opens (creating when missing) the database at `path`, or the host's default. */
  openDatabase(path?: string): Promise<Result<DatabaseStatus>>;
  getStatus(): Promise<Result<AppStatus>>;
  listBranches(): Promise<Result<BranchSummary[]>>;
  log(branch: string): Promise<Result<LogEntry[]>>;
  /** An item by id or unique hex prefix (6+ digits). */
  show(id: string): Promise<Result<ItemView>>;
  /**
   * Joins two heads of `branch` (the two newest) by a three-way merge, signed
   * with the identity's key; on conflicts nothing is committed and each is listed.
   */
  merge(branch: string): Promise<Result<MergeOutcome>>;
  /** Writes a branch head or manifest into `dir` (absolute, new or empty). */
  checkout(target: string, dir: string): Promise<Result<CheckoutSummary>>;
  /** What committing the folder `dir` (absolute) to `branch` would add, change and remove against the branch's head; nothing is written. */
  previewCommit(dir: string, branch: string): Promise<Result<CommitPreview>>;
  /** Commits the folder `dir` (absolute) as the new head of `branch`, signed by the active identity's key (or `key`). */
  commitFolder(dir: string, branch: string, message: string, key?: string): Promise<Result<CommitSummary>>;
  /**
   * Asks the user for a folder with the system's picker: the absolute path, or null when they cancelled.
   * Only the desktop app has one; the web host answers 'usage' (type the path instead).
   */
  pickFolder(title: string): Promise<Result<string | null>>;
  listPeers(): Promise<Result<Peer[]>>;
  addPeer(peer: NewPeer): Promise<Result<Peer>>;
  updatePeer(peerId: string, changes: PeerChanges): Promise<Result<Peer>>;
  removePeer(peerId: string): Promise<Result<null>>;
  /** The missing-item diff both ways; nothing moves. */
  diff(peerId: string): Promise<Result<SessionSummary>>;
  /** A session in the peer's remembered direction; resolves when it ends. */
  sync(peerId: string): Promise<Result<SessionSummary>>;
  /** Aborts a running diff or sync; false when no such session runs. */
  cancel(sessionId: string): Promise<Result<boolean>>;
  startServer(options: ServeOptions): Promise<Result<ServerStatus>>;
  stopServer(): Promise<Result<ServerStatus>>;
  serverStatus(): Promise<Result<ServerStatus>>;
  listKeys(): Promise<Result<KeyInfo[]>>;
  /** A new key; one with a passphrase stays unlocked for this run of the app. */
  generateKey(name: string, passphrase?: string): Promise<Result<KeyInfo>>;
  /** Stores someone's public key (`netsync-public-key-v1 NAME BASE64`) in the open database. */
  importKey(text: string): Promise<Result<KeyInfo>>;
  getIdentity(): Promise<Result<IdentityStatus>>;
  /** Chooses who sessions run as; remembered in the config folder. */
  setIdentity(choice: IdentityChoice): Promise<Result<IdentityStatus>>;
  /** Unseals a key with its passphrase and keeps it in the engine's memory until the app quits. */
  unlockKey(name: string, passphrase: string): Promise<Result<IdentityStatus>>;
  /** Answers a 'confirm-server' event; false when the question is no longer open. */
  answerServerPrompt(promptId: string, accept: boolean): Promise<Result<boolean>>;
  /** Pins (or re-pins, after a key change checked with its owner) a server's key. */
  trustServer(address: string, fingerprint: string): Promise<Result<TrustedServer>>;
  /** Trusts the signatures of a key known to the database or the key folder (`keyId`: the key item's id, 64 hex digits). */
  trustKey(keyId: string): Promise<Result<KeyTrustChange>>;
  /** Stops trusting a key's signatures; the user's own keys stay trusted. */
  untrustKey(keyId: string): Promise<Result<KeyTrustChange>>;
  /** A page of a session's missing items (`sessionId` of its summary), optionally of one branch. */
  diffItems(sessionId: string, side: DiffSideName, offset: number, limit: number, branch?: string): Promise<Result<DiffPage>>;
  getPermissions(): Promise<Result<PermissionsFile>>;
  /** Replaces the server's permissions file; a wrong line refuses the whole text (`lines`). Applies from the next session. */
  setPermissions(text: string): Promise<Result<PermissionsFile>>;
  /** The keys a permissions rule may name: the user's own, the database's key items, the clients that connected to this app's server. */
  listKnownKeys(): Promise<Result<KnownKey[]>>;
  /** The sessions kept for the Transfers screen, newest first. */
  listTransfers(): Promise<Result<TransferRecord[]>>;
  /** Pauses (no new session starts; one running ends) or resumes the automatic sync of every peer kept in sync. */
  setAutoSyncPaused(paused: boolean): Promise<Result<AutoSyncStatus>>;
  /** Syncs every peer now: those kept in sync through their schedule (backoff or not), the others once. */
  syncAllNow(): Promise<Result<AutoSyncStatus>>;
}

export type ApiMethod = keyof NetsyncApi;
export type ApiArgs<M extends ApiMethod> = Parameters<NetsyncApi[M]>;
export type ApiValue<M extends ApiMethod> = Awaited<ReturnType<NetsyncApi[M]>> extends Result<infer T> ? T : never;

// ------------------------------------------------------------------ events

export type NetsyncEvent =
  | { type: 'session-started'; session: SessionInfo }
  /** The engine's progress for one session; `progress.seq` counts from 1 without gaps. */
  | { type: 'session-progress'; sessionId: string; peerId: string; progress: ProgressEvent }
  /**
   * Items a running session moved since its previous batch (at most every 100 ms, at most
   * ITEMS_BATCH_MAX ids; `items.seq` counts from 1 without gaps), and what they took off
   * the peer's latest diff when there is one.
   */
  | { type: 'session-items'; sessionId: string; peerId: string; items: ItemsBatch; diff?: DiffTaken }
  | { type: 'session-finished'; sessionId: string; peerId: string; summary?: SessionSummary; error?: ApiError }
  | { type: 'peer-status'; peerId: string; state: PeerState; error?: ApiError }
  | { type: 'server-status'; status: ServerStatus }
  /**
   * The database changed, from any source (a sync, this app's server, the
   * command line in another process): lists of branches and logs are stale.
   * `branches`: those whose collection changed, with their new roots and
   * counts; absent when anything may have changed (another database opened).
   */
  | { type: 'collection-changed'; branches?: BranchSummary[] }
  /** A server met for the first time: show its fingerprint, answer with `answerServerPrompt`. */
  | { type: 'confirm-server'; prompt: ServerPrompt }
  /** The question is closed (answered here or elsewhere, timed out, or its session cancelled). */
  | { type: 'confirm-server-closed'; promptId: string; outcome: PromptOutcome }
  /** The active identity, the unlocked keys or the key list changed. */
  | { type: 'identity-changed'; identity: IdentityStatus }
  /** The local trust list changed: certs signed by `keyId` show as `trusted` now. */
  | { type: 'key-trust-changed'; keyId: string; trusted: boolean }
  /** The automatic sync's schedule changed: paused or resumed, a kept peer syncing, waiting or backing off. */
  | { type: 'auto-sync'; status: AutoSyncStatus }
  /** A session brought new versions of `branch` from `peerId`: it has `heads` heads now (more than one: concurrent commits, both kept). */
  | { type: 'branch-heads'; peerId: string; branch: string; heads: number };

export type EventListener = (event: NetsyncEvent) => void;

/** What a UI holds: the calls plus the event stream. */
export interface NetsyncClient extends NetsyncApi {
  onEvent(listener: EventListener): () => void;
}
