/**
 * Branch patterns: globs where `*` matches any run of characters and `?` one
 * character; a leading `!` excludes. A branch is selected when it matches at
 * least one include and no exclude; a list of excludes alone selects
 * everything else.
 */
import { fail } from '../errors.js';

export interface BranchFilter {
  patterns: string[];
  matches(branch: string): boolean;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function branchFilter(patterns: readonly string[]): BranchFilter {
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const p of patterns) {
    if (p === '' || p === '!') fail('usage', 'empty branch pattern');
    if (!/^!?[A-Za-z0-9_.+*?-]+$/.test(p)) fail('usage', `"${p}" is not a branch pattern (letters, digits, . _ + - and the globs * ?)`);
    if (p.startsWith('!')) exclude.push(globToRegExp(p.slice(1)));
    else include.push(globToRegExp(p));
  }
  return {
    patterns: [...patterns],
    matches: (branch) => (include.length === 0 || include.some((r) => r.test(branch))) && !exclude.some((r) => r.test(branch)),
  };
}

/** Both filters must select the branch: what the client asks ∩ what the server offers. */
export function intersect(a: BranchFilter, b: BranchFilter): BranchFilter {
  return { patterns: [...a.patterns, ...b.patterns], matches: (branch) => a.matches(branch) && b.matches(branch) };
}
