/** Values derived from the store, computed here and never stored twice. */
import type { CertView, KeyInfo, Peer } from '../../shared/api.js';
import { wasRefused } from '../../shared/refusals.js';
import { formatWhen } from '../format.js';
import type { DiffSide, ItemKindName } from '../../shared/sync.js';
import { type SideMoves, groupKey } from './slices/diff-moves.js';
import type { PeerLive } from './slices/peers.js';
import type { Sample, Transfer } from './slices/transfers.js';
import type { AppState } from './types.js';

export interface BranchDiff {
  branch: string;
  count: number;
  bytes: number;
  kinds: { kind: ItemKindName; count: number; bytes: number }[];
}

const KIND_ORDER: ItemKindName[] = ['revision', 'manifest', 'tree', 'file', 'chunk', 'cert', 'key'];

/** One side of a diff grouped by branch (largest first), each with its kinds in a fixed order. */
export function groupDiffByBranch(side: DiffSide): BranchDiff[] {
  const byBranch = new Map<string, BranchDiff>();
  for (const g of side.groups) {
    let b = byBranch.get(g.branch);
    if (!b) byBranch.set(g.branch, (b = { branch: g.branch, count: 0, bytes: 0, kinds: [] }));
    b.count += g.count;
    b.bytes += g.bytes;
    const k = b.kinds.find((x) => x.kind === g.kind);
    if (k) {
      k.count += g.count;
      k.bytes += g.bytes;
    } else {
      b.kinds.push({ kind: g.kind, count: g.count, bytes: g.bytes });
    }
  }
  for (const b of byBranch.values()) b.kinds.sort((x, y) => KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind));
  return [...byBranch.values()].sort((a, b) => b.bytes - a.bytes || a.branch.localeCompare(b.branch));
}

/**
 * One side of a diff with what a sync has moved taken off: the counts a
 * window shows while rows tick (the same ids tick the rows). The side itself
 * when nothing moved.
 */
export function remainingSide(side: DiffSide, moves: SideMoves | undefined): DiffSide {
  if (!moves || moves.count === 0) return side;
  const groups = side.groups.map((g) => {
    const t = moves.taken[groupKey(g.branch, g.kind)];
    return t ? { ...g, count: Math.max(0, g.count - t.count), bytes: Math.max(0, g.bytes - t.bytes) } : g;
  });
  return { ...side, count: Math.max(0, side.count - moves.count), bytes: Math.max(0, side.bytes - moves.bytes), groups };
}

/**
 * One way of a session. `items` of `totalItems` is the progress; `totalBytes`
 * is the size of the items due (their own bytes), `bytes` what went over the
 * wire for them (compressed, framed): two different units, shown apart.
 */
export interface WayStats {
  items: number;
  totalItems: number;
  bytes: number;
  totalBytes: number;
}

export interface TransferStats {
  phase: string;
  running: boolean;
  sent: WayStats;
  received: WayStats;
  /** Bytes per second on the wire, both ways: over the last second while running, the session's average once it ended. */
  rate: number;
  /** Milliseconds left at the recent pace in items, when it can be told. */
  etaMs: number | null;
  /** 0..1 of the items due, both ways. */
  fraction: number;
  elapsedMs: number;
  /** Null until the engine has counted them (it reports them when the session ends). */
  roundTrips: number | null;
  reconBytes: number | null;
  missed: number;
}

/** How far back the pace for the ETA is measured. */
const PACE_MS = 2000;

/** Items per millisecond over the last PACE_MS of samples; 0 when nothing moved then. */
function itemPace(samples: readonly Sample[]): number {
  const last = samples[samples.length - 1];
  if (!last) return 0;
  const first = samples.find((s) => last.t - s.t <= PACE_MS) ?? last;
  return last.t > first.t ? (last.items - first.items) / (last.t - first.t) : 0;
}

/** A count the engine reports only at the end: null while a running session still shows 0. */
function countedAtEnd(final: number | undefined, live: number | undefined): number | null {
  if (final !== undefined) return final;
  return live ? live : null;
}

