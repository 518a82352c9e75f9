/**
 * Helpers of the protocol suite (test/protocol): building histories quickly
 * through the engine API, computing collections by brute force (decoding
 * every stored item, independently of the index), servers in-process and as
 * child processes, and a raw socket peer that speaks frames by hand.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { type Socket, connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import { toHex } from '../../src/engine/hash.js';
import { EntryType, type Item, Kind, decodeItem, encodeInlineFile, encodeKey, encodeManifest, itemId } from '../../src/engine/items/format.js';
import { namesOf } from '../../src/engine/items/names.js';
import type { ClientOptions, Identity, RunningServer, ServerOptions } from '../../src/engine/protocol/api.js';
import { runClientSession } from '../../src/engine/protocol/client.js';
import type { Limits } from '../../src/engine/protocol/connection.js';
import { branchFilter } from '../../src/engine/security/patterns.js';
import { type ServerTuning, startServer } from '../../src/engine/protocol/server.js';
import { type TlsCredentials, credentialsFor } from '../../src/engine/security/certificate.js';
import { clientTlsOptions, serverTlsOptions } from '../../src/engine/security/tls.js';
import type { SessionSummary } from '../../src/shared/sync.js';
import { FrameDecoder, type Message, decodeMessage, encodeMessage } from '../../src/engine/protocol/frames.js';
import { ProtocolError } from '../../src/engine/protocol/wire.js';
import { checkDatabase } from '../../src/engine/store/maintenance.js';
import { ReadStore, WriteStore } from '../../src/engine/store/store.js';
import { type Signer, signCert } from '../../src/engine/workspace/commit.js';
import { CLI_BIN, PROJECT_ROOT, cliEnv } from './cli.js';
import { SeededRandom } from './random.js';
import { fixedSigner } from './store.js';
import { tempDir } from './temp.js';

// ------------------------------------------------------------------ databases

/** A new empty database file (created, migrated, closed); returns its path. */
export function newDbPath(prefix = 'netsync-net-'): string {
  const path = join(tempDir(prefix), 'test.db');
  WriteStore.open(path, { create: true }).close();
  return path;
}

