/**
 * Runs diffs and syncs against peers: one session per peer at a time, each
 * cancellable, its engine progress forwarded as events and its live state
 * summarised per peer.
 */
import { randomUUID } from 'node:crypto';
import { formatAddress, parseAddress } from '../../shared/address.js';
import type { ApiError, NetsyncEvent, Peer, PeerState, PromptOutcome, SessionInfo } from '../../shared/api.js';
import type { ItemsBatch, Phase, ProgressEvent, SessionIdentity, SessionSummary } from '../../shared/sync.js';
import { fail } from '../errors.js';
import type { ClientOptions, Identity } from '../protocol/api.js';
import { fingerprint } from '../security/fingerprint.js';
import { DIFF_LIST_LIMIT, type DiffLists } from './diff-lists.js';
import { apiError, refuse, toApiError } from './errors.js';
import { listBranches } from './collection.js';
import { type TransferLog, keptSummary } from './transfer-log.js';
import { unmatchedPatterns } from './unmatched.js';

export type RunClientSession = (opts: ClientOptions) => Promise<SessionSummary>;

/** Asks the user about a server met for the first time (ServerPrompts.ask). */
export type AskServer = (peer: Peer, address: string, fingerprint: string, signal: AbortSignal) => Promise<PromptOutcome>;

const PEER_STATE: Record<Phase, PeerState> = {
  connecting: 'connecting',
  handshake: 'connecting',
  refining: 'refining',
  transferring: 'transferring',
  done: 'done',
  error: 'error',
  cancelled: 'cancelled',
};

/** What the engine's ClientOptions.patterns wants: includes, then excludes prefixed with '!'. */
export function clientPatterns(peer: Pick<Peer, 'include' | 'exclude'>): string[] {
  return [...peer.include, ...peer.exclude.map((p) => `!${p}`)];
}

interface Running {
  info: SessionInfo;
  controller: AbortController;
}

export type SessionOutcome = { ok: true; info: SessionInfo; summary: SessionSummary } | { ok: false; info: SessionInfo; error: ApiError };

export interface SessionRunnerOptions {
  runClientSession: RunClientSession;
  emit: (event: NetsyncEvent) => void;
  /** Keys, pinned servers: the service's config folder, not whatever the environment says. */
  configDir: string;
  askServer: AskServer;
  /** Where finished sessions' rows are kept for paging. */
  diffLists: DiffLists;
  /** Where every ended session is kept for the Transfers screen. */
  transfers: TransferLog;
}

/** Why nothing was sent when the user did not accept a new server's key. */
function refusedByUser(outcome: PromptOutcome | null, address: string): ApiError | null {
  if (outcome === 'refused') return apiError('server-refused', `You did not accept the key of ${address}, so nothing was sent`);
  if (outcome === 'timeout') return apiError('server-refused', `Nobody confirmed the key of ${address} in time, so nothing was sent`);
  return null;
}

/** Who a session is to the server, as its summary and the sentences about refusals name it. */
function sessionIdentity(identity: Identity | 'anonymous'): SessionIdentity {
  return identity === 'anonymous' ? { kind: 'anonymous' } : { kind: 'key', name: identity.name, fingerprint: fingerprint(identity.keyPair.publicKey) };
}

export class SessionRunner {
  private readonly running = new Map<string, Running>();

  constructor(private readonly o: SessionRunnerOptions) {}

  list(): SessionInfo[] {
    return [...this.running.values()].map((r) => ({ ...r.info }));
  }

  cancel(sessionId: string): boolean {
    const r = this.running.get(sessionId);
    if (!r) return false;
    r.controller.abort();
    return true;
  }

  cancelAll(): void {
    for (const r of this.running.values()) r.controller.abort();
  }

