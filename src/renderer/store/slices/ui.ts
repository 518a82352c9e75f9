/** Which screen shows what, the link to the host, and start-up. */
import type { NetsyncApi } from '../../../shared/api.js';
import type { SliceCreator } from '../types.js';

export type Screen = 'peers' | 'diff' | 'transfers' | 'collection' | 'server' | 'identity';

export interface UiState {
  screen: Screen;
  /** The peer whose diff the Diff screen shows. */
  diffPeerId: string | null;
  /** The session the Transfers screen shows; null = the newest. */
  transferId: string | null;
  connected: boolean;
  bootError: string | null;
}

export interface UiSlice {
  ui: UiState;
  navigate(screen: Screen): void;
  showDiff(peerId: string): void;
  showTransfer(sessionId: string): void;
  setConnected(up: boolean): void;
  /** Opens the host's database when none is open, then loads every slice. */
  boot(): Promise<void>;
}

export const createUiSlice =
  (api: NetsyncApi): SliceCreator<UiSlice> =>
  (set, get) => {
    const patch = (p: Partial<UiState>) => set((s) => ({ ui: { ...s.ui, ...p } }));
    return {
      ui: { screen: 'peers', diffPeerId: null, transferId: null, connected: true, bootError: null },
      navigate: (screen) => patch({ screen }),
      showDiff: (peerId) => patch({ screen: 'diff', diffPeerId: peerId }),
      showTransfer: (sessionId) => patch({ screen: 'transfers', transferId: sessionId }),
      setConnected(up) {
        const was = get().ui.connected;
        patch({ connected: up });
        // Events may have been missed while the link was down: reload what they would have told.
        if (up && !was) void get().boot();
      },
      async boot() {
        const status = await api.getStatus();
        if (!status.ok) {
          patch({ bootError: status.error.message });
          return;
        }
        patch({ bootError: null });
        const s = get();
        if (status.value.database) await s.refreshCollection();
        else await s.openDatabase();
        s.applyServerStatus(status.value.server);
        if (status.value.autoSync) s.applyAutoSync(status.value.autoSync);
        for (const session of status.value.sessions) s.applySessionStarted(session);
        // A first-contact question asked before this page loaded is still waiting for an answer.
        for (const prompt of status.value.prompts ?? []) s.applyPromptOpened(prompt);
        await Promise.all([s.loadPeers(), s.loadKeys(), s.loadTransfers()]);
      },
    };
  };
