/**
 * The one address parser (src/shared/address.ts) of the command line, the
 * app and the service: a host is a DNS name, an IPv4 address or a bracketed
 * IPv6 address; a port is 1-65535 to connect and 0-65535 to bind.
 */
import { describe, expect, it } from 'vitest';
import { type HostPort, formatAddress, parseAddress, readAddress } from '../../src/shared/address.js';

const ACCEPTED: [text: string, address: HostPort][] = [
  ['example.org', { host: 'example.org', port: 4691 }],
  ['localhost:1', { host: 'localhost', port: 1 }],
  ['Host-1.Example.ORG:65535', { host: 'Host-1.Example.ORG', port: 65535 }],
  ['x1.example', { host: 'x1.example', port: 4691 }],
  ['1example.org', { host: '1example.org', port: 4691 }],
  [`${'a'.repeat(63)}.example`, { host: `${'a'.repeat(63)}.example`, port: 4691 }],
  ['127.0.0.1:4691', { host: '127.0.0.1', port: 4691 }],
  ['0.0.0.0', { host: '0.0.0.0', port: 4691 }],
  ['255.255.255.255:80', { host: '255.255.255.255', port: 80 }],
  ['[::1]', { host: '::1', port: 4691 }],
  ['[::1]:99', { host: '::1', port: 99 }],
  ['[::]:4691', { host: '::', port: 4691 }],
  ['[fe80::1:2]:7', { host: 'fe80::1:2', port: 7 }],
  ['[2001:db8:0:0:0:0:0:1]', { host: '2001:db8:0:0:0:0:0:1', port: 4691 }],
  ['[1:2:3:4:5:6:7::]', { host: '1:2:3:4:5:6:7::', port: 4691 }],
  ['[::ffff:192.0.2.1]:5', { host: '::ffff:192.0.2.1', port: 5 }],
  ['[1:2:3:4:5:6:192.0.2.1]', { host: '1:2:3:4:5:6:192.0.2.1', port: 4691 }],
];

const REFUSED: [text: string, why: string][] = [
  ['', 'empty'],
  [':4691', 'no host'],
  ['host_name:4691', 'an underscore is not in a DNS name'],
  ['bad host:1', 'a space'],
  [' example.org', 'leading space'],
  ['-bad.example', 'a label starting with a hyphen'],
  ['bad-.example', 'a label ending with a hyphen'],
  ['a..b', 'an empty label'],
  ['example.org.', 'a trailing dot'],
  [`${'a'.repeat(64)}.example`, 'a label of 64 bytes'],
  [`${'abcdefghi.'.repeat(25)}example`, 'a name over 253 bytes'],
  ['123', 'all digits: a resolver reads it as an IPv4 address'],
  ['1.2.3', 'three numeric parts'],
  ['256.1.1.1', 'a part over 255'],
  ['01.2.3.4', 'a leading zero (octal to some resolvers)'],
  ['1.2.3.4.5', 'five numeric parts'],
  ['::1', 'IPv6 without brackets'],
  ['fe80::1:4691', 'IPv6 without brackets, with a port'],
  ['[nothex]:1', 'not hex'],
  ['[]', 'empty brackets'],
  ['[::1', 'no closing bracket'],
  ['[::1]x', 'text after the bracket'],
  ['[1::2::3]', 'two ::'],
  ['[1:2:3:4:5:6:7:8:9]', 'nine groups'],
  ['[1:2:3:4:5:6:7]', 'seven groups without ::'],
  ['[12345::1]', 'a group of five digits'],
  ['[fe80::1%eth0]', 'a zone'],
  ['[1.2.3.4]', 'IPv4 in brackets'],
  ['[1.2.3.4::]', 'IPv4 before ::'],
  ['example.org:', 'an empty port'],
  ['example.org:x', 'a port that is not a number'],
  ['example.org:-1', 'a negative port'],
  ['example.org:65536', 'a port over 65535'],
  ['example.org:123456', 'six digits'],
  ['example.org:1:2', 'two ports'],
  ['peer:0', 'port 0 is only for binding'],
];

describe('readAddress', () => {
  for (const [text, address] of ACCEPTED) {
    it(`accepts ${JSON.stringify(text)}`, () => {
      expect(readAddress(text)).toEqual({ ok: true, address });
      expect(readAddress(text, 'bind')).toEqual({ ok: true, address });
      expect(parseAddress(formatAddress(address))).toEqual(address);
    });
  }

  for (const [text, why] of REFUSED) {
    it(`refuses ${JSON.stringify(text)} to connect: ${why}`, () => {
      const read = readAddress(text);
      expect(read.ok).toBe(false);
      expect(!read.ok && read.problem).toMatch(/./);
      expect(parseAddress(text)).toBeNull();
    });
  }

  it('binding takes port 0 (the system picks one), and nothing else connecting refuses', () => {
    expect(readAddress('127.0.0.1:0', 'bind')).toEqual({ ok: true, address: { host: '127.0.0.1', port: 0 } });
    expect(readAddress('peer:0', 'bind')).toEqual({ ok: true, address: { host: 'peer', port: 0 } });
    expect(parseAddress('[::]:0', 4691, true)).toEqual({ host: '::', port: 0 });
    for (const [text] of REFUSED.filter(([t]) => t !== 'peer:0')) expect(readAddress(text, 'bind').ok, text).toBe(false);
  });

  it('says what is wrong: the host, the form or the port', () => {
    expect(readAddress('host_name:4691')).toEqual({
      ok: false,
      problem: '"host_name" is not a host name or an IPv4 address (an IPv6 address goes in brackets)',
    });
    expect(readAddress('[nothex]:1')).toEqual({ ok: false, problem: '"nothex" is not an IPv6 address' });
    expect(readAddress('peer:0')).toEqual({ ok: false, problem: 'the port "0" is not a number from 1 to 65535' });
    expect(readAddress('[::1')).toEqual({ ok: false, problem: 'it is not HOST, HOST:PORT, [IPv6] or [IPv6]:PORT' });
  });
});
