/**
 * Branch patterns (src/engine/security/patterns.ts): the glob matcher agrees
 * with a brute-force reference on random globs and names, and a hostile
 * pattern costs what an ordinary one does (issue #18: `*a*a…*b` against
 * `aaa…` froze a server when globs were regular expressions).
 */
import { describe, expect, it } from 'vitest';
import { MAX_PATTERNS, branchFilter } from '../../src/engine/security/patterns.js';
import { SeededRandom } from '../helpers/random.js';

/** Glob semantics by definition: memoised over (pattern position, name position). */
function referenceMatch(glob: string, name: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (p: number, s: number): boolean => {
    const key = p * (name.length + 1) + s;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    if (p === glob.length) r = s === name.length;
    else if (glob[p] === '*') r = go(p + 1, s) || (s < name.length && go(p, s + 1));
    else r = s < name.length && (glob[p] === '?' || glob[p] === name[s]) && go(p + 1, s + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

const matches = (glob: string, name: string) => branchFilter([glob]).matches(name);

describe('glob matching', () => {
  it('the usual cases', () => {
    expect(matches('org.example.*', 'org.example.web')).toBe(true);
    expect(matches('org.example.*', 'org.example')).toBe(false);
    expect(matches('org.*.web', 'org.a.b.web')).toBe(true);
    expect(matches('a?c', 'abc')).toBe(true);
    expect(matches('a?c', 'ac')).toBe(false);
    expect(matches('*', '')).toBe(true);
    expect(matches('a*a', 'a')).toBe(false); // the anchored runs may not overlap
    expect(matches('ab*ba', 'aba')).toBe(false);
    expect(matches('ab*ba', 'abba')).toBe(true);
    expect(matches('*.', 'a.b.')).toBe(true);
    expect(matches('org.example.web', 'org.example.web')).toBe(true);
    expect(matches('org.example.web', 'org.example.webx')).toBe(false);
    expect(branchFilter(['org.*', '!org.secret*']).matches('org.secret.x')).toBe(false);
    expect(branchFilter(['!org.secret*']).matches('com.x')).toBe(true);
  });

  it('agrees with the reference on 20,000 random globs and names (runs longer than 32 characters included)', () => {
    const rnd = new SeededRandom(18);
    const alphabet = 'ab.';
    const pick = (chars: string) => chars[rnd.int(chars.length)]!;
    for (let i = 0; i < 20_000; i++) {
      const long = i % 10 === 0;
      const globLength = 1 + rnd.int(long ? 80 : 10);
      let glob = '';
      for (let j = 0; j < globLength; j++) glob += pick(long ? 'aab?' : 'ab.*?*');
      if (long && rnd.int(2) === 0) glob = `*${glob}*${pick('ab')}`;
      const nameLength = rnd.int(long ? 120 : 12);
      let name = '';
      for (let j = 0; j < nameLength; j++) name += pick(alphabet);
      expect(matches(glob, name), `${glob} ~ ${name}`).toBe(referenceMatch(glob, name));
    }
  });

  it('hostile patterns against long names finish in milliseconds (no backtracking)', () => {
    const name = 'a'.repeat(255);
    const hostile = [
      `${'*a'.repeat(20)}*b`, // the pattern of issue #18
      `${'*a'.repeat(127)}*b`, // as many stars as 256 bytes hold
      `*${'?'.repeat(200)}*b`, // one long run of wildcards
      `${'*a?'.repeat(84)}*b`,
      `*${'a'.repeat(120)}*${'a'.repeat(120)}b*`,
    ];
    const filter = branchFilter(hostile);
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(filter.matches(name)).toBe(false);
    const ms = performance.now() - started;
    // 500 matches: a backtracking matcher needs longer than the age of the universe; this takes ~10 ms.
    expect(ms).toBeLessThan(2000);
  });

  it('limits: at most 64 patterns, each at most 256 bytes, only branch characters', () => {
    expect(() => branchFilter(Array.from({ length: MAX_PATTERNS + 1 }, (_, i) => `p${i}`))).toThrow(/at most 64/);
    expect(() => branchFilter(['a'.repeat(257)])).toThrow(/at most 256/);
    expect(() => branchFilter(['a\nb'])).toThrow(/not a branch pattern/);
    expect(() => branchFilter(['', 'a'])).toThrow(/empty/);
    expect(branchFilter(Array.from({ length: MAX_PATTERNS }, (_, i) => `p${i}`)).patterns).toHaveLength(MAX_PATTERNS);
  });
});
