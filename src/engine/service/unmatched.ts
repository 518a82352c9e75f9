/**
 * The include patterns that selected nothing in a session: until the engine
 * reports them itself (protocol version 4's unmatched patterns,
 * docs/PROTOCOL.md), the service finds those that select no branch on
 * either side of it: none here after the session, none the server added or
 * listed, none it refused. So a server that grants a key nothing reads as
 * refused, never as "up to date". The engine's own list, once it gives one,
 * is taken as it is.
 */
import type { SessionSummary } from '../../shared/sync.js';
import { branchFilter } from '../security/patterns.js';

export function unmatchedPatterns(
  peer: { include: readonly string[]; exclude: readonly string[] },
  s: SessionSummary,
  localBranches: readonly string[],
): string[] {
  if (s.unmatchedPatterns) return s.unmatchedPatterns;
  const seen = new Set([
    ...localBranches,
    ...s.weLack.groups.map((g) => g.branch),
    ...s.theyLack.groups.map((g) => g.branch),
    ...(s.refused ?? []).map((r) => r.branch),
  ]);
  const excludes = peer.exclude.map((p) => `!${p}`);
  return peer.include.filter((p) => {
    const selects = branchFilter([p, ...excludes]);
    return ![...seen].some((b) => selects.matches(b));
  });
}
