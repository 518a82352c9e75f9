/** Peers: the list (with what is remembered per peer), their live state, and their latest diff. */
import type { ApiError, AutoSyncStatus, NetsyncApi, NewPeer, Peer, PeerChanges, PeerState, SessionSummary } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

export interface PeerLive {
  state: PeerState;
  error?: ApiError;
}

export interface PeersState {
  list: Peer[];
  live: Record<string, PeerLive>;
  /** The latest dry run per peer: what we lack, what they lack. */
  diffs: Record<string, SessionSummary>;
  /** The latest finished session per peer, dry run or not: what the peer's state is derived from. */
  results: Record<string, SessionSummary>;
  error: ErrorText;
  /** The add-peer form's complaint. */
  formError: ErrorText;
  /** The automatic sync: paused or not, and where each peer kept in sync stands. */
  auto: AutoSyncStatus;
}

export interface PeersSlice {
  peers: PeersState;
  loadPeers(): Promise<void>;
  addPeer(input: NewPeer): Promise<boolean>;
  updatePeer(peerId: string, changes: PeerChanges): Promise<void>;
  removePeer(peerId: string): Promise<void>;
  diffPeer(peerId: string): Promise<void>;
  syncPeer(peerId: string): Promise<void>;
  /**
   * Compares again (a dry run, nothing moves) with the saved peers, so that a
   * peer whose side changed no longer reads as it did: on request every peer
   * not busy; when the window regains focus, those whose last session went
   * well and is more than RECHECK_AFTER_MS old, without opening any dialog.
   */
  recheckPeers(why: 'focus' | 'request'): Promise<void>;
  cancelSession(sessionId: string): Promise<void>;
  applyPeerStatus(peerId: string, live: PeerLive): void;
  applyAutoSync(status: AutoSyncStatus): void;
  /** A session this window did not start (the automatic sync's) ended: the card says how. */
  applySessionResult(peerId: string, summary: SessionSummary): void;
  setAutoSyncPaused(paused: boolean): Promise<void>;
  /** Every peer now: those kept in sync through their schedule, the others once. */
  syncAllNow(): Promise<void>;
}

/** A peer compared or synced this recently is not compared again when the window regains focus. */
export const RECHECK_AFTER_MS = 5000;

const RUNNING_STATES = new Set<PeerState>(['connecting', 'refining', 'transferring']);

export const createPeersSlice =
  (api: NetsyncApi): SliceCreator<PeersSlice> =>
  (set, get) => {
    const patch = (p: Partial<PeersState>) => set((s) => ({ peers: { ...s.peers, ...p } }));
    const setLive = (peerId: string, live: PeerLive) => set((s) => ({ peers: { ...s.peers, live: { ...s.peers.live, [peerId]: live } } }));
    const replacePeer = (peer: Peer) => set((s) => ({ peers: { ...s.peers, list: s.peers.list.map((p) => (p.id === peer.id ? peer : p)) } }));

    /** `background`: a re-check nobody asked for just now opens no dialog; a locked key is said on the card, with its button. */
    const runSession = async (peerId: string, dryRun: boolean, background = false) => {
      setLive(peerId, { state: 'connecting' });
      const r = dryRun ? await api.diff(peerId) : await api.sync(peerId);
      if (r.ok) {
        set((s) => ({
          peers: {
            ...s.peers,
            results: { ...s.peers.results, [peerId]: r.value },
            ...(dryRun ? { diffs: { ...s.peers.diffs, [peerId]: r.value } } : {}),
          },
        }));
        setLive(peerId, { state: 'done' });
      } else {
        setLive(peerId, { state: r.error.code === 'cancelled' ? 'cancelled' : 'error', error: r.error });
        // A locked key: ask for its passphrase, then do what was refused.
        if (r.error.code === 'key-locked' && r.error.key && !background) get().requestUnlock(r.error.key, { kind: dryRun ? 'diff' : 'sync', peerId });
      }
      // The peer's remembered last session changed on disk.
      await get().loadPeers();
    };

    return {
      peers: { list: [], live: {}, diffs: {}, results: {}, error: null, formError: null, auto: { paused: false, peers: [] } },

      async loadPeers() {
        const r = await api.listPeers();
        patch(r.ok ? { list: r.value, error: null } : { error: r.error.message });
      },

      async addPeer(input) {
        const r = await api.addPeer(input);
        if (!r.ok) {
          patch({ formError: r.error.message });
          return false;
        }
        set((s) => ({ peers: { ...s.peers, list: [...s.peers.list, r.value], formError: null } }));
        return true;
      },

      async updatePeer(peerId, changes) {
        const r = await api.updatePeer(peerId, changes);
        if (r.ok) replacePeer(r.value);
        else setLive(peerId, { state: get().peers.live[peerId]?.state ?? 'idle', error: r.error });
      },

      async removePeer(peerId) {
        const r = await api.removePeer(peerId);
        if (!r.ok) {
          setLive(peerId, { state: get().peers.live[peerId]?.state ?? 'idle', error: r.error });
          return;
        }
        set((s) => ({ peers: { ...s.peers, list: s.peers.list.filter((p) => p.id !== peerId) } }));
      },

      diffPeer: (peerId) => runSession(peerId, true),
      syncPeer: (peerId) => runSession(peerId, false),

      async recheckPeers(why) {
        const { list, live } = get().peers;
        const now = Date.now();
        const due = list.filter((p) => {
          if (p.include.length === 0 || RUNNING_STATES.has(live[p.id]?.state ?? 'idle')) return false;
          if (why === 'request') return true;
          return p.last !== undefined && !p.last.error && now - Date.parse(p.last.at) > RECHECK_AFTER_MS;
        });
        await Promise.all(due.map((p) => runSession(p.id, true, why === 'focus')));
      },

      async cancelSession(sessionId) {
        await api.cancel(sessionId);
      },

      applyPeerStatus(peerId, live) {
        setLive(peerId, live);
      },

      applyAutoSync: (auto) => patch({ auto }),

      applySessionResult(peerId, summary) {
        set((s) => ({
          peers: {
            ...s.peers,
            results: { ...s.peers.results, [peerId]: summary },
            ...(summary.dryRun ? { diffs: { ...s.peers.diffs, [peerId]: summary } } : {}),
          },
        }));
      },

      async setAutoSyncPaused(paused) {
        const r = await api.setAutoSyncPaused(paused);
        patch(r.ok ? { auto: r.value, error: null } : { error: r.error.message });
      },

      async syncAllNow() {
        const r = await api.syncAllNow();
        patch(r.ok ? { auto: r.value, error: null } : { error: r.error.message });
      },
    };
  };
