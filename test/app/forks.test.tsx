// @vitest-environment jsdom
/**
 * A sync that leaves a branch with several heads says so in one sentence on
 * the peer's card and on the diff (SessionSummary.forks, filled by the
 * engine from the heads before and after the session).
 */
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ok } from '../../src/shared/api.js';
import { forkSentence } from '../../src/renderer/format.js';
import { summary } from './fake-client.js';
import { renderApp } from './render-app.js';

afterEach(cleanup);

const peer = { id: 'p1', name: 'lab', address: '127.0.0.1:1', direction: 'sync' as const, include: ['t.*'], exclude: [] };

describe('forks after a sync', () => {
  it('one sentence names each branch, its head count and the merge that joins them', () => {
    expect(forkSentence(undefined)).toBeNull();
    expect(forkSentence([])).toBeNull();
    expect(forkSentence([{ branch: 't.alpha', heads: 2 }])).toBe(
      't.alpha now has 2 heads (versions committed concurrently on different sides): nothing was lost, and netsync merge t.alpha joins them.',
    );
  });

  it('the card and the diff show it after a sync that forked a branch, and not after one that did not', async () => {
    let forks = [{ branch: 't.alpha', heads: 2 }];
    const { store } = renderApp({
      listPeers: () => ok([peer]),
      diff: () => ok(summary()),
      sync: () => ok(summary({ dryRun: false, itemsReceived: 7, forks })),
    });
    await act(() => store.getState().loadPeers());
    const card = () => screen.getByRole('article', { name: 'Peer lab' });
    await act(() => store.getState().syncPeer('p1'));
    expect(within(card()).getByTestId('peer-forks').textContent).toBe(forkSentence(forks));

    await act(async () => fireEvent.click(within(card()).getByTestId('peer-diff')));
    await act(() => store.getState().syncPeer('p1'));
    expect(screen.getByTestId('diff-forks').textContent).toBe(forkSentence(forks));

    forks = [];
    act(() => store.getState().navigate('peers'));
    await act(() => store.getState().syncPeer('p1'));
    expect(within(card()).queryByTestId('peer-forks')).toBeNull();
  });
});
