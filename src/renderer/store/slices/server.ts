/** The sync server this app can run: its status, the form that starts it, and its permissions file. */
import { formatAddress } from '../../../shared/address.js';
import type { KnownKey, LineProblem, NetsyncApi, PermissionsFile, ServerStatus } from '../../../shared/api.js';
import type { ErrorText, SliceCreator } from '../types.js';

export interface PermissionsEditor {
  /** What the file holds now; null until loaded. */
  saved: PermissionsFile | null;
  /** The text being edited. */
  text: string;
  /** The lines the engine refused at the last save. */
  problems: LineProblem[];
  busy: boolean;
  error: ErrorText;
  /** Set after a save, until the next edit. */
  savedNote: string | null;
}

export interface ServerState {
  status: ServerStatus;
  /** The form: HOST:PORT and space-separated branch patterns; while serving, what the running server really uses. */
  bind: string;
  patterns: string;
  busy: boolean;
  error: ErrorText;
  permissions: PermissionsEditor;
  /** Keys a rule may name, for the permissions editor's picker. */
  knownKeys: KnownKey[];
}

export interface ServerSlice {
  server: ServerState;
  setServerForm(form: Partial<Pick<ServerState, 'bind' | 'patterns'>>): void;
  refreshServer(): Promise<void>;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  applyServerStatus(status: ServerStatus): void;
  loadPermissions(): Promise<void>;
  loadKnownKeys(): Promise<void>;
  editPermissions(text: string): void;
  savePermissions(): Promise<boolean>;
}

export const STOPPED: ServerStatus = { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 };

export function splitPatterns(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The form as the running server fills it: its real address (the port it got, when 0 was asked) and the patterns it offers. */
export function formOf(status: ServerStatus): Pick<ServerState, 'bind' | 'patterns'> | null {
  if (!status.running || status.host === undefined || status.port === undefined) return null;
  return { bind: formatAddress({ host: status.host, port: status.port }), patterns: status.patterns.join(' ') };
}

export const createServerSlice =
  (api: NetsyncApi): SliceCreator<ServerSlice> =>
  (set, get) => {
    const patch = (p: Partial<ServerState>) => set((s) => ({ server: { ...s.server, ...p } }));
    const patchPermissions = (p: Partial<PermissionsEditor>) => set((s) => ({ server: { ...s.server, permissions: { ...s.server.permissions, ...p } } }));
    const settle = (r: Awaited<ReturnType<NetsyncApi['serverStatus']>>) =>
      patch(r.ok ? { busy: false, error: r.value.error?.message ?? null, status: r.value, ...formOf(r.value) } : { busy: false, error: r.error.message });

    return {
      server: {
        status: STOPPED,
        bind: '0.0.0.0:4691',
        patterns: '',
        busy: false,
        error: null,
        permissions: { saved: null, text: '', problems: [], busy: false, error: null, savedNote: null },
        knownKeys: [],
      },

      setServerForm: (form) => patch(form),

      async refreshServer() {
        settle(await api.serverStatus());
      },

      async startServer() {
        const { bind, patterns } = get().server;
        patch({ busy: true, error: null });
        const r = await api.startServer({ bind: bind.trim(), patterns: splitPatterns(patterns) });
        settle(r);
        if (!r.ok && r.error.code === 'key-locked' && r.error.key) get().requestUnlock(r.error.key, { kind: 'serve' });
      },

      async stopServer() {
        patch({ busy: true, error: null });
        settle(await api.stopServer());
      },

      applyServerStatus(status) {
        const before = get().server.status.sessions;
        patch({ status, ...formOf(status), ...(status.error ? { error: status.error.message } : {}) });
        // A client that just began a session may be one more key to pick in the permissions editor.
        if (status.sessions > before) void get().loadKnownKeys();
      },

      async loadKnownKeys() {
        const r = await api.listKnownKeys();
        if (r.ok) patch({ knownKeys: r.value });
        else patchPermissions({ error: r.error.message });
      },

      async loadPermissions() {
        const r = await api.getPermissions();
        if (!r.ok) return patchPermissions({ error: r.error.message });
        const editing = get().server.permissions;
        // Keep unsaved edits; otherwise show the file as it is.
        const dirty = editing.saved !== null && editing.text !== editing.saved.text;
        patchPermissions({ saved: r.value, error: null, ...(dirty ? {} : { text: r.value.text }) });
      },

      editPermissions(text) {
        patchPermissions({ text, savedNote: null });
      },

      async savePermissions() {
        patchPermissions({ busy: true, error: null, savedNote: null });
        const r = await api.setPermissions(get().server.permissions.text);
        if (!r.ok) {
          patchPermissions({ busy: false, error: r.error.message, problems: r.error.lines ?? [] });
          return false;
        }
        patchPermissions({
          busy: false,
          saved: r.value,
          text: r.value.text,
          problems: [],
          savedNote: `Saved ${r.value.rules} rule${r.value.rules === 1 ? '' : 's'}; they apply from the next session (sessions in flight keep theirs).`,
        });
        if (get().server.error && get().server.status.error?.code === 'permission') await get().refreshServer();
        return true;
      },
    };
  };
