/**
 * Who may talk to the web host. It listens on loopback only, but a page on
 * any website can still make the browser send requests to 127.0.0.1, and DNS
 * rebinding can make such a page look same-origin. So: the Host header must
 * name us (defeats rebinding), a WebSocket must come from our own origin,
 * and it must carry the per-run token that only the printed link holds.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { WS_PROTOCOL, tokenFromProtocols } from '../shared/webhost.js';

export type Verdict = { ok: true } | { ok: false; status: number; reason: string };

const OK: Verdict = { ok: true };

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function allowedOrigins(port: number): string[] {
  return allowedHosts(port).map((h) => `http://${h}`);
}

export function checkHost(headers: IncomingHttpHeaders, port: number): Verdict {
  const host = headers.host?.toLowerCase();
  return host && allowedHosts(port).includes(host) ? OK : { ok: false, status: 421, reason: 'wrong Host header' };
}

/** Plain requests may come without Origin (a typed URL); when one is sent it must be ours. */
export function checkOptionalOrigin(headers: IncomingHttpHeaders, port: number): Verdict {
  const origin = headers.origin;
  return origin === undefined || allowedOrigins(port).includes(origin) ? OK : { ok: false, status: 403, reason: 'foreign Origin' };
}

export function sameToken(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function offeredProtocols(headers: IncomingHttpHeaders): string[] {
  return (headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A WebSocket upgrade: our Host, our Origin (browsers always send one), our protocol, the token. */
export function checkUpgrade(headers: IncomingHttpHeaders, port: number, token: string): Verdict {
  const host = checkHost(headers, port);
  if (!host.ok) return host;
  if (!headers.origin || !allowedOrigins(port).includes(headers.origin)) return { ok: false, status: 403, reason: 'missing or foreign Origin' };
  const offered = offeredProtocols(headers);
  if (!offered.includes(WS_PROTOCOL)) return { ok: false, status: 400, reason: 'unknown protocol' };
  if (!sameToken(tokenFromProtocols(offered), token)) return { ok: false, status: 401, reason: 'missing or wrong token' };
  return OK;
}
