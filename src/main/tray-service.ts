/**
 * The tray icon as a small service: `render(state)` derives the whole menu
 * from state, and the real Tray/Menu come from an injected backend so the
 * logic is tested without a desktop (src/main/electron-tray.ts is the real
 * one). Nothing here imports Electron.
 */

export interface TrayState {
  serving: boolean;
  /** host:port the server listens on, when serving. */
  bind?: string;
  /** Peers connected to our server right now. */
  connectedPeers: number;
  /** Items sent plus received by the server since it started. */
  itemsMoved: number;
  /** A server start or stop is under way: the toggle is disabled. */
  busy: boolean;
  /** Why serving failed, as one sentence. */
  error?: string;
  /** The automatic sync (AutoSyncStatus, counted). */
  sync: TraySync;
}

export interface TraySync {
  /** Peers kept in sync. */
  kept: number;
  /** Of those, syncing now. */
  syncing: number;
  /** Of those, failing (backing off). */
  failing: number;
  paused: boolean;
  /** Why the first failing peer failed, as one sentence. */
  lastError?: string;
}

/** What the icon says at a glance (its tooltip): the most urgent first. */
export type TrayHeadline = 'error' | 'syncing' | 'serving' | 'up to date' | 'idle';

export interface TrayActions {
  startServing(): void;
  stopServing(): void;
  openWindow(): void;
  quit(): void;
  syncAllNow(): void;
  setPaused(paused: boolean): void;
}

export type TrayMenuItem = { type: 'normal'; id: string; label: string; enabled: boolean; click?: () => void } | { type: 'separator'; id: string };

/** What the service needs from a tray; Electron's Tray + Menu implement it in electron-tray.ts. */
export interface TrayBackend {
  setMenu(items: TrayMenuItem[]): void;
  setToolTip(text: string): void;
  destroy(): void;
}

export type TrayFactory = () => TrayBackend;

export const INITIAL_TRAY_STATE: TrayState = {
  serving: false,
  connectedPeers: 0,
  itemsMoved: 0,
  busy: false,
  sync: { kept: 0, syncing: 0, failing: 0, paused: false },
};

export function trayHeadline(state: TrayState): TrayHeadline {
  if (state.error || state.sync.failing > 0) return 'error';
  if (state.sync.syncing > 0) return 'syncing';
  if (state.serving) return 'serving';
  return state.sync.kept > 0 && !state.sync.paused ? 'up to date' : 'idle';
}

/** The automatic sync's line of the menu. */
function syncLine(sync: TraySync): string {
  const peers = plural(sync.kept, 'peer', 'peers');
  if (sync.kept === 0) return 'No peer kept in sync';
  if (sync.paused) return `Automatic sync paused (${peers})`;
  if (sync.failing > 0) return `${plural(sync.failing, 'peer', 'peers')} of ${sync.kept} failing${sync.lastError ? `: ${sync.lastError}` : ''}`;
  if (sync.syncing > 0) return `Syncing ${plural(sync.syncing, 'peer', 'peers')}…`;
  return `${peers} kept in sync: up to date`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The menu for a state: pure, so every state is easy to test. */
export function trayMenu(state: TrayState, actions: TrayActions): TrayMenuItem[] {
  const info = (id: string, label: string): TrayMenuItem => ({ type: 'normal', id, label, enabled: false });
  const items: TrayMenuItem[] = [];
  if (state.serving) {
    items.push(info('status', `Serving on ${state.bind ?? 'an unknown address'}`));
    items.push(info('peers', `${plural(state.connectedPeers, 'peer', 'peers')} connected`));
    items.push(info('moved', `${plural(state.itemsMoved, 'item', 'items')} moved`));
    items.push({ type: 'normal', id: 'toggle', label: 'Stop serving', enabled: !state.busy, click: actions.stopServing });
  } else {
    items.push(info('status', state.error ? `Not serving: ${state.error}` : 'Not serving'));
    items.push({ type: 'normal', id: 'toggle', label: 'Start serving', enabled: !state.busy, click: actions.startServing });
  }
  items.push({ type: 'separator', id: 'sep-sync' });
  items.push(info('sync', syncLine(state.sync)));
  items.push({ type: 'normal', id: 'sync-all', label: 'Sync all now', enabled: true, click: actions.syncAllNow });
  const paused = state.sync.paused;
  items.push({
    type: 'normal',
    id: 'pause',
    label: paused ? 'Resume automatic sync' : 'Pause automatic sync',
    enabled: paused || state.sync.kept > 0,
    click: () => actions.setPaused(!paused),
  });
  items.push({ type: 'separator', id: 'sep-1' });
  items.push({ type: 'normal', id: 'open', label: 'Open Netsync', enabled: true, click: actions.openWindow });
  items.push({ type: 'normal', id: 'quit', label: 'Quit', enabled: true, click: actions.quit });
  return items;
}

export function trayToolTip(state: TrayState): string {
  const server = state.serving ? `serving on ${state.bind ?? '?'}, ${plural(state.connectedPeers, 'peer', 'peers')} connected` : 'not serving';
  const headline = trayHeadline(state);
  // The server's own words stay first when it is all there is to say (and as the tooltip said before).
  if (headline === 'serving' || headline === 'idle') return `Netsync: ${server}`;
  return `Netsync: ${headline}; ${server}`;
}

/** The automatic sync's status, counted for the tray. */
export function traySync(status: { paused: boolean; peers: readonly { state: string; lastError?: { message: string } }[] }): TraySync {
  const failing = status.peers.filter((p) => p.state === 'backing-off');
  return {
    kept: status.peers.length,
    syncing: status.peers.filter((p) => p.state === 'syncing').length,
    failing: failing.length,
    paused: status.paused,
    ...(failing[0]?.lastError ? { lastError: failing[0].lastError.message } : {}),
  };
}

export class TrayService {
  private backend: TrayBackend | null = null;
  private state: TrayState = INITIAL_TRAY_STATE;
  private lastMenu = '';

  constructor(
    private readonly createTray: TrayFactory,
    private readonly actions: TrayActions,
  ) {}

  get current(): TrayState {
    return this.state;
  }

  /** Merges `changes` into the state and redraws only when the menu would change. */
  render(changes: Partial<TrayState> = {}): void {
    this.state = { ...this.state, ...changes };
    this.backend ??= this.createTray();
    const menu = trayMenu(this.state, this.actions);
    const key = JSON.stringify(menu.map((m) => (m.type === 'separator' ? m.id : [m.id, m.label, m.enabled])));
    if (key === this.lastMenu) return;
    this.lastMenu = key;
    this.backend.setMenu(menu);
    this.backend.setToolTip(trayToolTip(this.state));
  }

  destroy(): void {
    this.backend?.destroy();
    this.backend = null;
    this.lastMenu = '';
  }
}
