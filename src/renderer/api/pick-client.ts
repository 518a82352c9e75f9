/**
 * Picks the adapter: Electron's bridge when the preload put one there,
 * otherwise the web host's WebSocket, with the token from the link it printed.
 */
import type { NetsyncClient } from '../../shared/api.js';
import { electronClient } from './electron-client.js';
import { createWsClient } from './ws-client.js';

const TOKEN_KEY = 'netsync.token';

/** The token from `#token=...`, kept for reloads in this tab only, and taken out of the address bar. */
function webHostToken(): string | null {
  const fromHash = /(?:^#|&)token=([0-9a-f]{16,128})(?:&|$)/.exec(location.hash)?.[1];
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export type PickedClient = { ok: true; client: NetsyncClient; kind: 'electron' | 'web' } | { ok: false; reason: string };

export function pickClient(onConnection?: (up: boolean) => void): PickedClient {
  if (window.netsync) return { ok: true, client: electronClient(window.netsync), kind: 'electron' };
  const token = webHostToken();
  if (!token) return { ok: false, reason: 'Open Netsync from the link the web host printed: it carries the access token this page needs.' };
  const origin = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  return { ok: true, client: createWsClient({ origin, token, onConnection }), kind: 'web' };
}
