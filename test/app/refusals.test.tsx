// @vitest-environment jsdom
/**
 * Never "Up to date" when something was refused (issue #19): the sentences
 * (shared/refusals.ts) name the key the server judged and say what to do; the
 * peer's card, the diff and the transfer say them, live and after a restart.
 * `unmatchedPatterns` (protocol version 4, filled by the engine) is handled
 * like a refused branch already.
 */
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { type LastSession, ok } from '../../src/shared/api.js';
import { refusalSentences, wasRefused } from '../../src/shared/refusals.js';
import type { SessionIdentity } from '../../src/shared/sync.js';
import { peerVerdict } from '../../src/renderer/store/verdict.js';
import { summary } from './fake-client.js';
import { renderApp } from './render-app.js';

afterEach(cleanup);

const FP = '1eec 5382 0a1b 2c3d 4e5f 6071 8293 a4b5 c6d7 e8f9 0a1b 2c3d 4e5f 6071 8293 a4b5';
const alice: SessionIdentity = { kind: 'key', name: 'alice@example.org', fingerprint: FP };
const peer = { id: 'p1', name: 'lab', address: '127.0.0.1:1', direction: 'sync' as const, include: ['org.example.notes'], exclude: [] };

describe('the sentences of a refusal', () => {
  it('say what will not move and what to do, naming the key by its fingerprint', () => {
    expect(refusalSentences({ unmatchedPatterns: ['org.example.notes'], identity: alice })).toEqual([
      `The server offers no branch matching 'org.example.notes' to key ${FP} (alice@example.org); if it should, ask its owner for a read rule for that key.`,
    ]);
    expect(
      refusalSentences({
        identity: alice,
        refused: [
          { branch: 'org.a', reason: 'not-offered' },
          { branch: 'org.b', reason: 'no-permission' },
          { branch: 'org.c', reason: 'read-only' },
        ],
      }),
    ).toEqual([
      `The server does not offer branch 'org.a' to key ${FP} (alice@example.org), so nothing of it moves; if it should, ask its owner to serve it.`,
      `The server does not let key ${FP} (alice@example.org) read branch 'org.b', so nothing of it moves; if it should, ask its owner for a read rule for that key.`,
      `The server lets key ${FP} (alice@example.org) read branch 'org.c' but not write it, so what it lacks there is not sent; if it should, ask its owner for a write rule for that key.`,
    ]);
  });

  it('tell an anonymous session to ask for a rule for anonymous clients, or to connect with a key', () => {
    const [sentence] = refusalSentences({ unmatchedPatterns: ['org.*'], identity: { kind: 'anonymous' } });
    expect(sentence).toBe(
      "The server offers no branch matching 'org.*' to anonymous clients; if it should, ask its owner for a read rule for anonymous clients, or connect with a key it grants (Identity screen).",
    );
  });

  it('count a pattern that matched nothing as a refusal', () => {
    expect(wasRefused({})).toBe(false);
    expect(wasRefused({ refused: [], unmatchedPatterns: [] })).toBe(false);
    expect(wasRefused({ unmatchedPatterns: ['org.x'] })).toBe(true);
    expect(wasRefused({ refused: [{ branch: 'org.a', reason: 'read-only' }] })).toBe(true);
  });
});

describe('the peer verdict', () => {
  // A server that grants nothing: nothing was compared, so nothing is left either way.
  const grantsNothing = summary({ dryRun: false, unmatchedPatterns: ['org.example.notes'], identity: alice });

  it('is never "Up to date" when a pattern matched nothing the server offers, live or remembered', () => {
    const live = peerVerdict({}, { state: 'done' }, grantsNothing);
    expect(live).toMatchObject({ tone: 'blocked', label: 'Blocked' });
    expect(live.notes).toEqual([refusalSentences(grantsNothing)[0]]);
    expect(peerVerdict({}, { state: 'done' }, summary({ dryRun: false, identity: alice }))).toMatchObject({ tone: 'ok', label: 'Up to date' });

    const last: LastSession = {
      at: '2026-11-30T10:00:00Z',
      dryRun: false,
      direction: 'sync',
      itemsSent: 0,
      itemsReceived: 0,
      bytesSent: 0,
      bytesReceived: 0,
      weLack: 0,
      theyLack: 0,
      unmatchedPatterns: ['org.example.notes'],
      identity: alice,
    };
    // After a restart, from what the engine remembered of the peer.
    const remembered = peerVerdict({ last }, { state: 'idle' }, undefined);
    expect(remembered.label).toBe('Blocked');
    expect(remembered.notes[0]).toContain(`to key ${FP}`);
  });
});

describe('the screens', () => {
  const refusedDiff = summary({
    sessionId: 'sess-r',
    dryRun: true,
    unmatchedPatterns: ['org.example.notes'],
    refused: [{ branch: 'org.example.ro', reason: 'read-only' }],
    identity: alice,
  });

  it('the card and the diff say what was refused; an empty side is not "nothing missing"', async () => {
    const { store } = renderApp({ listPeers: () => ok([peer]), diff: () => ok(refusedDiff) });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-diff')));
    const sentences = refusalSentences(refusedDiff);
    expect([...screen.getByTestId('diff-blocked').querySelectorAll('p')].map((p) => p.textContent)).toEqual(sentences);
    // We lack nothing of what was compared, but a pattern matched nothing: said, not "nothing missing".
    expect(screen.getByTestId('weLack-refused').textContent).toMatch(/^Nothing found in what the server let this identity compare/);
    expect(screen.getByTestId('theyLack-refused')).toBeTruthy();
    expect(screen.queryByText('Nothing missing on this side.')).toBeNull();

    act(() => store.getState().navigate('peers'));
    const card = screen.getByRole('article', { name: 'Peer lab' });
    expect(within(card).getByTestId('peer-state').textContent).toBe('Blocked');
    expect([...within(card).getByTestId('peer-notes').querySelectorAll('li')].map((li) => li.textContent)).toEqual(sentences);
  });

  it('the transfer says it too: "done, refused", the sentences, and "(refused)" in the list', async () => {
    const { store } = renderApp({});
    act(() => {
      store.getState().applySessionStarted({ sessionId: 's1', peerId: 'p1', direction: 'sync', dryRun: true, startedAt: new Date().toISOString() });
      store.getState().applySessionFinished('s1', { summary: refusedDiff });
      store.getState().navigate('transfers');
    });
    expect(screen.getByTestId('transfer-phase').textContent).toBe('done, refused');
    expect([...screen.getByTestId('transfer-refused').querySelectorAll('p')].map((p) => p.textContent)).toEqual(refusalSentences(refusedDiff));
    expect(screen.getByTestId('transfer-item').textContent).toMatch(/^diff · a peer · .* \(refused\)$/);
  });
});
