/**
 * Sessions and their live progress. Events can arrive by the thousand per
 * second: applying one is a small immutable update here, and views read it
 * through throttled (transient) subscriptions, never one render per event.
 * Sequence numbers make a lost event visible instead of silently wrong.
 * Ended sessions come back after a reload or a restart from the engine's
 * kept list (`listTransfers`), with their figures but without a chart.
 */
import type { ApiError, NetsyncApi, SessionInfo, TransferRecord } from '../../../shared/api.js';
import type { ProgressEvent, SessionSummary } from '../../../shared/sync.js';
import type { ErrorText, SliceCreator } from '../types.js';

/** One point of the throughput chart: bytes on the wire and items moved, both ways, by `t` ms into the session. */
export interface Sample {
  t: number;
  bytes: number;
  items: number;
}

export interface Transfer {
  info: SessionInfo;
  last: ProgressEvent | null;
  /** Progress events that never arrived (from holes in the sequence numbers). */
  missed: number;
  samples: Sample[];
  finished: { summary?: SessionSummary; error?: ApiError } | null;
  /** The peer as the engine kept it with the session: what a removed or renamed peer is called. */
  peer?: { name: string; address: string };
}

export interface TransfersState {
  byId: Record<string, Transfer>;
  /** Newest first. */
  order: string[];
  /** Why the kept sessions could not be listed. */
  error: ErrorText;
}

export interface TransfersSlice {
  transfers: TransfersState;
  applySessionStarted(info: SessionInfo): void;
  applyProgress(sessionId: string, peerId: string, progress: ProgressEvent): void;
  applySessionFinished(sessionId: string, outcome: { summary?: SessionSummary; error?: ApiError }): void;
  /** Loads the sessions the engine kept (after a reload); the ones this page already holds stay as they are. */
  loadTransfers(): Promise<void>;
}

/** At most this many chart points per session, one per SAMPLE_MS (and the latest). */
export const MAX_SAMPLES = 240;
export const SAMPLE_MS = 250;
/** Finished sessions kept for the Transfers screen: as many as the engine keeps (service/transfer-log.ts). */
const KEEP_SESSIONS = 100;

function placeholder(sessionId: string, peerId: string): Transfer {
  // Progress for a session whose start we missed (the page reloaded mid-sync, say).
  return {
    info: { sessionId, peerId, direction: 'sync', dryRun: false, startedAt: new Date().toISOString() },
    last: null,
    missed: 0,
    samples: [],
    finished: null,
  };
}

/**
 * The samples after one at `next`: spaced at least SAMPLE_MS apart, except
 * the last, which is always the latest event (replaced by the next one
 * until SAMPLE_MS have passed). So a session shorter than SAMPLE_MS still
 * has its start and its end, and its chart is not empty.
 */
export function withSample(samples: readonly Sample[], next: Sample): Sample[] {
  const n = samples.length;
  const provisional = n >= 2 && samples[n - 1]!.t - samples[n - 2]!.t < SAMPLE_MS;
  const kept = provisional ? samples.slice(0, -1) : samples;
  return [...kept, next].slice(-MAX_SAMPLES);
}

/** The next state of one transfer after `p`; the same object when `p` is stale or a duplicate. */
export function withProgress(t: Transfer, p: ProgressEvent): Transfer {
  const lastSeq = t.last?.seq ?? 0;
  if (p.seq <= lastSeq) return t;
  const missed = t.missed + (p.seq - lastSeq - 1);
  const sample = { t: p.elapsedMs, bytes: p.sent.bytes + p.received.bytes, items: p.sent.items + p.received.items };
  return { ...t, last: p, missed, samples: withSample(t.samples, sample) };
}

/** A kept session as the screen holds one: ended, its last progress as its figures, no chart. */
export function fromRecord(r: TransferRecord): Transfer {
  const finished = r.summary ? { summary: r.summary } : { error: r.error ?? { code: 'internal' as const, message: 'The session ended without an outcome.' } };
  return { info: r.info, last: r.progress, missed: 0, samples: [], finished, peer: { name: r.peerName, address: r.address } };
}

export const createTransfersSlice =
  (api: NetsyncApi): SliceCreator<TransfersSlice> =>
  (set) => {
    const put = (s: TransfersState, t: Transfer): TransfersState => {
      const id = t.info.sessionId;
      if (s.byId[id]) return { ...s, byId: { ...s.byId, [id]: t } };
      const order = [id, ...s.order];
      const byId = { ...s.byId, [id]: t };
      // Forget the oldest finished sessions; running ones always stay.
      for (const old of order.slice(KEEP_SESSIONS)) if (byId[old]?.finished) delete byId[old];
      return { ...s, byId, order: order.filter((o) => byId[o]) };
    };

    return {
      transfers: { byId: {}, order: [], error: null },

      applySessionStarted(info) {
        set((s) => ({ transfers: put(s.transfers, { ...placeholder(info.sessionId, info.peerId), info }) }));
      },

      applyProgress(sessionId, peerId, progress) {
        set((s) => {
          const t = s.transfers.byId[sessionId] ?? placeholder(sessionId, peerId);
          const next = withProgress(t, progress);
          return next === t && s.transfers.byId[sessionId] ? s : { transfers: put(s.transfers, next) };
        });
      },

      applySessionFinished(sessionId, outcome) {
        set((s) => {
          const t = s.transfers.byId[sessionId];
          return t ? { transfers: put(s.transfers, { ...t, finished: outcome }) } : s;
        });
      },

      async loadTransfers() {
        const r = await api.listTransfers();
        if (!r.ok) {
          set((s) => ({ transfers: { ...s.transfers, error: r.error.message } }));
          return;
        }
        set((s) => {
          const kept = r.value.filter((k) => !s.transfers.byId[k.info.sessionId]).map(fromRecord);
          if (kept.length === 0) return s.transfers.error ? { transfers: { ...s.transfers, error: null } } : s;
          const byId = { ...s.transfers.byId };
          for (const t of kept) byId[t.info.sessionId] = t;
          // Newest first by start time: sessions of this page and kept ones interleave as they happened.
          const order = Object.keys(byId).sort((a, b) => byId[b]!.info.startedAt.localeCompare(byId[a]!.info.startedAt) || a.localeCompare(b));
          for (const old of order.slice(KEEP_SESSIONS)) if (byId[old]?.finished) delete byId[old];
          return { transfers: { byId, order: order.filter((o) => byId[o]), error: null } };
        });
      },
    };
  };
