/**
 * Peer and bind addresses: HOST, HOST:PORT, [IPv6] or [IPv6]:PORT, where a
 * HOST is a DNS name or an IPv4 address and an IPv6 address is always in
 * brackets. The one parser of the command line, the app and the service, so
 * that an address one accepts the others accept too (they share the pins of
 * known servers). Pure string work.
 */

/** monotone's registered port, kept by netsync (the engine's `DEFAULT_PORT` is this one). */
export const DEFAULT_SYNC_PORT = 4691;

export interface HostPort {
  host: string;
  port: number;
}

/** To connect, a port is 1-65535; to bind, 0 lets the system choose one (tests and benchmarks bind port 0). */
export type AddressUse = 'connect' | 'bind';

export type AddressRead = { ok: true; address: HostPort } | { ok: false; problem: string };

const FORM = 'it is not HOST, HOST:PORT, [IPv6] or [IPv6]:PORT';
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DIGITS = /^[0-9]+$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

/** Dotted decimal, four parts of 0-255 without leading zeros (which some resolvers read as octal). */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => DIGITS.test(p) && p.length <= 3 && Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

/**
 * A DNS name: labels of letters, digits and inner hyphens, 63 bytes at most,
 * 253 in all, no trailing dot. The last label is not all digits (RFC 3696
 * §2): `1.2.3` or `123` would be read by a resolver as an IPv4 address.
 */
export function isHostName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  const labels = text.split('.');
  return labels.every((l) => LABEL.test(l)) && !DIGITS.test(labels[labels.length - 1]!);
}

/** Eight groups of 1-4 hex digits, `::` for one run of zero groups, an IPv4 address in place of the last two; no zone. */
export function isIPv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  const last = groups[groups.length - 1]!;
  let count = 0;
  if (last.length > 0 && last[last.length - 1]!.includes('.')) {
    if (!isIPv4(last.pop()!)) return false;
    count += 2;
  }
  for (const g of groups) {
    if (!g.every((x) => HEX_GROUP.test(x))) return false;
    count += g.length;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** The address in `text`, or why it is not one (a phrase to follow the text, for a message). */
export function readAddress(text: string, use: AddressUse = 'connect', defaultPort = DEFAULT_SYNC_PORT): AddressRead {
  const m = /^\[([^\]]*)\](?::([^:]*))?$/.exec(text) ?? /^([^:[\]]*)(?::([^:]*))?$/.exec(text);
  if (!m) return { ok: false, problem: FORM };
  const host = m[1]!;
  if (text.startsWith('[') ? !isIPv6(host) : !(isIPv4(host) || isHostName(host))) {
    const what = text.startsWith('[') ? 'an IPv6 address' : 'a host name or an IPv4 address (an IPv6 address goes in brackets)';
    return { ok: false, problem: host === '' ? FORM : `"${host}" is not ${what}` };
  }
  const lowest = use === 'bind' ? 0 : 1;
  if (m[2] === undefined) return { ok: true, address: { host, port: defaultPort } };
  const port = /^[0-9]{1,5}$/.test(m[2]) ? Number(m[2]) : Number.NaN;
  if (!(port >= lowest && port <= 65535)) return { ok: false, problem: `the port "${m[2]}" is not a number from ${lowest} to 65535` };
  return { ok: true, address: { host, port } };
}

/** Null when `text` is not an address; `allowPortZero` for binds that let the system pick the port. */
export function parseAddress(text: string, defaultPort = DEFAULT_SYNC_PORT, allowPortZero = false): HostPort | null {
  const read = readAddress(text, allowPortZero ? 'bind' : 'connect', defaultPort);
  return read.ok ? read.address : null;
}

export function formatAddress({ host, port }: HostPort): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
