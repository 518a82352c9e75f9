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
}

export interface TrayActions {
  startServing(): void;
  stopServing(): void;
  openWindow(): void;
  quit(): void;
}

export type TrayMenuItem = { type: 'normal'; id: string; label: string; enabled: boolean; click?: () => void } | { type: 'separator'; id: string };

/** What the service needs from a tray; Electron's Tray + Menu implement it in electron-tray.ts. */
export interface TrayBackend {
  setMenu(items: TrayMenuItem[]): void;
  setToolTip(text: string): void;
  destroy(): void;
}

export type TrayFactory = () => TrayBackend;

export const INITIAL_TRAY_STATE: TrayState = { serving: false, connectedPeers: 0, itemsMoved: 0, busy: false };

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
  items.push({ type: 'separator', id: 'sep-1' });
  items.push({ type: 'normal', id: 'open', label: 'Open Netsync', enabled: true, click: actions.openWindow });
  items.push({ type: 'normal', id: 'quit', label: 'Quit', enabled: true, click: actions.quit });
  return items;
}

export function trayToolTip(state: TrayState): string {
  if (!state.serving) return 'Netsync: not serving';
  return `Netsync: serving on ${state.bind ?? '?'}, ${plural(state.connectedPeers, 'peer', 'peers')} connected`;
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
