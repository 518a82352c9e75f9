/** The sync server this app can run: its status, and the form that starts it. */
import type { NetsyncApi, ServerStatus } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

export interface ServerState {
  status: ServerStatus;
  /** The form: HOST:PORT and space-separated branch patterns. */
  bind: string;
  patterns: string;
  busy: boolean;
  error: ErrorText;
}

export interface ServerSlice {
  server: ServerState;
  setServerForm(form: Partial<Pick<ServerState, 'bind' | 'patterns'>>): void;
  refreshServer(): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  applyServerStatus(status: ServerStatus): void;
}

export const STOPPED: ServerStatus = { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 };

export function splitPatterns(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

export const createServerSlice =
  (api: NetsyncApi): SliceCreator<ServerSlice> =>
  (set, get) => {
    const patch = (p: Partial<ServerState>) => set((s) => ({ server: { ...s.server, ...p } }));
    const settle = (r: Awaited<ReturnType<NetsyncApi['serverStatus']>>) =>
      patch(r.ok ? { busy: false, error: r.value.error?.message ?? null, status: r.value } : { busy: false, error: r.error.message });

    return {
      server: { status: STOPPED, bind: '0.0.0.0:4691', patterns: '', busy: false, error: null },

      setServerForm: (form) => patch(form),

      async refreshServer() {
        settle(await api.serverStatus());
      },

      async startServer() {
        const { bind, patterns } = get().server;
        patch({ busy: true, error: null });
        settle(await api.startServer({ bind: bind.trim(), patterns: splitPatterns(patterns) }));
      },

      async stopServer() {
        patch({ busy: true, error: null });
        settle(await api.stopServer());
      },

      applyServerStatus(status) {
        patch({ status, ...(status.error ? { error: status.error.message } : {}) });
      },
    };
  };
