// @vitest-environment jsdom
/** Every figure and word tells the truth: units kept apart, counts with their plural, buttons that say what they do. */
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { LastSession, Result } from '../../src/shared/api.js';
import { ok } from '../../src/shared/api.js';
import { plural } from '../../src/renderer/format.js';
import { progress, summary } from './fake-client.js';
import { renderApp } from './render-app.js';

afterEach(cleanup);

const peer = { id: 'p1', name: 'lab', address: '127.0.0.1:1', direction: 'sync' as const, include: ['*'], exclude: [] };
const at = '2026-01-01T00:00:00Z';
const MiB = 1024 * 1024;

function describedBy(el: HTMLElement): string {
  return (el.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' ');
}

describe('counts', () => {
  it('say one thing, two things', () => {
    expect(plural(1, 'round trip')).toBe('1 round trip');
    expect(plural(0, 'item')).toBe('0 items');
    expect(plural(12_000, 'branch', 'branches')).toBe('12,000 branches');
  });
});

describe('Peers screen', () => {
  const withLast = (last: Partial<LastSession>) => ({
    ...peer,
    last: { at, dryRun: false, direction: 'sync' as const, itemsSent: 0, itemsReceived: 0, bytesSent: 0, bytesReceived: 0, ...last },
  });

  it('says what the last sync moved in items, and its bytes as what was exchanged, index included', async () => {
    const { store } = renderApp({ listPeers: () => ok([withLast({ bytesReceived: 7900, bytesSent: 300, weLack: 0, theyLack: 0 })]) });
    await act(() => store.getState().loadPeers());
    // Not "0 items in (7.7 KiB)": those bytes were the index comparison.
    expect(screen.getByTestId('peer-last').textContent).toMatch(/: 0 items in, 0 items out; 8\.0 KiB exchanged, the index comparison included\.$/);
  });

  it('says what the last diff found, not what it moved', async () => {
    const { store } = renderApp({ listPeers: () => ok([withLast({ dryRun: true, bytesReceived: 900, weLack: 1, theyLack: 3 })]) });
    await act(() => store.getState().loadPeers());
    expect(screen.getByTestId('peer-last').textContent).toMatch(/^Last diff .*: we lack 1 item, they lack 3 items\.$/);
  });

  it('says how Connect and Diff differ, on each button', async () => {
    const { store } = renderApp({ listPeers: () => ok([peer]) });
    await act(() => store.getState().loadPeers());
    expect(describedBy(screen.getByTestId('peer-connect'))).toBe('Connect: count what differs, and stay here.');
    expect(describedBy(screen.getByTestId('peer-diff'))).toBe('Diff: count it and list every item, on the Diff screen.');
  });

  it('makes the direction one group of native radios, saying what the chosen one does', async () => {
    const { store } = renderApp({ listPeers: () => ok([{ ...peer, direction: 'pull' as const }]) });
    await act(() => store.getState().loadPeers());
    const group = screen.getByRole('group', { name: 'Direction for lab' });
    const radios = within(group).getAllByRole('radio') as HTMLInputElement[];
    // One name: the browser makes them one Tab stop and moves the choice with the arrow keys.
    expect(new Set(radios.map((r) => r.name)).size).toBe(1);
    expect(radios.map((r) => r.checked)).toEqual([false, false, true]);
    expect(describedBy(group)).toBe('Pull: only fetch what we lack.');
  });
});

describe('Diff screen', () => {
  it('counts one round trip as one, and says a running sync is syncing, not comparing', async () => {
    let finishSync: (v: Result<unknown>) => void = () => undefined;
    const { store, emit } = renderApp({
      listPeers: () => ok([peer]),
      diff: () => ok(summary({ roundTrips: 1 })),
      sync: () => new Promise<Result<unknown>>((resolve) => (finishSync = resolve)),
    });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-diff')));
    expect(screen.getByText(/^1 round trip · /)).toBeTruthy();
    expect(screen.getByText(/Comparing moves nothing; Sync now moves what is listed\./)).toBeTruthy();

    await act(async () => {
      fireEvent.click(screen.getByTestId('diff-sync'));
      emit({ type: 'session-started', session: { sessionId: 'sync-1', peerId: 'p1', direction: 'sync', dryRun: false, startedAt: at } });
    });
    expect(screen.getByTestId('diff-sync').textContent).toBe('Syncing…');
    expect(screen.getByTestId('diff-again').textContent).toBe('Compare again');
    await act(async () => finishSync(ok(summary({ dryRun: false }))));
  });
});

describe('Transfers screen', () => {
  const session = { sessionId: 's1', peerId: 'p1', direction: 'pull' as const, dryRun: false, startedAt: at };

  it('fills a finished transfer in items, and gives the items’ size and the bytes on the wire apart', async () => {
    const { store, emit } = renderApp({ listPeers: () => ok([peer]) });
    const received = { items: 647, bytes: 2 * MiB, totalItems: 647, totalBytes: 3.5 * MiB };
    act(() => {
      emit({ type: 'session-started', session });
      emit({ type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(1, { elapsedMs: 900, received }) });
      emit({ type: 'session-finished', sessionId: 's1', peerId: 'p1', summary: summary({ dryRun: false, ms: 1000, itemsReceived: 647 }) });
      store.getState().navigate('transfers');
    });
    const bar = screen.getByRole('progressbar', { name: 'Received: 100% of the items' }) as HTMLProgressElement;
    expect(bar.value).toBe(1);
    expect(screen.getByTestId('transfer-detail').textContent).toContain('647 / 647 items3.5 MiB of items · 2.0 MiB on the wire');
  });

  it('says round trips and index traffic come at the end rather than show 0 while running, and charts a short session', async () => {
    const { store, emit } = renderApp({ listPeers: () => ok([peer]) });
    const received = (items: number) => ({ items, bytes: items * 1000, totalItems: 10, totalBytes: 10_000 });
    act(() => {
      emit({ type: 'session-started', session });
      emit({ type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(1, { elapsedMs: 0, roundTrips: 0, received: received(0) }) });
      emit({ type: 'session-progress', sessionId: 's1', peerId: 'p1', progress: progress(2, { elapsedMs: 80, roundTrips: 0, received: received(4) }) });
      store.getState().navigate('transfers');
    });
    const detail = screen.getByTestId('transfer-detail');
    expect(within(detail).getByText('Round trips').nextElementSibling?.textContent).toBe('—');
    expect(within(detail).getByText('Index traffic').nextElementSibling?.textContent).toBe('—');
    expect(screen.getByTestId('transfer-counted-at-end').textContent).toBe('Round trips and index traffic are counted when a session completes.');
    expect(detail.querySelector('figcaption')?.textContent).toBe('Too short a session to chart over time: drawn at its average.');
    expect(detail.querySelector('polyline')).not.toBeNull();
  });
});