/** Runs `fn` on a write handle of the database at `path`, then closes it. */
export function withStore<T>(path: string, fn: (store: WriteStore) => T): T {
  const store = WriteStore.open(path);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export interface HistoryOptions {
  commits: number;
  /** Fresh files per commit (each a distinct inline file). */
  filesPerCommit?: number;
  /** Bytes of each file (random, so incompressible). */
  fileSize?: number;
  seed?: number;
  /** Parent of the first commit, to continue an existing line of history. */
  parent?: Buffer;
  /** Fixed `date` cert values (so two builds of the same history give the same ids). */
  startDate?: number;
}

export interface History {
  manifests: Buffer[];
  /** Every item id the history added (files, manifests, certs, the key). */
  ids: Buffer[];
}

/**
 * A line of `commits` revisions on `branch`, built through the engine (every
 * item verified by `put`), in one transaction. Each revision holds its own
 * files (kept small: a manifest per commit, not a growing tree), and carries date, author, ancestor
 * (after the first) and branch certs: `filesPerCommit + 1 + 4` items each
 * (one less for the first), plus the signer's key once.
 * Deterministic for a given seed, signer and branch.
 */
export function buildHistory(store: WriteStore, signer: Signer, branch: string, opts: HistoryOptions): History {
  const rnd = new SeededRandom(opts.seed ?? 1);
  const perCommit = opts.filesPerCommit ?? 5;
  const fileSize = opts.fileSize ?? 64;
  const start = opts.startDate ?? Date.UTC(2004, 0, 1);
  const manifests: Buffer[] = [];
  const ids: Buffer[] = [];
  store.batch(() => {
    ids.push(store.put(encodeKey(signer.name, signer.pair.publicKey)).id);
    let parent = opts.parent ?? null;
    for (let c = 0; c < opts.commits; c++) {
      const entries: { path: string; type: EntryType; file?: Buffer }[] = [];
      for (let f = 0; f < perCommit; f++) {
        // A header naming branch/commit/file keeps contents distinct across histories.
        const content = Buffer.concat([Buffer.from(`${branch}/${opts.seed ?? 1}/${c}/${f}\n`), rnd.bytes(fileSize)]);
        const file = store.put(encodeInlineFile(content)).id;
        ids.push(file);
        entries.push({ path: `c${c}/f${f}`, type: EntryType.File, file });
      }
      entries.push({ path: `c${c}`, type: EntryType.Dir });
      const manifest = store.put(encodeManifest(entries)).id;
      ids.push(manifest);
      manifests.push(manifest);
      ids.push(signCert(store, signer, manifest, 'date', new Date(start + c * 60_000).toISOString()));
      ids.push(signCert(store, signer, manifest, 'author', signer.name));
      if (parent) ids.push(signCert(store, signer, manifest, 'ancestor', toHex(parent)));
      ids.push(signCert(store, signer, manifest, 'branch', branch));
      parent = manifest;
    }
  });
  return { manifests, ids };
}

/** Puts a second `branch` cert naming `branch` on each manifest (they join that branch too). */
export function addBranchCerts(store: WriteStore, signer: Signer, manifests: readonly Buffer[], branch: string): Buffer[] {
  return store.batch(() => {
    store.put(encodeKey(signer.name, signer.pair.publicKey));
    return manifests.map((m) => signCert(store, signer, m, 'branch', branch));
  });
}

/** Copies every item of `from` into `to` (storage order, so references come first); optionally only some ids. */
export function copyItems(from: WriteStore, to: WriteStore, only?: ReadonlySet<string>): number {
  let n = 0;
  to.batch(() => {
    for (const row of from.iterate()) {
      if (only && !only.has(toHex(row.id))) continue;
      if (to.put(row.data, row.id).inserted) n++;
    }
  });
  return n;
}

export const aliceSigner = (): Signer => fixedSigner('alice@example.org');
export const bobSigner = (): Signer => fixedSigner('bob@example.org');

// ------------------------------------------------------------------ sessions in-process

/** A signer as the secure channel's identity (the same Ed25519 key). */
export function identityOf(signer: Signer): Identity {
  return { name: signer.name, keyPair: signer.pair };
}

/**
 * Permissions that let everyone (any key, and anonymous clients) read and
 * write every branch: the protocol suite tests the exchange, not access
 * control (test/security does).
 */
export const OPEN_PERMISSIONS = 'read * *\nwrite * *\nread anonymous *\nwrite anonymous *\n';

/** A config folder holding a permissions file; returns both paths. */
export function serverConfig(permissions = OPEN_PERMISSIONS): { configDir: string; permissionsFile: string } {
  const configDir = tempDir('netsync-srvcfg-');
  const permissionsFile = join(configDir, 'permissions');
  writeFileSync(permissionsFile, permissions);
  return { configDir, permissionsFile };
}

/** `startServer` on 127.0.0.1, an ephemeral port, alice's key and open permissions. */
export function testServer(db: string, patterns: string[] = [], tuning: ServerTuning = {}, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({ db, host: '127.0.0.1', port: 0, patterns, identity: identityOf(aliceSigner()), ...serverConfig(), ...extra }, tuning);
}

/**
 * `runClientSession` against 127.0.0.1:port as bob, with a fresh config
 * folder (so the server's key is pinned on first use, whatever ran on that
 * port before). Defaults: sync, not a dry run, the whole diff listed.
 */
export function testClient(opts: Partial<ClientOptions> & { db: string; port: number; patterns: string[] }, limits?: Limits): Promise<SessionSummary> {
  return runClientSession(
    {
      host: '127.0.0.1',
      direction: 'sync',
      dryRun: false,
      listLimit: 100_000,
      identity: identityOf(bobSigner()),
      configDir: tempDir('netsync-clicfg-'),
      ...opts,
    },
    limits,
  );
}

// ------------------------------------------------------------------ brute force

/** Every stored item's id (hex). */
export function allIds(store: ReadStore): Set<string> {
  const out = new Set<string>();
  for (const row of store.iterate()) out.add(toHex(row.id));
  return out;
}

/**
 * A branch's collection computed from the items alone (docs/PRODUCT.md): manifests
 * with a `branch` cert naming it, their files and chunks, every cert on them
 * and the keys that signed those certs. Decodes every item; never reads the
 * index, so it checks the index and the protocol independently.
 */
export function bruteCollection(store: ReadStore, branch: string): Set<string> {
  const items = new Map<string, Item>();
  for (const row of store.iterate()) items.set(toHex(row.id), decodeItem(row.data));
  return collectionFrom(items, (b) => b === branch);
}

/** The union of the collections of every branch selected (brute force). */
export function bruteSelection(store: ReadStore, selects: (branch: string) => boolean): Set<string> {
  const items = new Map<string, Item>();
  for (const row of store.iterate()) items.set(toHex(row.id), decodeItem(row.data));
  return collectionFrom(items, selects);
}

/** What a session selects: the client's patterns and the server's offered patterns both select the branch. */
export function selector(clientPatterns: readonly string[], serverPatterns: readonly string[] = []): (branch: string) => boolean {
  const a = branchFilter(clientPatterns);
  const b = branchFilter(serverPatterns);
  return (branch) => a.matches(branch) && b.matches(branch);
}

function collectionFrom(items: Map<string, Item>, selects: (branch: string) => boolean): Set<string> {
  const manifests = new Set<string>();
  for (const item of items.values()) {
    if (item.kind === Kind.Cert && item.name === 'branch' && selects(item.value.toString('utf8'))) manifests.add(toHex(item.manifest));
  }
  const out = new Set<string>();
  // Everything a selected version names, down to the chunks: a revision's tree nodes and its
  // ancestors with theirs, a manifest's files (docs/FORMAT.md §9).
  const stack = [...manifests];
  for (let m = stack.pop(); m !== undefined; m = stack.pop()) {
    if (out.has(m)) continue;
    out.add(m);
    const item = items.get(m);
    if (item) for (const n of namesOf(item)) stack.push(toHex(n.id));
  }
  for (const [id, item] of items) {
    // Every cert on a selected manifest, but a `branch` cert only with the branch it names.
    if (item.kind === Kind.Cert && manifests.has(toHex(item.manifest)) && (item.name !== 'branch' || selects(item.value.toString('utf8')))) {
      out.add(id);
      out.add(toHex(item.key));
    }
  }
  return out;
}

/** A branch's members as the index holds them. */
export function memberIds(store: ReadStore, branch: string): Set<string> {
  const bid = store.branchId(branch);
  const out = new Set<string>();
  if (bid === null) return out;
  for (const id of store.members(bid)) out.add(toHex(id));
  return out;
}

export function union<T>(...sets: Iterable<T>[]): Set<T> {
  const out = new Set<T>();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

export function minus<T>(a: Iterable<T>, b: ReadonlySet<T>): Set<T> {
  const out = new Set<T>();
  for (const x of a) if (!b.has(x)) out.add(x);
  return out;
}

export function intersection<T>(a: Iterable<T>, b: ReadonlySet<T>): Set<T> {
  const out = new Set<T>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

/** Sorted arrays compare readably in expect().toEqual. */
export const sorted = (s: Iterable<string>): string[] => [...s].sort();

/** `db check` in-process: every item re-hashes and verifies, the index equals a fresh rebuild. */
export function checkClean(path: string): string[] {
  return withStore(path, (s) => checkDatabase(s).problems);
}

/** Snapshot of a database, for before/after comparisons. */
export interface DbSnapshot {
  all: Set<string>;
  branches: Map<string, Set<string>>;
}

export function snapshotDb(path: string): DbSnapshot {
  const store = ReadStore.open(path);
  try {
    const branches = new Map<string, Set<string>>();
    for (const b of store.branches()) branches.set(b.name, memberIds(store, b.name));
    return { all: allIds(store), branches };
  } finally {
    store.close();
  }
}

/** Bytes of the database file plus its write-ahead log (grows as transactions commit). */
export function dbBytes(path: string): number {
  let n = 0;
  for (const p of [path, `${path}-wal`]) if (existsSync(p)) n += statSync(p).size;
  return n;
}

/** Items stored, read through a fresh read-only handle. */
export function itemCount(path: string): number {
  const s = ReadStore.open(path);
  try {
    return s.itemCount();
  } finally {
    s.close();
  }
}

// ------------------------------------------------------------------ raw peers

export interface RawResult {
  /** Every frame the server sent, decoded (a frame that does not decode ends the list). */
  frames: Message[];
  /** Milliseconds from connect until the server closed the connection. */
  closedAfterMs: number;
  /** Bytes the socket received. */
  bytes: Buffer;
}

/**
 * A connection that speaks the protocol by hand, inside the secure channel
 * (TLS 1.3 with the protocol's ALPN, as an anonymous client) unless `tcp` is
 * set (then raw bytes go to the TLS listener itself). `send` takes messages
 * or raw bytes; `closed` resolves when the peer closes (or after
 * `timeoutMs`, with closedAfterMs = Infinity).
 */
export class RawPeer {
  readonly socket: Socket;
  readonly frames: Message[] = [];
  private readonly decoder = new FrameDecoder();
  private readonly received: Buffer[] = [];
  private decodeBroken = false;
  private readonly started = Date.now();
  readonly closed: Promise<RawResult>;
  private readonly connected: Promise<void>;
  private listeners: (() => void)[] = [];

  /**
   * `socket`: speak over a connection accepted elsewhere (a fake server's side) instead of connecting to `port`.
   * `credentials`: present this key in the TLS handshake (anonymous without).
   * `localAddress`: connect from this address (another of 127.0.0.0/8: an attacker apart from honest clients, for per-address budgets).
   */
  constructor(port: number, options: { timeoutMs?: number; tcp?: boolean; socket?: Socket; credentials?: TlsCredentials; localAddress?: string } = {}) {
    const host = '127.0.0.1';
    const from = options.localAddress ? { localAddress: options.localAddress } : {};
    this.socket =
      options.socket ??
      (options.tcp ? connectTcp({ host, port, ...from }) : connectTls({ host, port, ...from, ...clientTlsOptions(options.credentials ?? null) }));
    this.socket.setNoDelay(true);
    this.connected = options.socket
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          this.socket.once(options.tcp ? 'connect' : 'secureConnect', () => resolve());
          this.socket.once('error', reject);
          this.socket.once('close', () => reject(new Error('closed before the connection was ready')));
        });
    this.connected.catch(() => undefined);
    this.socket.on('data', (b: Buffer) => {
      this.received.push(b);
      if (this.decodeBroken) return;
      try {
        for (const body of this.decoder.push(b)) this.frames.push(decodeMessage(body));
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        this.decodeBroken = true;
      }
      for (const l of this.listeners.splice(0)) l();
    });
    this.closed = new Promise((resolve) => {
      const done = (ms: number) => {
        clearTimeout(timer);
        resolve({ frames: this.frames, closedAfterMs: ms, bytes: Buffer.concat(this.received) });
      };
      const timer = setTimeout(() => {
        done(Infinity);
        this.socket.destroy();
      }, options.timeoutMs ?? 10_000);
      this.socket.on('error', () => undefined);
      this.socket.on('close', () => {
        done(Date.now() - this.started);
        for (const l of this.listeners.splice(0)) l();
      });
    });
  }

  ready(): Promise<void> {
    return this.connected;
  }

  async send(m: Message | Buffer): Promise<void> {
    await this.connected;
    if (this.socket.destroyed) return;
    this.socket.write(Buffer.isBuffer(m) ? m : encodeMessage(m));
  }

  /** Resolves when a frame satisfying `pred` has arrived (or rejects after timeoutMs). */
  waitFor(pred: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('frame did not arrive')), timeoutMs);
      const check = () => {
        const m = this.frames.find(pred);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        } else if (this.socket.destroyed) {
          clearTimeout(timer);
          reject(new Error('connection closed before the frame arrived'));
        } else this.listeners.push(check);
      };
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface FakeServer {
  port: number;
  /** The server side of every accepted connection, in order. */
  peers: RawPeer[];
  close(): Promise<void>;
}

