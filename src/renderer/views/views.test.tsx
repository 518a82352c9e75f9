// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { err, ok } from '../../shared/api.js';
import { createAppStore } from '../store/app-store.js';
import { StoreProvider } from '../store/context.js';
import { fakeClient, summary } from '../test/fake-client.js';
import { App } from './App.js';

afterEach(cleanup);

const peer = { id: 'p1', name: 'lab', address: '127.0.0.1:1', direction: 'sync' as const, include: ['*'], exclude: [] };

function renderApp(handlers: Parameters<typeof fakeClient>[0]) {
  const fake = fakeClient(handlers);
  const store = createAppStore(fake.client);
  render(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
  );
  return { ...fake, store };
}

describe('Peers screen', () => {
  it('shows a failed diff as one sentence on the peer, with real buttons', async () => {
    const { store } = renderApp({ listPeers: () => ok([peer]), diff: () => err('io', 'Cannot connect to 127.0.0.1:1: connection refused.') });
    await act(() => store.getState().loadPeers());
    const card = screen.getByRole('article', { name: 'Peer lab' });
    expect(within(card).getByRole('radio', { name: 'Sync' }).getAttribute('aria-checked')).toBe('true');
    await act(async () => fireEvent.click(within(card).getByRole('button', { name: 'Connect' })));
    expect(within(card).getByRole('alert').textContent).toBe('Cannot connect to 127.0.0.1:1: connection refused.');
    expect(within(card).getByTestId('peer-state').textContent).toBe('Failed');
  });

  it('changes the remembered direction through the API', async () => {
    const { store, calls } = renderApp({ listPeers: () => ok([peer]), updatePeer: (_id, changes) => ok({ ...peer, ...(changes as object) }) });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: 'Pull' })));
    expect(calls.find((c) => c.method === 'updatePeer')?.args).toEqual(['p1', { direction: 'pull' }]);
    expect(screen.getByRole('radio', { name: 'Pull' }).getAttribute('aria-checked')).toBe('true');
    expect(screen.getByTestId('peer-sync').textContent).toBe('Pull');
  });
});

describe('Diff screen', () => {
  it('shows both sides grouped by branch and pages through the items', async () => {
    const items = Array.from({ length: 120 }, (_, i) => ({ id: i.toString(16).padStart(64, '0'), kind: 'file' as const, size: 10, branches: ['org.a'] }));
    const diff = summary({
      weLack: { count: 120, bytes: 1200, groups: [{ branch: 'org.a', kind: 'file', count: 120, bytes: 1200 }], items },
      theyLack: { count: 0, bytes: 0, groups: [], items: [] },
    });
    const { store } = renderApp({ listPeers: () => ok([peer]), diff: () => ok(diff) });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-diff')));
    expect(screen.getByRole('heading', { name: 'Diff with lab' })).toBeTruthy();
    const weLack = screen.getByTestId('diff-we-lack');
    const groupRow = within(weLack).getAllByRole('row').find((r) => r.textContent?.startsWith('org.a'));
    expect(groupRow?.textContent).toBe('org.a120 file1201.2 KiB');
    // 50 item rows on a page, plus the two header rows and the one group row.
    expect(within(weLack).getAllByRole('row')).toHaveLength(53);
    expect(within(weLack).getByText('Page 1 of 3')).toBeTruthy();
    fireEvent.click(within(weLack).getByRole('button', { name: 'Next' }));
    expect(within(weLack).getByText('Page 2 of 3')).toBeTruthy();
    expect(within(screen.getByTestId('diff-they-lack')).getByText('Nothing missing on this side.')).toBeTruthy();
  });
});

describe('Collection screen', () => {
  it('lists branches, opens the log with its signer and shows the manifest tree', async () => {
    const m = 'ab'.repeat(32);
    const { store } = renderApp({
      getStatus: () => ok({ database: { path: '/d.db', items: 5, branches: 1 }, configDir: '/c', server: { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 }, sessions: [], version: '0' }),
      listBranches: () => ok([{ name: 'org.example.demo', items: 5, root: '00' }]),
      log: () => ok([{ manifest: m, date: '2026-01-01T00:00:00Z', author: 'alice', changelog: 'First import', parents: [], certs: [{ name: 'branch', value: 'org.example.demo', signer: 'alice@example.org', signerKey: '11' }] }]),
      show: () => ok({ kind: 'manifest', id: m, certs: [], entries: [{ path: 'docs', type: 'dir' }, { path: 'docs/guide.txt', type: 'file', file: 'cd', size: 6 }, { path: 'README', type: 'file', file: 'ef', size: 3 }] }),
    });
    act(() => store.getState().navigate('collection'));
    await act(() => store.getState().refreshCollection());
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /org\.example\.demo/ })));
    expect(screen.getByTestId('log').textContent).toContain('signed by alice@example.org');
    const tree = screen.getByTestId('manifest-tree');
    expect(tree.textContent).toContain('docs/');
    expect(tree.textContent).toContain('guide.txt');
    expect(tree.textContent).toContain('README');
  });
});
