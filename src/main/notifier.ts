/**
 * System notifications of the desktop app: the shared triggers
 * (shared/notices.ts) fed with the engine's events, each notice shown by an
 * injected `show` (Electron's Notification in index.ts, a fake in tests).
 * Peer names for the titles are read from the engine when a session starts,
 * so they are known by the time it finishes.
 */
import type { NetsyncApi, NetsyncEvent } from '../shared/api.js';
import { type Notice, NoticeTriggers } from '../shared/notices.js';

export class Notifier {
  private readonly names = new Map<string, string>();
  private readonly triggers = new NoticeTriggers((peerId) => this.names.get(peerId));

  constructor(
    private readonly api: Pick<NetsyncApi, 'listPeers'>,
    private readonly show: (notice: Notice) => void,
  ) {}

  /** Feeds one engine event; resolves once any notice it calls for was shown. */
  async onEvent(event: NetsyncEvent): Promise<void> {
    if (event.type === 'session-started' && !this.names.has(event.session.peerId)) await this.loadNames();
    for (const notice of this.triggers.next(event)) this.show(notice);
  }

  private async loadNames(): Promise<void> {
    const peers = await this.api.listPeers();
    if (peers.ok) for (const p of peers.value) this.names.set(p.id, p.name);
  }
}