  /** `auto`: started by the automatic sync (said in the session's info), not by the user. */
  async run(peer: Peer, db: string, dryRun: boolean, identity: Identity | 'anonymous', auto = false): Promise<SessionOutcome> {
    const target = parseAddress(peer.address);
    if (!target) fail('usage', `"${peer.address}" is not an address (HOST or HOST:PORT)`);
    if ([...this.running.values()].some((r) => r.info.peerId === peer.id)) refuse('busy', `a session with ${peer.name} is already running`);
    if (peer.include.length === 0) fail('usage', `no branch pattern is set for ${peer.name}; add at least one to include`);
    const info: SessionInfo = {
      sessionId: randomUUID(),
      peerId: peer.id,
      direction: peer.direction,
      dryRun,
      startedAt: new Date().toISOString(),
      ...(auto ? { auto: true } : {}),
    };
    const controller = new AbortController();
    this.running.set(info.sessionId, { info, controller });
    this.o.emit({ type: 'session-started', session: { ...info } });
    let state: PeerState = 'connecting';
    this.o.emit({ type: 'peer-status', peerId: peer.id, state });
    // Set by the engine's callback: how the user answered about a new server's key, if asked.
    const asked: { outcome: PromptOutcome | null; address: string } = { outcome: null, address: formatAddress(target) };
    // A second attempt continues the sequence numbers, so a window sees one stream without a false gap.
    let seqBase = 0;
    let lastSeq = 0;
    let lastProgress: ProgressEvent | null = null;
    const onProgress = (progress: ProgressEvent) => {
      // A first attempt failing after the user accepted the server is retried at once (below): not an error to show.
      if (progress.phase === 'error' && asked.outcome === 'accepted' && !controller.signal.aborted) return;
      lastSeq = seqBase + progress.seq;
      lastProgress = { ...progress, sessionId: info.sessionId, seq: lastSeq };
      this.o.emit({ type: 'session-progress', sessionId: info.sessionId, peerId: peer.id, progress: lastProgress });
      const next = PEER_STATE[progress.phase];
      // 'done' and 'error' are announced once the session has really ended, below.
      if (next !== state && next !== 'done' && next !== 'error' && next !== 'cancelled') {
        state = next;
        this.o.emit({ type: 'peer-status', peerId: peer.id, state });
      }
    };
    let itemsSeqBase = 0;
    let lastItemsSeq = 0;
    const onItems = (items: ItemsBatch) => {
      lastItemsSeq = itemsSeqBase + items.seq;
      const diff = this.o.diffLists.taken(peer.id, items.received, items.sent);
      this.o.emit({
        type: 'session-items',
        sessionId: info.sessionId,
        peerId: peer.id,
        items: { ...items, sessionId: info.sessionId, seq: lastItemsSeq },
        ...(diff ? { diff } : {}),
      });
    };
    const attempt = () =>
      this.o.runClientSession({
        db,
        host: target.host,
        port: target.port,
        patterns: clientPatterns(peer),
        direction: peer.direction,
        dryRun,
        signal: controller.signal,
        listLimit: DIFF_LIST_LIMIT,
        configDir: this.o.configDir,
        identity,
        onNewServer: async (fingerprint, address) => {
          asked.address = address;
          asked.outcome = await this.o.askServer(peer, address, fingerprint, controller.signal);
          return asked.outcome === 'accepted';
        },
        onProgress,
        onItems,
      });
    const keep = (ended: { summary: SessionSummary } | { error: ApiError }) =>
      this.o.transfers.add({
        info: { ...info },
        peerName: peer.name,
        address: peer.address,
        endedAt: new Date().toISOString(),
        progress: lastProgress,
        ...('summary' in ended ? { summary: keptSummary(ended.summary) } : { error: ended.error }),
      });
    const as = sessionIdentity(identity);
    try {
      let summary: SessionSummary;
      try {
        summary = await attempt();
      } catch (e) {
        // The server waits 10 s for our handshake (docs/PROTOCOL.md §6) and people take longer to
        // compare a fingerprint: once it is accepted (and pinned), one more attempt goes straight through.
        if (asked.outcome !== 'accepted' || controller.signal.aborted) throw e;
        asked.outcome = null;
        seqBase = lastSeq;
        itemsSeqBase = lastItemsSeq;
        summary = await attempt();
      }
      const unmatched = unmatchedPatterns(
        peer,
        summary,
        listBranches(db).map((b) => b.name),
      );
      const shown = this.o.diffLists.keep(peer.id, { ...summary, identity: as, ...(unmatched.length > 0 ? { unmatchedPatterns: unmatched } : {}) });
      keep({ summary: shown });
      this.o.emit({ type: 'session-finished', sessionId: info.sessionId, peerId: peer.id, summary: shown });
      this.o.emit({ type: 'peer-status', peerId: peer.id, state: 'done' });
      return { ok: true, info, summary: shown };
    } catch (e) {
      const error: ApiError = controller.signal.aborted
        ? apiError('cancelled', `The session with ${peer.name} was cancelled`)
        : (refusedByUser(asked.outcome, asked.address) ?? toApiError(e, formatAddress(target)));
      keep({ error });
      this.o.emit({ type: 'session-finished', sessionId: info.sessionId, peerId: peer.id, error });
      this.o.emit({ type: 'peer-status', peerId: peer.id, state: error.code === 'cancelled' ? 'cancelled' : 'error', error });
      return { ok: false, info, error };
    } finally {
      this.running.delete(info.sessionId);
    }
  }
}
