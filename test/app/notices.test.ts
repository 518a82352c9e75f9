/**
 * Notifications (issue #20): the shared triggers say when new versions
 * arrived and when a peer refused something (a refusal once, and again only
 * when it changes, since a peer kept in sync is synced every minute); the
 * desktop app shows them as system notifications with the peer's name, the
 * web host's page in-page, and never both.
 */
import { describe, expect, it } from 'vitest';
import { Notifier } from '../../src/main/notifier.js';
import { createAppStore } from '../../src/renderer/store/app-store.js';
import { applyEvent } from '../../src/renderer/store/app-store.js';
import { type NetsyncEvent, ok } from '../../src/shared/api.js';
import { type Notice, NoticeTriggers } from '../../src/shared/notices.js';
import type { SessionSummary } from '../../src/shared/sync.js';
import { fakeClient } from './fake-client.js';

function finished(over: Partial<SessionSummary> = {}, peerId = 'p1'): NetsyncEvent {
  const side = { count: 0, bytes: 0, groups: [], items: [] };
  const summary: SessionSummary = {
    sessionId: 's',
    direction: 'sync',
    dryRun: false,
    itemsSent: 0,
    itemsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    reconBytesSent: 0,
    reconBytesReceived: 0,
    roundTrips: 1,
    ms: 1,
    weLack: side,
    theyLack: side,
    ...over,
  };
  return { type: 'session-finished', sessionId: 's', peerId, summary };
}

const arrived = finished({
  itemsReceived: 9,
  weLack: {
    count: 9,
    bytes: 900,
    items: [],
    groups: [
      { branch: 'org.example.web', kind: 'revision', count: 2, bytes: 200 },
      { branch: 'org.example.web', kind: 'file', count: 5, bytes: 500 },
      { branch: 'org.example.docs', kind: 'manifest', count: 1, bytes: 100 },
    ],
  },
});
const refused = finished({ refused: [{ branch: 'org.example.secret', reason: 'no-permission' }], identity: { kind: 'anonymous' } });

describe('notice triggers', () => {
  const names = (id: string) => (id === 'p1' ? 'lab' : undefined);

  it('tell new versions by branch, and nothing for a dry run or a session that brought nothing', () => {
    const t = new NoticeTriggers(names);
    expect(t.next(arrived)).toEqual([
      { kind: 'arrived', peerId: 'p1', title: 'New from lab', body: '2 new versions of org.example.web, 1 new version of org.example.docs.' },
    ]);
    expect(t.next(finished({ itemsReceived: 3 }))).toEqual([expect.objectContaining({ body: '3 items arrived.' })]);
    expect(t.next(finished({ itemsSent: 4 }))).toEqual([]);
    expect(t.next({ ...arrived, summary: { ...(arrived as { summary: SessionSummary }).summary, dryRun: true } } as NetsyncEvent)).toEqual([]);
    expect(t.next({ type: 'collection-changed' })).toEqual([]);
  });

  it('tell a refusal once, again when it changes, and again after a session without one', () => {
    const t = new NoticeTriggers(names);
    const first = t.next(refused);
    expect(first).toEqual([
      {
        kind: 'refused',
        peerId: 'p1',
        title: 'lab refused something',
        body: expect.stringContaining("does not let anonymous clients read branch 'org.example.secret'"),
      },
    ]);
    expect(t.next(refused)).toEqual([]);
    expect(t.next(finished({ refused: [{ branch: 'org.example.secret', reason: 'read-only' }], identity: { kind: 'anonymous' } }))).toHaveLength(1);
    expect(t.next(finished())).toEqual([]);
    expect(t.next(refused)).toHaveLength(1);
    // Another peer's refusal is its own.
    expect(t.next({ ...refused, peerId: 'p2' } as NetsyncEvent)).toEqual([expect.objectContaining({ title: 'a peer refused something' })]);
  });

  it('tell a session refused outright (a push into a branch this key may not write)', () => {
    const t = new NoticeTriggers(names);
    const event: NetsyncEvent = {
      type: 'session-finished',
      sessionId: 's',
      peerId: 'p1',
      error: { code: 'permission', message: 'The server refused the push.' },
    };
    expect(t.next(event)).toEqual([{ kind: 'refused', peerId: 'p1', title: 'lab refused something', body: 'The server refused the push.' }]);
    expect(t.next(event)).toEqual([]);
    expect(t.next({ ...event, error: { code: 'unreachable', message: 'x' } } as NetsyncEvent)).toEqual([]);
  });
});

describe('where notices show', () => {
  it('the desktop app: a system notification titled with the peer name it read when the session started', async () => {
    const shown: Notice[] = [];
    const notifier = new Notifier(
      { listPeers: async () => ok([{ id: 'p1', name: 'lab', address: 'h', direction: 'sync', include: ['*'], exclude: [] }]) },
      (n) => shown.push(n),
    );
    await notifier.onEvent({ type: 'session-started', session: { sessionId: 's', peerId: 'p1', direction: 'sync', dryRun: false, startedAt: '' } });
    await notifier.onEvent(arrived);
    expect(shown.map((n) => n.title)).toEqual(['New from lab']);
  });

  it('the web host: in the page, dismissable; under Electron never in the page (the system shows them)', () => {
    const web = createAppStore(fakeClient().client, { folderPicker: false, nativeNotifications: false });
    applyEvent(web, arrived);
    applyEvent(web, refused);
    expect(web.getState().notices.map((n) => n.kind)).toEqual(['arrived', 'refused']);
    web.getState().dismissNotice(web.getState().notices[0]!.id);
    expect(web.getState().notices.map((n) => n.kind)).toEqual(['refused']);

    const desktop = createAppStore(fakeClient().client, { folderPicker: true, nativeNotifications: true });
    applyEvent(desktop, arrived);
    expect(desktop.getState().notices).toEqual([]);
  });
});
