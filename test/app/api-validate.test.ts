import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/shared/address.js';
import { checkArgs, checkRequest } from '../../src/shared/api-validate.js';

describe('the API argument check', () => {
  it('accepts well-formed calls', () => {
    expect(checkArgs('openDatabase', []).ok).toBe(true);
    expect(checkArgs('openDatabase', ['/tmp/a.db']).ok).toBe(true);
    expect(checkArgs('addPeer', [{ name: 'lab', address: '10.0.0.2:4691' }]).ok).toBe(true);
    expect(checkArgs('addPeer', [{ name: 'lab', address: '[::1]' }]).ok).toBe(true);
    expect(checkArgs('updatePeer', ['abc123', { direction: 'pull', include: ['org.example.*'], exclude: ['org.example.secret*'] }]).ok).toBe(true);
    expect(checkArgs('startServer', [{ bind: '0.0.0.0:0', patterns: [] }]).ok).toBe(true);
    expect(checkArgs('generateKey', ['alice@example.org']).ok).toBe(true);
    expect(checkArgs('show', ['a1b2c3']).ok).toBe(true);
    expect(checkArgs('setIdentity', [{ kind: 'key', name: 'alice@example.org' }]).ok).toBe(true);
    expect(checkArgs('setIdentity', [{ kind: 'anonymous' }]).ok).toBe(true);
    expect(checkArgs('unlockKey', ['alice@example.org', 'correct horse']).ok).toBe(true);
    expect(checkArgs('answerServerPrompt', ['abc-123', true]).ok).toBe(true);
    expect(checkArgs('trustServer', ['127.0.0.1:4691', '3f2a '.repeat(16).trim()]).ok).toBe(true);
    expect(checkArgs('diffItems', ['0b6f7a2e-1c3d-4e5f-8a9b-0c1d2e3f4a5b', 'weLack', 0, 200]).ok).toBe(true);
    expect(checkArgs('diffItems', ['s1', 'theyLack', 400, 200, 'org.example.web']).ok).toBe(true);
    expect(checkArgs('setPermissions', ['']).ok).toBe(true);
    expect(checkArgs('trustKey', ['a1'.repeat(32)]).ok).toBe(true);
    expect(checkArgs('untrustKey', ['A1'.repeat(32)]).ok).toBe(true);
  });

  it.each([
    ['log', [], /needs 1 argument/],
    ['log', ['main', 'extra'], /at most 1 argument/],
    ['log', [42], /must be text/],
    ['listBranches', ['x'], /at most 0 arguments/],
    ['openDatabase', [null], /must be text/],
    ['openDatabase', ['a\0b'], /NUL/],
    ['addPeer', [{ name: 'lab' }], /address must be text/],
    ['addPeer', [{ name: 'lab', address: 'not an address' }], /^The address "not an address" is not a host name .*; type HOST or HOST:PORT/],
    [
      'addPeer',
      [{ name: 'lab', address: 'h:70000' }],
      /^The address "h:70000" is not an address: the port "70000" is not a number from 1 to 65535; type HOST or HOST:PORT/,
    ],
    ['addPeer', [{ name: '', address: 'h' }], /must not be empty/],
    ['addPeer', [{ name: 'lab', address: 'h', admin: true }], /unknown field "admin"/],
    ['addPeer', [['lab', 'h']], /must be an object/],
    ['updatePeer', ['p1', { direction: 'both' }], /^The direction "both" is not one of sync, push, pull/],
    ['updatePeer', ['p1', { include: ['!org.*'] }], /^The pattern "!org\.\*" is not a branch pattern; use letters/],
    ['updatePeer', ['../../etc', {}], /an id/],
    ['startServer', [{ bind: '0.0.0.0', patterns: [], extra: 1 }], /unknown field/],
    ['show', ['xyz'], /^The item id "xyz" has 3 characters, fewer than 6/],
    ['trustKey', ['a1b2c3d4'], /is not a key id \(64 hex digits\)/],
    ['trustKey', ['bob@example.org'], /is not a key id/],
    ['untrustKey', ['g'.repeat(64)], /is not a key id/],
    ['untrustKey', [], /needs 1 argument/],
    ['generateKey', ['bad name'], /^The key name "bad name" is not a key name; use letters/],
    ['checkout', ['org.example', ''], /must not be empty/],
    ['setIdentity', [{ kind: 'key' }], /kind: "key", name/],
    ['setIdentity', [{ kind: 'anonymous', name: 'x' }], /kind: "anonymous"/],
    ['setIdentity', ['anonymous'], /kind/],
    ['unlockKey', ['alice'], /needs 2 argument/],
    ['unlockKey', ['alice', ''], /^The passphrase must not be empty/],
    ['answerServerPrompt', ['p1', 'yes'], /true or false/],
    ['trustServer', ['127.0.0.1:1', 'abcd'], /at least 64|fingerprint/],
    ['trustServer', ['127.0.0.1:1', 'g'.repeat(64)], /not a fingerprint/],
    ['diffItems', ['s1', 'both', 0, 10], /weLack, theyLack/],
    ['diffItems', ['s1', 'weLack', 0, 100000], /^The page size 100000 is not a whole number from 1 to 1000/],
    ['diffItems', ['s1', 'weLack', -1, 10], /from 0/],
    ['setPermissions', ['read * a\0'], /NUL/],
  ] as const)('refuses %s(%j)', (method, args, why) => {
    const r = checkArgs(method, args);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('bad-request');
      expect(r.error.message).toMatch(why);
      // One sentence: what is wrong, then what to do (shared/error-advice.ts).
      expect(r.error.message).toMatch(/^[A-Z][^\n]*; [^\n]+\.$/);
    }
  });

  it('refuses unknown methods and non-list arguments', () => {
    expect(checkRequest('constructor', [])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(checkRequest('__proto__', [])).toMatchObject({ ok: false });
    expect(checkRequest('toString', [])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(checkRequest('hasOwnProperty', ['log'])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(checkRequest('log', { 0: 'main' })).toMatchObject({ ok: false });
    expect(checkRequest('log', ['main'])).toEqual({ ok: true, value: { method: 'log', args: ['main'] } });
  });

  it('names the value typed, never a passphrase', () => {
    const r = checkArgs('unlockKey', ['alice', 'x'.repeat(2000)]);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe('The passphrase has 2000 characters, more than 1024; correct it and try again.');
      expect(r.error.message).not.toContain('xxx');
    }
    const long = checkArgs('addPeer', [{ name: 'lab', address: `${'a'.repeat(70)} b` }]);
    // A long value is cut, so the sentence stays readable.
    expect(!long.ok && long.error.message).toMatch(/^The address "a{60}…" is not a host name/);
  });
});

describe('addresses', () => {
  it('parses HOST, HOST:PORT and bracketed IPv6', () => {
    expect(parseAddress('example.org')).toEqual({ host: 'example.org', port: 4691 });
    expect(parseAddress('127.0.0.1:1')).toEqual({ host: '127.0.0.1', port: 1 });
    expect(parseAddress('[::1]:99')).toEqual({ host: '::1', port: 99 });
    expect(parseAddress('0.0.0.0:0')).toBeNull();
    expect(parseAddress('0.0.0.0:0', 4691, true)).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseAddress('a b')).toBeNull();
    expect(parseAddress('::1')).toBeNull();
    expect(parseAddress('-bad.example')).toBeNull();
  });
});
