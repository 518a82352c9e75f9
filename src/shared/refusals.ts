/**
 * What a server refused in a session, in sentences a window shows on the
 * peer's card, its diff and its transfer: each says what will not move and
 * what to do about it, and names the key the server judged, since its
 * fingerprint is what the server's owner writes in a rule
 * (docs/SECURITY.md §4). A session that was refused anything is never
 * "up to date", however little was left to move.
 */
import type { RefusedSlot, SessionIdentity } from './sync.js';

/** The facts a summary, a remembered last session and a kept transfer all carry. */
export interface Refusals {
  refused?: readonly RefusedSlot[];
  unmatchedPatterns?: readonly string[];
  identity?: SessionIdentity;
  /** How an anonymous user connects with a key where they are: the window's screen, or the command line's option. */
  keyHint?: string;
}

export function wasRefused(o: Refusals): boolean {
  return (o.refused?.length ?? 0) > 0 || (o.unmatchedPatterns?.length ?? 0) > 0;
}

/** Who the server judged: the key by its fingerprint and name, or anonymous clients. */
function who(identity: SessionIdentity | undefined): string {
  if (!identity) return 'this identity';
  return identity.kind === 'anonymous' ? 'anonymous clients' : `key ${identity.fingerprint} (${identity.name})`;
}

/** Whom the owner's rule would be for. */
function ruleFor(identity: SessionIdentity | undefined, keyHint = 'Identity screen'): string {
  if (identity?.kind === 'anonymous') return `for anonymous clients, or connect with a key it grants (${keyHint})`;
  return 'for that key';
}

/** The sentence for a refused branch, by the server's reason; `by` names who was refused, `rule` whom a rule would be for. */
const SLOT_SENTENCE: Record<RefusedSlot['reason'], (branch: string, by: string, rule: string) => string> = {
  'not-offered': (b, by) => `The server does not offer branch '${b}' to ${by}, so nothing of it moves; if it should, ask its owner to serve it.`,
  'no-permission': (b, by, rule) =>
    `The server does not let ${by} read branch '${b}', so nothing of it moves; if it should, ask its owner for a read rule ${rule}.`,
  'read-only': (b, by, rule) =>
    `The server lets ${by} read branch '${b}' but not write it, so what it lacks there is not sent; if it should, ask its owner for a write rule ${rule}.`,
};

/** One sentence per branch or pattern refused: include patterns that matched nothing first, then branches in the session's order. */
export function refusalSentences(o: Refusals): string[] {
  const by = who(o.identity);
  const rule = ruleFor(o.identity, o.keyHint);
  const unmatched = (o.unmatchedPatterns ?? []).map(
    (p) => `The server offers no branch matching '${p}' to ${by}; if it should, ask its owner for a read rule ${rule}.`,
  );
  return [...unmatched, ...(o.refused ?? []).map((r) => SLOT_SENTENCE[r.reason](r.branch, by, rule))];
}
