/**
 * Branch patterns: globs where `*` matches any run of characters and `?` one
 * character; a leading `!` excludes. A branch is selected when it matches at
 * least one include and no exclude; a list of excludes alone selects
 * everything else.
 *
 * Patterns come from peers (HELLO), so matching must cost the same whatever
 * they hold. A glob is not turned into a regular expression (V8's engine
 * backtracks: `*a*a*a…*b` against `aaa…` took exponential time and froze a
 * server, docs/SECURITY.md §7). It is matched as literal runs split at the
 * stars: the first run anchored at the start, the last at the end, each one
 * between found at its leftmost place after the one before. Leftmost is
 * always right for a glob (a star between runs can absorb whatever lies
 * before a later place), so nothing is ever tried twice; each run is
 * searched with a bit-parallel automaton (shift-and), which reads every
 * character of the branch once. Matching costs at most
 * |branch| × ⌈longest run / 32⌉ steps, and a run is at most 256 characters.
 */
import { fail } from '../errors.js';

/** The most patterns a filter holds (the HELLO limit, docs/PROTOCOL.md §3). */
export const MAX_PATTERNS = 64;
/** The longest pattern, in bytes (the HELLO limit). */
export const MAX_PATTERN_BYTES = 256;

export interface BranchFilter {
  patterns: string[];
  matches(branch: string): boolean;
  /** The most steps matching costs per character of a branch name (a server bounds a session's matching with it). */
  stepsPerChar: number;
}

/** One literal run of a glob (between stars), `?` matching any one character. */
class Run {
  readonly length: number;
  readonly words: number;
  /** Bit j of masks[c] is set when position j of the run is the character c (branch characters are ASCII). */
  private readonly masks: (Uint32Array | undefined)[] = [];
  /** Bit j is set when position j is `?` (matches every character). */
  private readonly any: Uint32Array;

  constructor(readonly text: string) {
    this.length = text.length;
    this.words = Math.max(1, Math.ceil(text.length / 32));
    this.any = new Uint32Array(this.words);
    for (let j = 0; j < text.length; j++) {
      const c = text.charCodeAt(j);
      let mask = this.any;
      if (c !== 0x3f) {
        mask = this.masks[c] ?? new Uint32Array(this.words);
        this.masks[c] = mask;
      }
      mask[j >>> 5]! |= 1 << (j & 31);
    }
  }

  /** Whether the run matches `s` exactly at `at` (no search). */
  matchesAt(s: string, at: number): boolean {
    if (at < 0 || at + this.length > s.length) return false;
    for (let j = 0; j < this.length; j++) {
      const p = this.text.charCodeAt(j);
      if (p !== 0x3f && p !== s.charCodeAt(at + j)) return false;
    }
    return true;
  }

  /**
   * The end of the leftmost match of the run in s[from, to), or -1. Shift-and:
   * bit j of `state` says the run's first j + 1 characters end at the current one.
   */
  endOfFirstMatch(s: string, from: number, to: number): number {
    if (this.length === 0) return from;
    const state = new Uint32Array(this.words);
    const last = this.length - 1;
    const lastWord = last >>> 5;
    const lastBit = 1 << (last & 31);
    for (let i = from; i < to; i++) {
      const mask = this.masks[s.charCodeAt(i)];
      let carry = 1; // a match may start at every character
      for (let w = 0; w < this.words; w++) {
        const next = state[w]! >>> 31;
        state[w] = ((state[w]! << 1) | carry) & (this.any[w]! | (mask ? mask[w]! : 0));
        carry = next;
      }
      if (state[lastWord]! & lastBit) return i + 1;
    }
    return -1;
  }
}

/** A glob compiled to its runs: `a*b?c*d` is runs a, b?c, d. */
class Glob {
  private readonly runs: Run[];
  private readonly starred: boolean;
  /** Each character of a name is read by at most one run's search, a step per word of it. */
  readonly stepsPerChar: number;

  constructor(glob: string) {
    this.runs = glob.split('*').map((text) => new Run(text));
    this.starred = this.runs.length > 1;
    this.stepsPerChar = Math.max(...this.runs.map((r) => r.words));
  }

  matches(s: string): boolean {
    const first = this.runs[0]!;
    if (!this.starred) return first.length === s.length && first.matchesAt(s, 0);
    const last = this.runs[this.runs.length - 1]!;
    // The first and last runs are anchored, and may not overlap.
    if (first.length + last.length > s.length || !first.matchesAt(s, 0) || !last.matchesAt(s, s.length - last.length)) return false;
    let at = first.length;
    const end = s.length - last.length;
    for (let r = 1; r < this.runs.length - 1; r++) {
      const found = this.runs[r]!.endOfFirstMatch(s, at, end);
      if (found < 0) return false;
      at = found;
    }
    return true;
  }
}

/** Throws a one-line usage error unless `patterns` is a valid list of branch patterns within the limits. */
function checkPatterns(patterns: readonly string[]): void {
  if (patterns.length > MAX_PATTERNS) fail('usage', `${patterns.length} branch patterns; at most ${MAX_PATTERNS} may be given`);
  for (const p of patterns) {
    if (p === '' || p === '!') fail('usage', 'empty branch pattern');
    if (Buffer.byteLength(p) > MAX_PATTERN_BYTES) fail('usage', `a branch pattern of ${Buffer.byteLength(p)} bytes; at most ${MAX_PATTERN_BYTES}`);
    if (!/^!?[A-Za-z0-9_.+*?-]+$/.test(p)) fail('usage', `"${p}" is not a branch pattern (letters, digits, . _ + - and the globs * ?)`);
  }
}

export function branchFilter(patterns: readonly string[]): BranchFilter {
  checkPatterns(patterns);
  const include: Glob[] = [];
  const exclude: Glob[] = [];
  for (const p of patterns) {
    if (p.startsWith('!')) exclude.push(new Glob(p.slice(1)));
    else include.push(new Glob(p));
  }
  return {
    patterns: [...patterns],
    stepsPerChar: [...include, ...exclude].reduce((n, g) => n + g.stepsPerChar, 0),
    matches: (branch) => (include.length === 0 || include.some((g) => g.matches(branch))) && !exclude.some((g) => g.matches(branch)),
  };
}

/** Both filters must select the branch: what the client asks ∩ what the server offers. */
export function intersect(a: BranchFilter, b: BranchFilter): BranchFilter {
  return {
    patterns: [...a.patterns, ...b.patterns],
    stepsPerChar: a.stepsPerChar + b.stepsPerChar,
    matches: (branch) => a.matches(branch) && b.matches(branch),
  };
}
