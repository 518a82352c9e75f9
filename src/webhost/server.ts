/**
 * The headless web host: the same NetsyncApi as the desktop app, for a
 * browser, over HTTP (the built renderer) and one WebSocket (calls and
 * events as JSON). Loopback only, a random token per run, and Host/Origin
 * checks (guard.ts). Plain Node: no Electron.
 */
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { type NetsyncClient, type NetsyncEvent, type Result, engineUnavailable } from '../shared/api.js';
import { contentSecurityPolicy } from '../shared/csp.js';
import { WS_PATH, WS_PROTOCOL, type WsEvent, type WsResponse, checkWsRequest, wsRequestId } from '../shared/webhost.js';
import { checkHost, checkOptionalOrigin, checkUpgrade } from './guard.js';
import { securityHeaders, serveStatic } from './static-files.js';

export interface WebHostOptions {
  api: NetsyncClient;
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** 0 (the default) lets the OS pick a free port. */
  port?: number;
  /** Fixed only in tests; otherwise 32 random bytes per run. */
  token?: string;
}

export interface WebHost {
  port: number;
  token: string;
  /** The link to open: the token rides in the fragment, which browsers never send to a server. */
  url: string;
  close(): Promise<void>;
}

/** The host is loopback-only by design; nothing here can bind elsewhere. */
const HOST = '127.0.0.1';
const MAX_MESSAGE = 1 << 20;
/** Above this much unsent data a client is slow: progress is dropped (its sequence numbers show the gap). */
const SLOW_CLIENT_BYTES = 4 << 20;

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE, handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false) });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const headers = securityHeaders(contentSecurityPolicy([`ws://${HOST}:${port}`, `ws://localhost:${port}`]));

  server.on('request', (req, res) => {
    const verdict = [checkHost(req.headers, port), checkOptionalOrigin(req.headers, port)].find((v) => !v.ok);
    if (verdict && !verdict.ok) {
      res.writeHead(verdict.status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`Refused: ${verdict.reason}.\n`);
      return;
    }
    serveStatic(options.staticDir, req, res, headers);
  });

  server.on('upgrade', (req, socket: Duplex, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const verdict = path === WS_PATH ? checkUpgrade(req.headers, port, token) : ({ ok: false, status: 404, reason: 'no such endpoint' } as const);
    if (!verdict.ok) {
      socket.end(`HTTP/1.1 ${verdict.status} Refused\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nRefused: ${verdict.reason}.\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, options.api));
  });

  const unsubscribe = options.api.onEvent((event) => broadcast(wss, event));

  return {
    port,
    token,
    url: `http://${HOST}:${port}/#token=${token}`,
    close: async () => {
      unsubscribe();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeServer(server);
    },
  };
}

function serveSocket(ws: WebSocket, api: NetsyncClient): void {
  ws.on('message', (data, isBinary) => {
    void answer(api, isBinary ? null : data.toString()).then((reply) => {
      if (reply && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(reply));
    });
  });
}

async function answer(api: NetsyncClient, text: string | null): Promise<WsResponse | null> {
  let message: unknown;
  try {
    message = JSON.parse(text ?? '');
  } catch {
    return null; // not ours; nothing to answer to
  }
  const id = wsRequestId(message);
  if (id === null) return null;
  const request = checkWsRequest(message);
  if (!request.ok) return { id, result: request };
  const call = api[request.value.method] as (...args: unknown[]) => Promise<Result<unknown>>;
  try {
    return { id, result: await call.apply(api, request.value.args) };
  } catch (e) {
    // The engine answers with Results; a throw means the way to it failed. Said as the desktop app says it.
    return { id, result: engineUnavailable("Netsync's engine could not take the call", { cause: e }) };
  }
}

function broadcast(wss: WebSocketServer, event: NetsyncEvent): void {
  const text = JSON.stringify({ event } satisfies WsEvent);
  for (const ws of wss.clients) {
    if (ws.readyState !== WebSocket.OPEN) continue;
    if (event.type === 'session-progress' && ws.bufferedAmount > SLOW_CLIENT_BYTES) continue;
    ws.send(text);
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