/**
 * A server that speaks the protocol by hand (to test what a client does with
 * a hostile server): TLS 1.3 with alice's key and the protocol's ALPN, then
 * `script` runs with the accepted connection as a RawPeer.
 */
export async function startFakeServer(script: (peer: RawPeer) => Promise<void>): Promise<FakeServer> {
  const credentials = await credentialsFor(aliceSigner().pair);
  const peers: RawPeer[] = [];
  const server = createTlsServer(serverTlsOptions(credentials, 10_000), (socket) => {
    const peer = new RawPeer(0, { socket, timeoutMs: 20_000 });
    peers.push(peer);
    script(peer).catch(() => socket.destroy());
  });
  server.on('tlsClientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    peers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of peers) p.destroy();
        server.close(() => resolve());
      }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until true or `timeoutMs` passes; returns whether it became true. */
export async function waitUntil(cond: () => boolean, timeoutMs = 10_000, everyMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

// ------------------------------------------------------------------ CLI processes

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or 128 + signal number style: null code → -1) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node bin/netsync.cjs ...args` without waiting for it. */
export function spawnCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: PROJECT_ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    exited,
  };
}

export interface ServeProcess extends CliProcess {
  port: number;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `netsync --db DB serve --bind 127.0.0.1:0 PATTERN...`; resolves once it prints its port. */
export async function startServe(db: string, patterns: readonly string[] = [], env: Record<string, string | undefined> = {}): Promise<ServeProcess> {
  const p = spawnCli(['--db', db, 'serve', '--bind', '127.0.0.1:0', ...patterns], env);
  let port = 0;
  const ok = await waitUntil(() => {
    const m = /serving .* on 127\.0\.0\.1:(\d+)/.exec(p.stdout());
    if (m) port = Number(m[1]);
    return port > 0 || p.child.exitCode !== null;
  }, 20_000);
  if (!ok || port === 0) {
    p.child.kill('SIGKILL');
    throw new Error(`serve did not start: ${p.stderr()}`);
  }
  return {
    ...p,
    port,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
      return p.exited;
    },
  };
}

/** Parses the `--json` line (the last line of stdout). */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** A raw id (hex) of an inline file with this content: handy to name files in assertions. */
export function inlineFileId(content: string | Buffer): string {
  return toHex(itemId(encodeInlineFile(typeof content === 'string' ? Buffer.from(content) : content)));
}
