/**
 * The list of peers, with what is remembered per peer (direction, branch
 * patterns, whether it is kept in sync and how often, the last session's outcome), in `<config>/peers.json`. Written
 * atomically (a temporary file renamed over the old one), so a crash never
 * leaves half a list.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { LastSession, NewPeer, Peer, PeerChanges } from '../../shared/api.js';
import type { SessionOutcome } from './sessions.js';
import { fail } from '../errors.js';
import { writePrivateFile } from './files.js';

interface PeerFile {
  format: 'netsync-peers-v1';
  peers: Peer[];
}

/** What a new peer exchanges until the user narrows it. */
const DEFAULT_INCLUDE = ['*'];

export class PeerBook {
  private peers: Peer[] | null = null;

  constructor(readonly file: string) {}

  list(): Peer[] {
    return this.load().map((p) => structuredClone(p));
  }

  get(id: string): Peer {
    const peer = this.load().find((p) => p.id === id);
    if (!peer) fail('not-found', 'that peer is no longer in the list');
    return structuredClone(peer);
  }

  add(input: NewPeer): Peer {
    const peers = this.load();
    const name = input.name.trim();
    if (peers.some((p) => p.name === name)) fail('usage', `a peer named "${name}" already exists`);
    const peer: Peer = {
      id: randomBytes(8).toString('hex'),
      name,
      address: input.address.trim(),
      direction: 'sync',
      include: [...DEFAULT_INCLUDE],
      exclude: [],
    };
    this.save([...peers, peer]);
    return structuredClone(peer);
  }

  update(id: string, changes: PeerChanges): Peer {
    const peers = this.load();
    const old = peers.find((p) => p.id === id);
    if (!old) fail('not-found', 'that peer is no longer in the list');
    const name = changes.name?.trim();
    if (name !== undefined && peers.some((p) => p.id !== id && p.name === name)) fail('usage', `a peer named "${name}" already exists`);
    const peer: Peer = {
      ...old,
      ...(name !== undefined ? { name } : {}),
      ...(changes.address !== undefined ? { address: changes.address.trim() } : {}),
      ...(changes.direction !== undefined ? { direction: changes.direction } : {}),
      ...(changes.include !== undefined ? { include: [...changes.include] } : {}),
      ...(changes.exclude !== undefined ? { exclude: [...changes.exclude] } : {}),
      ...(changes.keepInSync !== undefined ? { keepInSync: changes.keepInSync } : {}),
      ...(changes.intervalSeconds !== undefined ? { intervalSeconds: changes.intervalSeconds } : {}),
    };
    this.save(peers.map((p) => (p.id === id ? peer : p)));
    return structuredClone(peer);
  }

  remove(id: string): void {
    const peers = this.load();
    if (!peers.some((p) => p.id === id)) fail('not-found', 'that peer is no longer in the list');
    this.save(peers.filter((p) => p.id !== id));
  }

  /** Remembers how the last session went; a peer removed meanwhile is left alone. */
  recordSession(id: string, last: LastSession): void {
    const peers = this.load();
    if (!peers.some((p) => p.id === id)) return;
    this.save(peers.map((p) => (p.id === id ? { ...p, last } : p)));
  }

  private load(): Peer[] {
    if (this.peers) return this.peers;
    if (!existsSync(this.file)) return (this.peers = []);
    let parsed: PeerFile;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as PeerFile;
    } catch (e) {
      // Refuse rather than start empty: the next save would erase the user's list.
      return fail('io', `the peer list ${this.file} is unreadable (${(e as Error).message}); fix or remove it`);
    }
    if (parsed?.format !== 'netsync-peers-v1' || !Array.isArray(parsed.peers)) fail('io', `${this.file} is not a Netsync peer list; fix or remove it`);
    this.peers = parsed.peers.filter(isPeer);
    return this.peers;
  }

  private save(peers: Peer[]): void {
    const body: PeerFile = { format: 'netsync-peers-v1', peers };
    writePrivateFile(this.file, `${JSON.stringify(body, null, 2)}\n`);
    this.peers = peers;
  }
}

function isPeer(p: unknown): p is Peer {
  const q = p as Partial<Peer> | null;
  return (
    typeof q?.id === 'string' &&
    typeof q.name === 'string' &&
    typeof q.address === 'string' &&
    (q.direction === 'sync' || q.direction === 'push' || q.direction === 'pull') &&
    Array.isArray(q.include) &&
    Array.isArray(q.exclude) &&
    (q.keepInSync === undefined || typeof q.keepInSync === 'boolean') &&
    (q.intervalSeconds === undefined || (Number.isInteger(q.intervalSeconds) && q.intervalSeconds > 0))
  );
}

/** What a peer remembers of its last session: enough to say, after a restart, whether anything was left or blocked. */
export function lastSession(o: SessionOutcome, dryRun: boolean): LastSession {
  const base = { at: new Date().toISOString(), dryRun, direction: o.info.direction };
  if (!o.ok) return { ...base, itemsSent: 0, itemsReceived: 0, bytesSent: 0, bytesReceived: 0, error: o.error };
  const s = o.summary;
  return {
    ...base,
    itemsSent: s.itemsSent,
    itemsReceived: s.itemsReceived,
    bytesSent: s.bytesSent,
    bytesReceived: s.bytesReceived,
    weLack: s.weLack.count,
    theyLack: s.theyLack.count,
    ...(s.refused?.length ? { refused: s.refused } : {}),
    ...(s.unmatchedPatterns?.length ? { unmatchedPatterns: s.unmatchedPatterns } : {}),
    ...(s.identity ? { identity: s.identity } : {}),
    ...(s.converged === undefined ? {} : { converged: s.converged }),
  };
}
