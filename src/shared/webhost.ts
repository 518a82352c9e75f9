/**
 * The web host's wire conventions, shared by the server (src/webhost) and
 * the renderer's WebSocket adapter.
 */

/** The one WebSocket endpoint. */
export const WS_PATH = '/api';

/** The subprotocol both ends speak; the server selects it. */
export const WS_PROTOCOL = 'netsync.v1';

const TOKEN_PREFIX = 'token.';

/**
 * The per-run access token rides in the WebSocket handshake as a second
 * subprotocol, because a browser cannot set other headers on a WebSocket
 * and a query string would end up in logs.
 */
export function tokenProtocol(token: string): string {
  return `${TOKEN_PREFIX}${token}`;
}

export function tokenFromProtocols(offered: readonly string[]): string | null {
  const p = offered.find((s) => s.startsWith(TOKEN_PREFIX));
  return p ? p.slice(TOKEN_PREFIX.length) : null;
}

/** Messages from the page to the host. */
export interface WsRequest {
  id: number;
  method: string;
  args: unknown[];
}
