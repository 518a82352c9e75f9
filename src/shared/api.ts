/**
 * The one contract between the UI and the engine. Both hosts (the Electron
 * main process over IPC, the headless web host over a WebSocket) implement
 * `NetsyncApi`; the renderer talks to nothing else. Every value here is plain
 * JSON-safe data, and this file imports neither Node nor DOM APIs.
 */
import type { Direction, ProgressEvent, SessionSummary } from './sync.js';

export type { Direction, ProgressEvent, SessionSummary } from './sync.js';

// ------------------------------------------------------------------ results

/** A stable code for logs and tests, and one clear sentence for the user. */
export interface ApiError {
  code: string;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err<T = never>(code: string, message: string): Result<T> {
  return { ok: false, error: { code, message } };
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
  version: string;
}

export interface BranchSummary {
  name: string;
  /** Items in the branch's collection. */
  items: number;
  /** Hex hash of the branch's index root: equal roots, equal collections. */
  root: string;
}

export interface CertView {
  name: string;
  value: string;
  /** Name of the signing key, or '?' when the key is not in the database. */
  signer: string;
  signerKey: string;
}

export interface LogEntry {
  manifest: string;
  date: string | null;
  author: string | null;
  changelog: string | null;
  parents: string[];
  certs: CertView[];
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
  | { kind: 'cert'; id: string; manifest: string; name: string; value: string; signer: string; signerKey: string }
  | { kind: 'key'; id: string; name: string; publicKey: string };

export interface CheckoutSummary {
  manifest: string;
  dir: string;
  files: number;
  dirs: number;
  bytes: number;
}

export interface LastSession {
  at: string;
  dryRun: boolean;
  direction: Direction;
  itemsSent: number;
  itemsReceived: number;
  bytesSent: number;
  bytesReceived: number;
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
}

export type PeerState = 'idle' | 'connecting' | 'refining' | 'transferring' | 'done' | 'error' | 'cancelled';

export interface SessionInfo {
  sessionId: string;
  peerId: string;
  direction: Direction;
  dryRun: boolean;
  startedAt: string;
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
}

// ------------------------------------------------------------------ the calls

export interface NetsyncApi {
  /** Opens (creating when missing) the database at `path`, or the host's default. */
  openDatabase(path?: string): Promise<Result<DatabaseStatus>>;
  getStatus(): Promise<Result<AppStatus>>;
  listBranches(): Promise<Result<BranchSummary[]>>;
  log(branch: string): Promise<Result<LogEntry[]>>;
  /** An item by id or unique hex prefix (6+ digits). */
  show(id: string): Promise<Result<ItemView>>;
  /** Writes a branch head or manifest into `dir` (absolute, new or empty). */
  checkout(target: string, dir: string): Promise<Result<CheckoutSummary>>;
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
  generateKey(name: string, passphrase?: string): Promise<Result<KeyInfo>>;
}

export type ApiMethod = keyof NetsyncApi;
export type ApiArgs<M extends ApiMethod> = Parameters<NetsyncApi[M]>;
export type ApiValue<M extends ApiMethod> = Awaited<ReturnType<NetsyncApi[M]>> extends Result<infer T> ? T : never;

/** Every call, in one list: hosts register exactly these, adapters build exactly these. */
export const API_METHODS = [
  'openDatabase',
  'getStatus',
  'listBranches',
  'log',
  'show',
  'checkout',
  'listPeers',
  'addPeer',
  'updatePeer',
  'removePeer',
  'diff',
  'sync',
  'cancel',
  'startServer',
  'stopServer',
  'serverStatus',
  'listKeys',
  'generateKey',
] as const satisfies readonly ApiMethod[];

// A compile-time check that the list above names every call of NetsyncApi.
type MissingFromList = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
const listIsComplete: MissingFromList extends never ? true : never = true;
void listIsComplete;

// ------------------------------------------------------------------ events

export type NetsyncEvent =
  | { type: 'session-started'; session: SessionInfo }
  /** The engine's progress for one session; `progress.seq` counts from 1 without gaps. */
  | { type: 'session-progress'; sessionId: string; peerId: string; progress: ProgressEvent }
  | { type: 'session-finished'; sessionId: string; peerId: string; summary?: SessionSummary; error?: ApiError }
  | { type: 'peer-status'; peerId: string; state: PeerState; error?: ApiError }
  | { type: 'server-status'; status: ServerStatus }
  /** Items arrived or the database changed: lists of branches and logs are stale. */
  | { type: 'collection-changed' };

export type EventListener = (event: NetsyncEvent) => void;

/** What a UI holds: the calls plus the event stream. */
export interface NetsyncClient extends NetsyncApi {
  onEvent(listener: EventListener): () => void;
}

/**
 * Builds the named calls of NetsyncApi from one transport function; used by
 * adapters that speak a message protocol (WebSocket, worker thread).
 */
export function apiFromInvoker(invoke: (method: ApiMethod, args: unknown[]) => Promise<Result<unknown>>): NetsyncApi {
  const api: Partial<Record<ApiMethod, (...args: unknown[]) => Promise<Result<unknown>>>> = {};
  for (const method of API_METHODS) api[method] = (...args: unknown[]) => invoke(method, trimTrailingUndefined(args));
  return api as unknown as NetsyncApi;
}

/** JSON turns a trailing `undefined` argument into `null`; leave it out instead. */
function trimTrailingUndefined(args: unknown[]): unknown[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return args.slice(0, n);
}
