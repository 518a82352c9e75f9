/**
 * When to tell the user something happened that they did not watch happen:
 * new versions arrived from a peer, a branch got a second head (versions
 * committed concurrently), or a peer refused something. One set of
 * triggers for both hosts: the desktop app shows each notice as a system
 * notification (Electron's Notification, in src/main), the web host's page
 * as an in-page one. A refusal is told once, and again only when it changes:
 * a peer kept in sync is synced every minute, and the same refusal every
 * minute would be noise, not news.
 */
import type { NetsyncEvent } from './api.js';
import { refusalSentences, wasRefused } from './refusals.js';
import type { SessionSummary } from './sync.js';

export interface Notice {
  kind: 'arrived' | 'refused' | 'heads';
  peerId: string;
  title: string;
  body: string;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What arrived, by branch: the versions (revisions; manifests of format 3) when there are any, else the items. */
function arrivedText(s: SessionSummary): string {
  const versions = new Map<string, number>();
  for (const g of s.weLack.groups) if (g.kind === 'revision' || g.kind === 'manifest') versions.set(g.branch, (versions.get(g.branch) ?? 0) + g.count);
  if (versions.size === 0) return `${plural(s.itemsReceived, 'item')} arrived.`;
  const parts = [...versions].map(([branch, n]) => `${plural(n, 'new version')} of ${branch}`);
  return `${parts.join(', ')}.`;
}

export class NoticeTriggers {
  /** The refusals last told per peer, as one text: told again only when it changes. */
  private readonly toldRefusals = new Map<string, string>();
  /** Branches told to have several heads: told again only after they were joined. */
  private readonly toldHeads = new Set<string>();

  /** `nameOf`: a peer's name for a title (its id when unknown). */
  constructor(private readonly nameOf: (peerId: string) => string | undefined) {}

  /** The notices an engine event calls for (none for most). */
  next(event: NetsyncEvent): Notice[] {
    if (event.type === 'branch-heads') return this.heads(event.peerId, event.branch, event.heads);
    if (event.type !== 'session-finished') return [];
    const name = this.nameOf(event.peerId) ?? 'a peer';
    const s = event.summary;
    // A session the server refused outright (a push into a branch this key may not write) is a refusal too.
    if (!s) return event.error?.code === 'permission' ? this.refused(event.peerId, name, event.error.message) : [];
    if (s.dryRun) return [];
    const out: Notice[] = [];
    if (s.itemsReceived > 0) out.push({ kind: 'arrived', peerId: event.peerId, title: `New from ${name}`, body: arrivedText(s) });
    out.push(...this.refused(event.peerId, name, wasRefused(s) ? refusalSentences(s).join(' ') : ''));
    return out;
  }

  private heads(peerId: string, branch: string, heads: number): Notice[] {
    if (heads < 2) {
      this.toldHeads.delete(branch);
      return [];
    }
    if (this.toldHeads.has(branch)) return [];
    this.toldHeads.add(branch);
    return [
      {
        kind: 'heads',
        peerId,
        title: `${branch} has ${heads} heads`,
        body: `Versions committed concurrently arrived from ${this.nameOf(peerId) ?? 'a peer'}; all are kept. Check one out by its id; the next commit to ${branch} names every head as its ancestor.`,
      },
    ];
  }

  /** A notice of `text` unless it was the last told for that peer; '' (nothing refused) resets, so a later refusal is told. */
  private refused(peerId: string, name: string, text: string): Notice[] {
    if (text === (this.toldRefusals.get(peerId) ?? '')) return [];
    this.toldRefusals.set(peerId, text);
    return text ? [{ kind: 'refused', peerId, title: `${name} refused something`, body: text }] : [];
  }
}
