/** The one store: every slice, bound to one NetsyncApi, plus the event stream wired in. */
import { type StoreApi, createStore } from 'zustand/vanilla';
import type { NetsyncApi, NetsyncClient, NetsyncEvent } from '../../shared/api.js';
import { createCollectionSlice } from './slices/collection.js';
import { createDiffMovesSlice } from './slices/diff-moves.js';
import { createDiffRowsSlice } from './slices/diff-rows.js';
import { type HostFeatures, createFoldersSlice } from './slices/folders.js';
import { createIdentitySlice } from './slices/identity.js';
import { createNoticesSlice } from './slices/notices.js';
import { createPeersSlice } from './slices/peers.js';
import { createServerSlice } from './slices/server.js';
import { createSignersSlice } from './slices/signers.js';
import { createTransfersSlice } from './slices/transfers.js';
import { createTrustSlice } from './slices/trust.js';
import { createUiSlice } from './slices/ui.js';
import type { AppState } from './types.js';

export type AppStore = StoreApi<AppState>;

/** `host`: what the window's host offers beyond the API (the desktop app's folder picker). */
export function createAppStore(api: NetsyncApi, host: HostFeatures = { folderPicker: false, nativeNotifications: false }): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createCollectionSlice(api)(...a),
    ...createFoldersSlice(api, host)(...a),
    ...createPeersSlice(api)(...a),
    ...createTransfersSlice(api)(...a),
    ...createServerSlice(api)(...a),
    ...createIdentitySlice(api)(...a),
    ...createTrustSlice(api)(...a),
    ...createSignersSlice(api)(...a),
    ...createDiffRowsSlice(api)(...a),
    ...createDiffMovesSlice()(...a),
    ...createUiSlice(api)(...a),
    ...createNoticesSlice(host)(...a),
  }));
}

/** Routes one engine event into the slices. */
export function applyEvent(store: AppStore, event: NetsyncEvent): void {
  const s = store.getState();
  s.applyNoticeEvent(event);
  switch (event.type) {
    case 'session-started':
      s.applySessionStarted(event.session);
      return;
    case 'session-progress':
      s.applyProgress(event.sessionId, event.peerId, event.progress);
      return;
    case 'session-items':
      s.applyItems(event.peerId, event.items, event.diff);
      return;
    case 'session-finished':
      s.applySessionFinished(event.sessionId, { summary: event.summary, error: event.error });
      s.applySyncEnded(event.sessionId, event.peerId, event.error);
      // Sessions this window did not start (the automatic sync's) say how they went on the card too.
      if (event.summary) s.applySessionResult(event.peerId, event.summary);
      return;
    case 'peer-status':
      s.applyPeerStatus(event.peerId, { state: event.state, error: event.error });
      return;
    case 'server-status':
      s.applyServerStatus(event.status);
      return;
    case 'collection-changed':
      // From any source (a sync, this app's server, the command line in another process): what is shown follows.
      void s.refreshCollection(event.branches?.map((b) => b.name));
      // Public keys arrive as items too (a sync, an import): the key list follows.
      void s.loadKeys();
      return;
    case 'confirm-server':
      s.applyPromptOpened(event.prompt);
      return;
    case 'confirm-server-closed':
      s.applyPromptClosed(event.promptId, event.outcome);
      return;
    case 'identity-changed':
      s.applyIdentity(event.identity);
      // Another window may have made or unlocked a key: the list's badges follow.
      void s.loadKeys();
      return;
    case 'key-trust-changed':
      s.applyKeyTrust(event.keyId, event.trusted);
      return;
    case 'auto-sync':
      s.applyAutoSync(event.status);
      // A kept peer's session ended: its remembered last session changed on disk.
      if (event.status.peers.some((p) => p.state !== 'syncing')) void s.loadPeers();
      return;
  }
}

export function connectEvents(store: AppStore, client: NetsyncClient): () => void {
  return client.onEvent((event) => applyEvent(store, event));
}
