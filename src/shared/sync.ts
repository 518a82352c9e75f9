/**
 * Types of a sync session shared by the engine, the CLI and the UI. Plain
 * data only (no Node or DOM types): they cross IPC and WebSocket as JSON.
 */

export type Direction = 'sync' | 'push' | 'pull';

export type Phase = 'connecting' | 'handshake' | 'refining' | 'transferring' | 'done' | 'error' | 'cancelled';

export type ItemKindName = 'file' | 'chunk' | 'manifest' | 'cert' | 'key' | 'tree' | 'revision';

/** One side's traffic so far. */
export interface Traffic {
  items: number;
  bytes: number;
  /** Items (and their bytes) known so far to be due this way; grows while refining. */
  totalItems: number;
  totalBytes: number;
}

export interface ProgressEvent {
  /** Session-local sequence number starting at 1, so a consumer detects a gap. */
  seq: number;
  sessionId: string;
  phase: Phase;
  sent: Traffic;
  received: Traffic;
  /** Reconciliation bytes, kept apart from item bytes. */
  reconBytesSent: number;
  reconBytesReceived: number;
  roundTrips: number;
  /** Bytes per second over the last second, both ways together. */
  rate: number;
  elapsedMs: number;
  error?: { code: string; message: string };
}

/**
 * Ids of the items that moved since the previous batch of the same session:
 * stored here after verification (`received`) or written to the peer
 * (`sent`). Short ids (the first 8 bytes, in hex), as diff rows name items.
 * Batched with the progress events (at most every 100 ms) and capped at
 * ITEMS_BATCH_MAX ids per batch; the union of a session's batches is every
 * item it moved.
 */
export interface ItemsBatch {
  /** Session-local sequence number starting at 1, so a consumer detects a gap. */
  seq: number;
  sessionId: string;
  received: string[];
  sent: string[];
}

/** Ids in one ItemsBatch at most (both lists together): ~17 KB of JSON. */
export const ITEMS_BATCH_MAX = 1000;

/** One row of the missing-item diff. */
export interface DiffItem {
  id: string;
  kind: ItemKindName;
  size: number;
  /** Branches (among those synced) whose collection holds the item, on the side that has it. */
  branches: string[];
  /** Why the item will not move, when it will not. */
  blocked?: 'no-permission' | 'direction' | 'failed-verification' | 'peer-gone';
}

export interface DiffGroup {
  branch: string;
  kind: ItemKindName;
  count: number;
  bytes: number;
}

export interface DiffSide {
  count: number;
  bytes: number;
  groups: DiffGroup[];
  items: DiffItem[];
}

export interface SessionSummary {
  sessionId: string;
  direction: Direction;
  dryRun: boolean;
  itemsSent: number;
  itemsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  reconBytesSent: number;
  reconBytesReceived: number;
  roundTrips: number;
  ms: number;
  /** Items the peer holds and we lack / we hold and the peer lacks, as found by reconciliation. */
  weLack: DiffSide;
  theyLack: DiffSide;
  /**
   * After a two-way sync that moved anything: whether both sides ended with
   * equal roots in every slot. False means another session was needed (the
   * client runs one by itself, up to twice); absent when not checked.
   */
  converged?: boolean;
  /** How many sessions this result sums (more than 1 after a re-run). */
  sessions?: number;
  /** The server's identity as seen on this connection (hex fingerprint), when known. */
  peerFingerprint?: string;
  /** Branches of this session the server refused, wholly or for writing (docs/SECURITY.md). */
  refused?: RefusedSlot[];
  /**
   * Include patterns that selected no branch the server offers to this
   * client (protocol version 4, docs/PROTOCOL.md): nothing will come for
   * them, whether the server lacks such a branch or this key may not read it.
   */
  unmatchedPatterns?: string[];
  /** Who this side was to the server, as the service ran the session; the server's answers are about it. */
  identity?: SessionIdentity;
  /**
   * Branches this session left with several heads (their heads changed and
   * are now more than one): concurrent commits that `netsync merge BRANCH` joins.
   */
  forks?: BranchFork[];
}

/** A branch with more than one head after a session. */
export interface BranchFork {
  branch: string;
  heads: number;
}

/** The key a session presented (its name and fingerprint, 16 groups of 4), or none. */
export type SessionIdentity = { kind: 'key'; name: string; fingerprint: string } | { kind: 'anonymous' };

/**
 * A branch the server would not sync: not offered by it, not readable with
 * this key, or readable but not writable (pulled, but nothing of ours sent).
 */
export interface RefusedSlot {
  branch: string;
  reason: 'not-offered' | 'no-permission' | 'read-only';
}
