/**
 * In-page notifications, for a host without system ones (the web host): the
 * shared triggers (shared/notices.ts) fed with the engine's events. Under
 * Electron the main process shows them as system notifications instead, so
 * they are not shown twice. Each stays until dismissed or NOTICE_MS passes.
 */
import type { NetsyncEvent } from '../../../shared/api.js';
import { type Notice, NoticeTriggers } from '../../../shared/notices.js';
import type { SliceCreator } from '../types.js';

export interface ShownNotice extends Notice {
  id: number;
}

export interface NoticesSlice {
  notices: ShownNotice[];
  applyNoticeEvent(event: NetsyncEvent): void;
  dismissNotice(id: number): void;
}

/** How long a notice stays: long enough to read two sentences. */
export const NOTICE_MS = 12_000;
/** The most shown at once: the oldest go first. */
const MAX_SHOWN = 4;

export const createNoticesSlice =
  (host: { nativeNotifications: boolean }): SliceCreator<NoticesSlice> =>
  (set, get) => {
    const triggers = new NoticeTriggers((peerId) => get().peers.list.find((p) => p.id === peerId)?.name);
    let nextId = 1;
    return {
      notices: [],
      applyNoticeEvent(event) {
        if (host.nativeNotifications) return;
        for (const notice of triggers.next(event)) {
          const id = nextId++;
          set((s) => ({ notices: [...s.notices, { ...notice, id }].slice(-MAX_SHOWN) }));
          setTimeout(() => get().dismissNotice(id), NOTICE_MS);
        }
      },
      dismissNotice: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
    };
  };