export function transferStats(t: Transfer): TransferStats {
  const p = t.last;
  const done = t.finished?.summary;
  const zero = { items: 0, totalItems: 0, bytes: 0, totalBytes: 0 };
  const sent = p?.sent ?? zero;
  const received = p?.received ?? zero;
  const due = sent.totalItems + received.totalItems;
  const moved = sent.items + received.items;
  const running = !t.finished;
  const elapsedMs = done?.ms ?? p?.elapsedMs ?? 0;
  // While running: the engine's rate over the last second. Once ended: the average, from the summary
  // (index traffic included), or from the last progress when the session failed or was cancelled.
  const wire = done ? done.bytesSent + done.bytesReceived : sent.bytes + received.bytes;
  const rate = running ? (p?.rate ?? 0) : elapsedMs > 0 ? (wire * 1000) / elapsedMs : 0;
  const phase = t.finished ? (t.finished.error ? (t.finished.error.code === 'cancelled' ? 'cancelled' : 'error') : 'done') : (p?.phase ?? 'connecting');
  const pace = itemPace(t.samples);
  return {
    phase,
    running,
    sent,
    received,
    rate,
    etaMs: running && pace > 0 && due > moved ? (due - moved) / pace : null,
    fraction: due > 0 ? Math.min(1, moved / due) : done ? 1 : 0,
    elapsedMs,
    roundTrips: countedAtEnd(done?.roundTrips, p?.roundTrips),
    reconBytes: countedAtEnd(done && done.reconBytesSent + done.reconBytesReceived, p ? p.reconBytesSent + p.reconBytesReceived : undefined),
    missed: t.missed,
  };
}

/** Bytes per second between consecutive samples: the throughput chart's points. */
export function throughput(samples: readonly Sample[]): { t: number; rate: number }[] {
  const out: { t: number; rate: number }[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = b.t - a.t;
    if (dt > 0) out.push({ t: b.t, rate: ((b.bytes - a.bytes) * 1000) / dt });
  }
  return out;
}

/** Who a session was with: the peer's name now, else its name when the session was kept (a peer removed since). */
function peerNameOf(t: Transfer, peers: readonly Peer[]): string {
  return peers.find((p) => p.id === t.info.peerId)?.name ?? t.peer?.name ?? 'a peer';
}

/** "Sync with lab", "Diff with lab", "Sync with lab (automatic)". */
export function transferTitle(t: Transfer, peers: readonly Peer[]): string {
  const what = t.info.dryRun ? 'Diff' : t.info.direction[0]!.toUpperCase() + t.info.direction.slice(1);
  return `${what} with ${peerNameOf(t, peers)}${t.info.auto ? ' (automatic)' : ''}`;
}

/** How a session ended, when that is not plain success: what the list says beside it. */
function outcomeWord(t: Transfer): string | null {
  if (!t.finished) return 'running';
  if (t.finished.error) return t.finished.error.code === 'cancelled' ? 'cancelled' : 'failed';
  return t.finished.summary && wasRefused(t.finished.summary) ? 'refused' : null;
}

/** One line of the Transfers list: what, with whom, when, and how it ended. */
export function transferLabel(t: Transfer, peers: readonly Peer[]): string {
  const outcome = outcomeWord(t);
  return `${t.info.dryRun ? 'diff' : t.info.direction} · ${peerNameOf(t, peers)} · ${formatWhen(t.info.startedAt)}${outcome ? ` (${outcome})` : ''}`;
}

export const selectRunningSessionIds = (s: AppState): string[] => s.transfers.order.filter((id) => !s.transfers.byId[id]?.finished);

/** One shared object: a selector must not return a new value for an unchanged state. */
const IDLE: PeerLive = Object.freeze({ state: 'idle' });

export const selectPeerLive =
  (peerId: string) =>
  (s: AppState): PeerLive =>
    s.peers.live[peerId] ?? IDLE;

/** The running session of a peer, if any (for its Cancel button). */
export const selectPeerSessionId =
  (peerId: string) =>
  (s: AppState): string | null =>
    s.transfers.order.find((id) => {
      const t = s.transfers.byId[id];
      return t && !t.finished && t.info.peerId === peerId;
    }) ?? null;

export const selectPeer =
  (peerId: string | null) =>
  (s: AppState): Peer | undefined =>
    s.peers.list.find((p) => p.id === peerId);

/** The session the Transfers screen shows: the chosen one, else the newest. */
export const selectShownTransferId = (s: AppState): string | null =>
  s.ui.transferId && s.transfers.byId[s.ui.transferId] ? s.ui.transferId : (s.transfers.order[0] ?? null);

export interface Signer {
  /** The key item's id (hex). */
  keyId: string;
  /** '?' when the key is not in the database. */
  name: string;
  trusted: boolean;
  /** One of the user's own keys (a private half on this machine): always trusted. */
  own: boolean;
  /** The names of the certs it signed, each once. */
  certs: string[];
}

/** Who signed a manifest's certs, one row per key in the order first seen. */
export function signersOf(certs: CertView[], keys: KeyInfo[]): Signer[] {
  const own = new Set(keys.filter((k) => k.hasPrivate).map((k) => k.id));
  const byKey = new Map<string, Signer>();
  for (const c of certs) {
    const s = byKey.get(c.signerKey);
    if (!s) byKey.set(c.signerKey, { keyId: c.signerKey, name: c.signer, trusted: c.trusted, own: own.has(c.signerKey), certs: [c.name] });
    else if (!s.certs.includes(c.name)) s.certs.push(c.name);
  }
  return [...byKey.values()];
}
