/**
 * The web host's wire conventions, shared by the server (src/webhost) and
 * the renderer's WebSocket adapter: the endpoint, the handshake, and the
 * messages (JSON, one per WebSocket message), declared once for both ends.
 */
import { type ApiMethod, type NetsyncEvent, type Result, err, ok } from './api.js';
import { checkRequest } from './api-validate.js';
import { withWhatToDo } from './error-advice.js';
import { array, integer, object, string, unchecked } from './schema.js';

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

// ------------------------------------------------------------------ envelopes

/** A call from the page: `id` pairs it with its response. */
export interface WsRequest {
  id: number;
  method: ApiMethod;
  args: unknown[];
}

/** The host's answer to the request with the same `id`. */
export interface WsResponse {
  id: number;
  result: Result<unknown>;
}

/** An engine event, pushed to every open socket. */
export interface WsEvent {
  event: NetsyncEvent;
}

/** What the host sends. */
export type WsHostMessage = WsResponse | WsEvent;

/** Ids the page counts up from 1; anything else is nobody's request. */
const requestId = integer(1, Number.MAX_SAFE_INTEGER);
/** The fields of a request, and no others; the call itself is checked by its own schema (checkRequest). */
const requestEnvelope = object({ id: requestId, method: string({ min: 1, max: 64 }), args: array(unchecked(), 64) });

/** The request's id, when it has a usable one: without it there is nobody to answer. */
export function wsRequestId(message: unknown): number | null {
  const id = (message as { id?: unknown } | null)?.id;
  return requestId.problem(id, 'id') === null ? (id as number) : null;
}

/** A request from the page, checked as a call crossing any boundary is: the envelope, then the call and its arguments. */
export function checkWsRequest(message: unknown): Result<WsRequest> {
  const problem = requestEnvelope.problem(message, 'the request');
  if (problem) return err('bad-request', withWhatToDo('bad-request', problem));
  const { id, method, args } = message as { id: number; method: string; args: unknown[] };
  const call = checkRequest(method, args);
  return call.ok ? ok({ id, ...call.value }) : call;
}

/** A message from the host, or null when it is none (the host is ours; this only keeps garbage from breaking the page). */
export function readWsHostMessage(text: string): WsHostMessage | null {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof message !== 'object' || message === null) return null;
  const m = message as Partial<WsResponse & WsEvent>;
  if (typeof m.event === 'object' && m.event !== null) return { event: m.event };
  if (typeof m.id === 'number' && typeof m.result === 'object' && m.result !== null) return { id: m.id, result: m.result };
  return null;
}
