/** The permissions file (docs/SECURITY.md §4): parsing, matching, defaults, and mistakes named by line. */
import { describe, expect, it } from 'vitest';
import { Permissions } from '../../src/engine/security/permissions.js';
import { formatFingerprint, parseFingerprint } from '../../src/engine/security/fingerprint.js';
import { fp, signer } from './helpers.js';

const owner = signer('server@example.org');
const alice = signer('alice@example.org');
const bob = signer('bob@example.org');
const key = (s: ReturnType<typeof signer>) => s.pair.publicKey;

describe('permissions file', () => {
  it('grants per key, to any key, and to anonymous clients; the owner may do anything; write needs read', () => {
    const p = Permissions.parse(
      [
        '# comment',
        `read ${fp(alice)} org.*  !org.secret*   # alice reads org.* but the secrets`,
        `write ${formatFingerprint(fp(alice))} org.project`,
        'read * shared.*',
        'read anonymous public.*',
        `write ${fp(bob)} org.*`,
        '',
      ].join('\n'),
    );
    const a = p.accessFor(key(alice), key(owner));
    expect([a.mayRead('org.project'), a.mayRead('org.secret.x'), a.mayRead('shared.x'), a.mayRead('public.x')]).toEqual([true, false, true, false]);
    expect([a.mayWrite('org.project'), a.mayWrite('org.other'), a.mayWrite('shared.x')]).toEqual([true, false, false]);
    const b = p.accessFor(key(bob), key(owner));
    expect([b.mayRead('org.project'), b.mayWrite('org.project'), b.mayRead('shared.x')]).toEqual([false, false, true]); // write without read grants nothing
    const anon = p.accessFor(null, key(owner));
    expect([anon.client, anon.mayRead('public.x'), anon.mayRead('shared.x'), anon.mayWrite('public.x')]).toEqual([null, true, false, false]);
    const o = p.accessFor(key(owner), key(owner));
    expect([o.owner, o.mayRead('anything'), o.mayWrite('anything')]).toEqual([true, true, true]);
  });

  it('with no rule, only the server key may act', () => {
    const none = Permissions.none().accessFor(key(alice), key(owner));
    expect([none.mayRead('x'), none.mayWrite('x')]).toEqual([false, false]);
    expect(Permissions.load('/nonexistent/permissions').ruleCount).toBe(0);
  });

  it.each([
    ['grant alice *', /:1: a rule starts with "read" or "write"/],
    ['read alice *', /:1: "alice" is not a key fingerprint/],
    ['read anonymous', /:1: no branch pattern/],
    ['\nread 1234 5678 *', /:2: .*not a whole fingerprint/],
    ['read * bad/pattern', /:1: .*not a branch pattern/],
  ])('refuses %j with the line of the mistake', (text, message) => {
    expect(() => Permissions.parse(text, 'perms')).toThrow(message);
  });

  it('lists every wrong line at once, for an editor, and nothing for a good text', () => {
    const text = ['# comment', 'read * org.*', 'raed * org.*', '', 'read alice org.*', 'write anonymous'].join('\n');
    expect(Permissions.problems(text)).toEqual([
      { line: 3, message: 'a rule starts with "read" or "write", not "raed"' },
      { line: 5, message: '"alice" is not a key fingerprint, "anonymous" or "*"' },
      { line: 6, message: 'no branch pattern after who the rule is for' },
    ]);
    expect(Permissions.problems('read * org.*\nwrite * org.example.*  # ok\n')).toEqual([]);
  });

  it('fingerprints are read with or without separators', () => {
    const hex = fp(alice);
    for (const form of [hex, hex.toUpperCase(), formatFingerprint(hex), hex.match(/.{2}/g)!.join(':')]) expect(parseFingerprint(form)).toBe(hex);
    expect(parseFingerprint(hex.slice(1))).toBeNull();
  });
});
