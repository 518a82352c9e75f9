/** Peer and bind addresses: HOST, HOST:PORT, [IPv6] or [IPv6]:PORT. Pure string work. */

/** monotone's registered port, kept by netsync (also `DEFAULT_PORT` in the engine's protocol api). */
export const DEFAULT_SYNC_PORT = 4691;

export interface HostPort {
  host: string;
  port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** Null when `text` is not an address; `allowPortZero` for binds that let the OS pick. */
export function parseAddress(text: string, defaultPort = DEFAULT_SYNC_PORT, allowPortZero = false): HostPort | null {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const host = m[1]!;
  const bracketed = text.startsWith('[');
  if (bracketed ? !(IPV6.test(host) && host.includes(':')) : !HOSTNAME.test(host)) return null;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port > 65535 || port < (allowPortZero ? 0 : 1)) return null;
  return { host, port };
}

export function formatAddress({ host, port }: HostPort): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
