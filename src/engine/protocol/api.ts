/**
 * The protocol engine's entry points, as used by the CLI and the desktop
 * service. Implemented in client.ts and server.ts.
 */
import { DEFAULT_SYNC_PORT } from '../../shared/address.js';
import type { Direction, ItemsBatch, ProgressEvent } from '../../shared/sync.js';
import type { Identity } from '../security/identity.js';

export type { Identity };

export interface ClientOptions {
  /** Path of the local database. */
  db: string;
  host: string;
  port: number;
  /** Branch globs; a leading '!' excludes. */
  patterns: string[];
  direction: Direction;
  /** Compute the missing-item diff both ways; move nothing. */
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Ids of the items moved either way, batched with the progress events (shared/sync.ts ItemsBatch). */
  onItems?: (batch: ItemsBatch) => void;
  /** How many diff items to list per side in the summary (counts and groups are always complete). */
  listLimit?: number;
  /**
   * Who we are to the server. Default: the only key in `configDir` (without
   * a passphrase), and anonymous when there is no key at all; the command
   * line chooses by --key or $NETSYNC_KEY itself.
   */
  identity?: Identity | 'anonymous';
  /** Where known_servers (the pins) live. Default: configDir() ($NETSYNC_CONFIG_DIR or the platform's). */
  configDir?: string;
  /**
   * First contact with a server (no pin for HOST:PORT yet): return true to
   * pin the fingerprint it presented and go on, false to refuse. Default:
   * pin (trust on first use). A changed key is always refused.
   */
  onNewServer?: (fingerprint: string, address: string) => boolean | Promise<boolean>;
  /**
   * The process exits after this call (the command line): keep the database
   * open until then rather than closing it, which leaves the write-ahead log
   * to a later checkpoint (ReadStore.closeAtExit).
   */
  exitsAfter?: boolean;
  /** Told before a database indexed by an older Netsync is indexed again (OpenOptions.onReindex). */
  onReindex?: (path: string) => void;
}

export interface ServerOptions {
  db: string;
  host: string;
  port: number;
  /** What the server offers; empty = every branch. */
  patterns: string[];
  onEvent?: (event: ServerEvent) => void;
  /** The server's key. Default: the only key in `configDir` (without a passphrase); a server needs one. */
  identity?: Identity;
  /** Who may read and write what (docs/SECURITY.md). Default: `<configDir>/permissions`; re-read at every session start. */
  permissionsFile?: string;
  /** Default: configDir() ($NETSYNC_CONFIG_DIR or the platform's). */
  configDir?: string;
  /** Told before a database indexed by an older Netsync is indexed again (OpenOptions.onReindex). */
  onReindex?: (path: string) => void;
}

export type ServerEvent =
  | { type: 'listening'; host: string; port: number }
  | { type: 'session-start'; sessionId: string; remote: string /** Fingerprint of the client's key, or 'anonymous'. */; client?: string }
  /** A connection that never became a session: failed TLS handshake, unusable certificate. */
  | { type: 'refused'; remote: string; reason: string }
  /** The permissions file could not be read at a session start: that session gets the defaults (only the server's key may act). */
  | { type: 'permissions-error'; message: string }
  | {
      type: 'session-end';
      sessionId: string;
      remote: string;
      /** Fingerprint of the client's key, or 'anonymous'. */
      client: string;
      itemsSent: number;
      itemsReceived: number;
      /** What the client asked for and was refused in WELCOME: `read BRANCH` (no permission), `write BRANCH` (read-only). */
      refused?: string[];
      /** How the session failed: the ERROR code sent or received (docs/PROTOCOL.md §3) and its message, from the peer or ours. */
      errorCode?: string;
      error?: string;
    }
  | { type: 'closed' };

export interface ServerStats {
  connected: number;
  sessions: number;
  itemsSent: number;
  itemsReceived: number;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  stats(): ServerStats;
  /** Stops accepting; lets sessions in flight finish up to `graceMs` (default 1 s), then ends them with ERROR shutdown. */
  close(graceMs?: number): Promise<void>;
}

/** monotone's registered port, kept by netsync: the one constant, shared with the app (shared/address.ts). */
export const DEFAULT_PORT = DEFAULT_SYNC_PORT;
