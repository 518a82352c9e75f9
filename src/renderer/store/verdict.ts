/**
 * What a peer's state reads, derived from its live state and its latest
 * session: "Up to date" only when nothing is left to move either way and
 * nothing was refused; a blocked direction, branch or pattern says why
 * (shared/refusals.ts), never hides behind "done".
 */
import type { ApiError, LastSession, Peer } from '../../shared/api.js';
import { type Refusals, refusalSentences, wasRefused } from '../../shared/refusals.js';
import type { Direction, SessionSummary } from '../../shared/sync.js';
import { plural } from '../format.js';
import type { PeerLive } from './slices/peers.js';

export type VerdictTone = 'idle' | 'running' | 'ok' | 'differs' | 'blocked' | 'error' | 'cancelled';

export interface PeerVerdict {
  tone: VerdictTone;
  label: string;
  /** Sentences: why something will not move, or what is left. */
  notes: string[];
}

/** The facts both a summary in memory and the remembered last session carry. */
interface Outcome extends Refusals {
  dryRun: boolean;
  direction: Direction;
  weLack: number;
  theyLack: number;
  converged?: boolean;
  sessions?: number;
}

/** Sentences for a direction turned off while that side still lacks something. */
export function directionNotes(direction: Direction, weLack: number, theyLack: number): string[] {
  const notes: string[] = [];
  if (direction === 'push' && weLack > 0) notes.push(`We lack ${plural(weLack, 'item')} they have: not fetched, as this peer is set to Push.`);
  if (direction === 'pull' && theyLack > 0) notes.push(`They lack ${plural(theyLack, 'item')} we have: not sent, as this peer is set to Pull.`);
  return notes;
}

export function convergenceNote(converged: boolean | undefined, sessions: number | undefined): string | null {
  if (converged !== false) return null;
  return `The two sides still differed after ${plural(sessions ?? 1, 'session')} (is someone writing to either database?); sync again.`;
}

function fromSummary(s: SessionSummary): Outcome {
  return { ...s, weLack: s.weLack.count, theyLack: s.theyLack.count };
}

function fromLast(l: LastSession): Outcome | null {
  if (l.error || l.weLack === undefined || l.theyLack === undefined) return null;
  return { ...l, weLack: l.weLack, theyLack: l.theyLack };
}

const RUNNING: Partial<Record<PeerLive['state'], string>> = {
  connecting: 'Connecting…',
  refining: 'Comparing index trees…',
  transferring: 'Transferring…',
};

/** A session that ended early: what it left blocked, and why. */
function ended(state: 'error' | 'cancelled', error: ApiError | undefined): PeerVerdict {
  if (error?.code === 'bad-item') {
    return {
      tone: 'blocked',
      label: 'Blocked',
      notes: [
        'The peer sent an item that failed verification, so the session ended: what had not moved yet will not move until that item is repaired on the peer.',
      ],
    };
  }
  if (state === 'cancelled') return { tone: 'cancelled', label: 'Cancelled', notes: [] };
  return { tone: 'error', label: 'Failed', notes: [] };
}

export function peerVerdict(peer: Pick<Peer, 'last'>, live: PeerLive, latest: SessionSummary | undefined): PeerVerdict {
  const running = RUNNING[live.state];
  if (running) return { tone: 'running', label: running, notes: [] };
  if (live.state === 'error' || live.state === 'cancelled') return ended(live.state, live.error);
  // Remembered across a restart: a session that failed is never read as idle or up to date.
  if (!latest && peer.last?.error && live.state === 'idle') return ended(peer.last.error.code === 'cancelled' ? 'cancelled' : 'error', peer.last.error);
  const o = latest ? fromSummary(latest) : peer.last ? fromLast(peer.last) : null;
  if (!o) return { tone: 'idle', label: live.state === 'done' ? 'Done' : 'Idle', notes: [] };

  // After a real session everything found moved, except what a direction turned off held back;
  // a direction turned off is a direction blocked, so it is never "up to date" while that side lacks anything.
  const heldBack = (o.direction === 'push' ? o.weLack : 0) + (o.direction === 'pull' ? o.theyLack : 0);
  const left = o.dryRun ? o.weLack + o.theyLack : heldBack;
  const notes = [...refusalSentences(o), ...directionNotes(o.direction, o.weLack, o.theyLack)];
  const converging = convergenceNote(o.converged, o.sessions);
  if (converging) notes.push(converging);
  if (wasRefused(o)) return { tone: 'blocked', label: 'Blocked', notes };
  if (converging) return { tone: 'differs', label: 'Still differs', notes };
  if (left === 0) return { tone: 'ok', label: 'Up to date', notes };
  const toFetch = o.direction === 'push' ? 0 : o.weLack;
  const toSend = o.direction === 'pull' ? 0 : o.theyLack;
  if (o.dryRun && toFetch + toSend > 0) notes.unshift(`${plural(toFetch, 'item')} to fetch, ${plural(toSend, 'item')} to send.`);
  return { tone: 'differs', label: 'Differs', notes };
}
