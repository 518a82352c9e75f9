/**
 * The protocol engine's entry points, as used by the CLI and the desktop
 * service. Implemented in client.ts and server.ts.
 */
import type { Direction, ProgressEvent, SessionSummary } from '../../shared/sync.js';

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
  /** How many diff items to list per side in the summary (counts and groups are always complete). */
  listLimit?: number;
}

export interface ServerOptions {
  db: string;
  host: string;
  port: number;
  /** What the server offers; empty = every branch. */
  patterns: string[];
  onEvent?: (event: ServerEvent) => void;
}

export type ServerEvent =
  | { type: 'listening'; host: string; port: number }
  | { type: 'session-start'; sessionId: string; remote: string }
  | { type: 'session-end'; sessionId: string; remote: string; itemsSent: number; itemsReceived: number; error?: string }
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
  /** Stops accepting; lets sessions in flight finish up to `graceMs`, then aborts them. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 4691;
