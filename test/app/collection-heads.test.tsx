// @vitest-environment jsdom
/**
 * The Collection screen shows forks: a branch with several heads says how
 * many in the list, and its log marks each head and says in one sentence
 * that `netsync merge BRANCH` joins them.
 */
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ok } from '../../src/shared/api.js';
import { renderApp } from './render-app.js';

afterEach(cleanup);

const entry = (manifest: string, date: string, parents: string[], head: boolean) => ({
  manifest,
  date,
  author: 'alice',
  changelog: `version ${manifest.slice(0, 2)}`,
  parents,
  certs: [],
  head,
});

describe('heads on the Collection screen', () => {
  it('a forked branch: "2 heads" in the list, each head marked in the log, one sentence naming the merge', async () => {
    const [base, one, two] = ['aa'.repeat(32), 'bb'.repeat(32), 'cc'.repeat(32)];
    const { store } = renderApp({
      getStatus: () =>
        ok({
          database: { path: '/d.db', items: 9, branches: 2 },
          configDir: '/c',
          server: { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 },
          sessions: [],
          version: '0',
        }),
      listBranches: () =>
        ok([
          { name: 't.alpha', items: 9, root: '00', heads: 2 },
          { name: 't.beta', items: 3, root: '01', heads: 1 },
        ]),
      log: (branch) =>
        ok(
          branch === 't.alpha'
            ? [
                entry(two, '2026-01-03T00:00:00Z', [base], true),
                entry(one, '2026-01-02T00:00:00Z', [base], true),
                entry(base, '2026-01-01T00:00:00Z', [], false),
              ]
            : [entry(base, '2026-01-01T00:00:00Z', [], true)],
        ),
    });
    act(() => store.getState().navigate('collection'));
    await act(() => store.getState().refreshCollection());
    const heads = screen.getAllByTestId('branch-heads');
    expect(heads.map((h) => h.textContent)).toEqual(['2 heads']);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /t\.alpha/ })));
    expect(screen.getAllByTestId('log-head')).toHaveLength(2);
    expect(screen.getByTestId('log-forked').textContent).toBe(
      't.alpha has 2 heads, versions committed concurrently (marked “head” below): nothing was lost, and netsync merge t.alpha joins them. Merge',
    );
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /t\.beta/ })));
    expect(screen.queryByTestId('log-forked')).toBeNull();
    expect(screen.queryByTestId('log-head')).toBeNull();
  });

  it('Merge asks the engine, then says what came of it: the merge revision, or each conflict with nothing committed', async () => {
    const [base, one, two, merged] = ['aa'.repeat(32), 'bb'.repeat(32), 'cc'.repeat(32), 'dd'.repeat(32)];
    let outcome: unknown = { branch: 't.alpha', revision: null, heads: 2, conflicts: [{ kind: 'content', path: 'notes.txt' }] };
    const forked = [
      entry(two, '2026-01-03T00:00:00Z', [base], true),
      entry(one, '2026-01-02T00:00:00Z', [base], true),
      entry(base, '2026-01-01T00:00:00Z', [], false),
    ];
    let log = forked;
    const { store, calls } = renderApp({
      listBranches: () => ok([{ name: 't.alpha', items: 9, root: '00', heads: log === forked ? 2 : 1 }]),
      log: () => ok(log),
      show: () => ok({ kind: 'manifest', id: base, certs: [], entries: [] }),
      merge: () => ok(outcome),
    });
    act(() => store.getState().navigate('collection'));
    await act(() => store.getState().refreshCollection());
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /t\.alpha/ })));
    await act(async () => fireEvent.click(screen.getByTestId('merge-heads')));
    expect(calls.filter((c) => c.method === 'merge')).toEqual([{ method: 'merge', args: ['t.alpha'] }]);
    expect(screen.getByTestId('merge-conflicts').textContent).toContain('Not merged: 1 conflict, so nothing was committed.');
    expect(screen.getByTestId('merge-conflicts').textContent).toContain('content: notes.txt');

    outcome = { branch: 't.alpha', revision: merged, heads: 1, conflicts: [] };
    log = [{ ...entry(merged, '2026-01-04T00:00:00Z', [one, two], true) }, ...forked.map((e) => ({ ...e, head: false }))];
    await act(async () => fireEvent.click(screen.getByTestId('merge-heads')));
    expect(screen.getByTestId('merge-result').textContent).toMatch(/^Merged into dddddddd.*; t\.alpha now has 1 head\.$/);
    expect(screen.queryByTestId('log-forked')).toBeNull();
    expect(screen.queryByTestId('branch-heads')).toBeNull();
  });
});
