/**
 * The renderer's adapter for the headless web host: JSON over one WebSocket.
 * The access token travels in the WebSocket handshake (as a subprotocol), so
 * the socket is refused before any message without it. Calls made while the
 * socket is down fail with one sentence; the next call reconnects.
 */
import { apiFromInvoker } from '../../shared/api-calls.js';
import { type ApiMethod, type EventListener, type NetsyncClient, type Result, engineUnavailable } from '../../shared/api.js';
import { WS_PATH, WS_PROTOCOL, type WsRequest, readWsHostMessage, tokenProtocol } from '../../shared/webhost.js';

const RETRY_MS = 2000;

export interface WsClientOptions {
  /** ws://host:port of the web host; the path is added here. */
  origin: string;
  token: string;
  /** For tests: a WebSocket constructor other than the browser's. */
  WebSocketImpl?: typeof WebSocket;
  /** Told when the connection drops or comes back. */
  onConnection?: (up: boolean) => void;
}

export function createWsClient(options: WsClientOptions): NetsyncClient & { close(): void } {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const listeners = new Set<EventListener>();
  const pending = new Map<number, (r: Result<unknown>) => void>();
  let socket: WebSocket | null = null;
  let opened: Promise<WebSocket> | null = null;
  let nextId = 1;
  let closedByUs = false;

  const lost = () => {
    socket = null;
    opened = null;
    const result = engineUnavailable('The connection to the Netsync web host was lost', { whatToDo: 'check that it still runs, then try again' });
    for (const resolve of pending.values()) resolve(result);
    pending.clear();
    options.onConnection?.(false);
  };

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise((resolve, reject) => {
      const ws = new Impl(`${options.origin}${WS_PATH}`, [WS_PROTOCOL, tokenProtocol(options.token)]);
      ws.onopen = () => {
        socket = ws;
        options.onConnection?.(true);
        resolve(ws);
      };
      ws.onerror = () => reject(new Error('refused'));
      ws.onclose = () => {
        if (socket === ws) lost();
        else opened = null;
        reject(new Error('closed'));
        // Events only flow on an open socket: keep trying while someone listens.
        if (!closedByUs && listeners.size > 0) setTimeout(() => void connect().catch(() => undefined), RETRY_MS);
      };
      ws.onmessage = (m) => {
        const msg = readWsHostMessage(String(m.data));
        if (!msg) return;
        if ('event' in msg) {
          for (const l of listeners) l(msg.event);
          return;
        }
        const resolve = pending.get(msg.id);
        pending.delete(msg.id);
        resolve?.(msg.result);
      };
    });
    return opened;
  };

  const invoke = async (method: ApiMethod, args: unknown[]): Promise<Result<unknown>> => {
    let ws: WebSocket;
    try {
      ws = await connect();
    } catch {
      return engineUnavailable('Cannot reach the Netsync web host', { whatToDo: 'check that it runs, and open this page from the link it printed' });
    }
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, args } satisfies WsRequest));
    });
  };

  return {
    ...apiFromInvoker(invoke),
    onEvent(listener) {
      listeners.add(listener);
      void connect().catch(() => undefined);
      return () => listeners.delete(listener);
    },
    close() {
      closedByUs = true;
      socket?.close();
    },
  };
}
