// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { err, ok } from '../../src/shared/api.js';
import { summary } from './fake-client.js';
import { renderApp } from './render-app.js';

afterEach(cleanup);

const peer = { id: 'p1', name: 'lab', address: '127.0.0.1:1', direction: 'sync' as const, include: ['*'], exclude: [] };

describe('Peers screen', () => {
  it('shows a failed diff as one sentence on the peer, with real buttons', async () => {
    const { store } = renderApp({ listPeers: () => ok([peer]), diff: () => err('io', 'Cannot connect to 127.0.0.1:1: connection refused.') });
    await act(() => store.getState().loadPeers());
    const card = screen.getByRole('article', { name: 'Peer lab' });
    expect((within(card).getByRole('radio', { name: 'Sync' }) as HTMLInputElement).checked).toBe(true);
    await act(async () => fireEvent.click(within(card).getByRole('button', { name: 'Connect' })));
    expect(within(card).getByRole('alert').textContent).toBe('Cannot connect to 127.0.0.1:1: connection refused.');
    expect(within(card).getByTestId('peer-state').textContent).toBe('Failed');
  });

  it('changes the remembered direction through the API', async () => {
    const { store, calls } = renderApp({ listPeers: () => ok([peer]), updatePeer: (_id, changes) => ok({ ...peer, ...(changes as object) }) });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: 'Pull' })));
    expect(calls.find((c) => c.method === 'updatePeer')?.args).toEqual(['p1', { direction: 'pull' }]);
    expect((screen.getByRole('radio', { name: 'Pull' }) as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId('peer-sync').textContent).toBe('Pull');
  });
});

describe('Diff screen', () => {
  const N = 100_000;
  const rows = Array.from({ length: N }, (_, i) => ({
    id: i.toString(16).padStart(16, '0'),
    kind: 'file' as const,
    size: 10,
    branches: [i % 2 ? 'org.b' : 'org.a'],
  }));
  const bigDiff = summary({
    sessionId: 'sess-1',
    weLack: {
      count: N,
      bytes: N * 10,
      groups: [
        { branch: 'org.a', kind: 'file', count: N / 2, bytes: (N / 2) * 10 },
        { branch: 'org.b', kind: 'file', count: N / 2, bytes: (N / 2) * 10 },
      ],
      items: rows.slice(0, 200),
    },
    theyLack: { count: 0, bytes: 0, groups: [], items: [] },
  });
  const pages = (_sid: unknown, _side: unknown, offset: unknown, limit: unknown, branch: unknown) => {
    const list = branch ? rows.filter((r) => r.branches[0] === branch) : rows;
    return ok({ total: list.length, offset, items: list.slice(offset as number, (offset as number) + (limit as number)) });
  };

  it('lists 100,000 rows in a virtualised list: few rows in the page, blocks fetched as they scroll into view', async () => {
    const { store, calls } = renderApp({ listPeers: () => ok([peer]), diff: () => ok(bigDiff), diffItems: pages });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-diff')));
    expect(screen.getByRole('heading', { name: 'Diff with lab' })).toBeTruthy();
    const weLack = screen.getByTestId('diff-we-lack');
    const groupRow = within(weLack)
      .getAllByRole('row')
      .find((r) => r.textContent?.startsWith('org.a'));
    expect(groupRow?.textContent).toBe('org.a50,000 files50,000488 KiB');

    const list = screen.getByTestId('weLack-items');
    expect(list.getAttribute('aria-rowcount')).toBe(String(N + 1));
    const itemRows = () => within(list).getAllByRole('row').slice(1);
    // A screenful plus a margin, not 100,000 (and not 200).
    expect(itemRows().length).toBeLessThan(40);
    expect(itemRows()[0]!.textContent).toContain(rows[0]!.id.slice(0, 12));
    expect(calls.filter((c) => c.method === 'diffItems').map((c) => c.args)).toEqual([['sess-1', 'weLack', 0, 200]]);

    // Scroll to the end: only the block in view is fetched, and its rows show.
    // The table is its own scroll area (rows of 44 px).
    await act(async () => {
      list.scrollTop = (N - 5) * 44;
      fireEvent.scroll(list);
    });
    expect(calls.filter((c) => c.method === 'diffItems').map((c) => c.args[2])).toEqual([0, 99_800]);
    expect(itemRows().at(-1)!.getAttribute('aria-rowindex')).toBe(String(N + 1));
    expect(itemRows().at(-1)!.textContent).toContain(rows[N - 1]!.id.slice(0, 12));
    expect(itemRows().length).toBeLessThan(40);
    expect(within(weLack).getByTestId('weLack-listing').textContent).toBe('100,000 items listed.');

    // A branch's row narrows the list to that branch, from the engine.
    await act(async () => fireEvent.click(within(weLack).getByRole('button', { name: 'org.b' })));
    expect(calls.at(-1)?.args).toEqual(['sess-1', 'weLack', 0, 200, 'org.b']);
    expect(screen.getByTestId('weLack-items').getAttribute('aria-rowcount')).toBe(String(N / 2 + 1));
    expect(within(screen.getByTestId('diff-they-lack')).getByText('Nothing missing on this side.')).toBeTruthy();
  });

  it('says why items and branches will not move: a refused branch and a direction turned off', async () => {
    const few = rows.slice(0, 3).map((r) => ({ ...r, blocked: 'direction' as const }));
    const diff = summary({
      sessionId: 'sess-2',
      direction: 'push',
      weLack: { count: 3, bytes: 30, groups: [{ branch: 'org.a', kind: 'file', count: 3, bytes: 30 }], items: few },
      theyLack: { count: 0, bytes: 0, groups: [], items: [] },
      refused: [{ branch: 'org.ro', reason: 'read-only' }],
    });
    const { store } = renderApp({
      listPeers: () => ok([{ ...peer, direction: 'push' }]),
      diff: () => ok(diff),
      diffItems: () => ok({ total: 3, offset: 0, items: few }),
    });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-diff')));
    expect(screen.getByTestId('diff-blocked').textContent).toBe(
      "The server lets this identity read branch 'org.ro' but not write it, so what it lacks there is not sent; if it should, ask its owner for a write rule for that key.",
    );
    expect(screen.getByTestId('weLack-direction').textContent).toBe('Not fetched: this peer is set to Push.');
    expect(within(screen.getByTestId('weLack-items')).getAllByText('direction is off')).toHaveLength(3);

    act(() => store.getState().navigate('peers'));
    const card = screen.getByRole('article', { name: 'Peer lab' });
    // Never "up to date" while a direction is blocked.
    expect(within(card).getByTestId('peer-state').textContent).toBe('Blocked');
    expect(within(card).getByTestId('peer-notes').textContent).toContain("read branch 'org.ro' but not write it");
    expect(within(card).getByTestId('peer-notes').textContent).toContain('We lack 3 items they have: not fetched, as this peer is set to Push.');
  });

  it('ticks rows as a sync moves them, lowers the counts from the same ids, and says why the rest did not move when it ends early', async () => {
    const few = rows.slice(0, 4);
    const diff = summary({
      sessionId: 'sess-3',
      weLack: {
        count: 4,
        bytes: 40,
        groups: [
          { branch: 'org.a', kind: 'file', count: 2, bytes: 20 },
          { branch: 'org.b', kind: 'file', count: 2, bytes: 20 },
        ],
        items: few,
      },
      theyLack: { count: 0, bytes: 0, groups: [], items: [] },
    });
    const { store, emit } = renderApp({ listPeers: () => ok([peer]), diff: () => ok(diff), diffItems: () => ok({ total: 4, offset: 0, items: few }) });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-diff')));
    const weLack = screen.getByTestId('diff-we-lack');
    expect(weLack.querySelector('.big')?.textContent).toBe('4 items · 40 B');

    act(() => {
      emit({ type: 'session-started', session: { sessionId: 'sync-1', peerId: 'p1', direction: 'sync', dryRun: false, startedAt: '2026-01-01T00:00:00Z' } });
      emit({
        type: 'session-items',
        sessionId: 'sync-1',
        peerId: 'p1',
        items: { seq: 1, sessionId: 'sync-1', received: [few[0]!.id, few[1]!.id], sent: [] },
        diff: {
          sessionId: 'sess-3',
          weLack: [
            { branch: 'org.a', kind: 'file', count: 1, bytes: 10 },
            { branch: 'org.b', kind: 'file', count: 1, bytes: 10 },
          ],
          theyLack: [],
        },
      });
    });
    const statuses = () =>
      within(screen.getByTestId('weLack-items'))
        .getAllByRole('row')
        .slice(1)
        .map((r) => r.lastElementChild?.textContent);
    expect(statuses()).toEqual(['moved', 'moved', '', '']);
    expect(within(weLack).getByTestId('weLack-moved').textContent).toBe('2 items (20 B) arrived since this comparison');
    expect(weLack.querySelector('.big')?.textContent).toBe('2 items · 20 B');
    const groupRow = (branch: string) =>
      within(weLack)
        .getAllByRole('row')
        .find((r) => r.textContent?.startsWith(branch))?.textContent;
    expect(groupRow('org.a')).toBe('org.a1 file110 B');

    act(() => emit({ type: 'session-finished', sessionId: 'sync-1', peerId: 'p1', error: { code: 'bad-item', message: 'Refused a bad item from the peer.' } }));
    expect(statuses()).toEqual(['moved', 'moved', 'failed verification', 'failed verification']);
    expect(screen.getByTestId('weLack-stopped').textContent).toBe('The sync ended because an item failed verification: 2 items did not move.');
  });

  it('reads "Up to date" only when nothing is left either way, and warns when a sync did not converge', async () => {
    let result = summary({ dryRun: false });
    const { store } = renderApp({ listPeers: () => ok([peer]), sync: () => ok(result) });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-sync')));
    expect(screen.getByTestId('peer-state').textContent).toBe('Up to date');
    result = summary({ dryRun: false, converged: false, sessions: 3 });
    await act(async () => fireEvent.click(screen.getByTestId('peer-sync')));
    expect(screen.getByTestId('peer-state').textContent).toBe('Still differs');
    expect(screen.getByTestId('peer-notes').textContent).toBe(
      'The two sides still differed after 3 sessions (is someone writing to either database?); sync again.',
    );
  });
});

describe('first contact and keys', () => {
  const prompt = {
    id: 'q1',
    peerId: 'p1',
    peerName: 'lab',
    address: '127.0.0.1:1',
    fingerprint: '3f2a9b01'.repeat(8),
    expiresAt: new Date(Date.now() + 120_000).toISOString(),
  };

  it('shows the server’s fingerprint, grouped, and answers Accept; the app behind is inert meanwhile', async () => {
    const { calls, emit } = renderApp({ answerServerPrompt: () => ok(true) });
    act(() => emit({ type: 'confirm-server', prompt }));
    const dialog = screen.getByRole('dialog', { name: 'Is this the right server?' });
    expect(within(dialog).getByTestId('confirm-server-fingerprint').textContent).toBe(`${'3f2a 9b01 '.repeat(8).trim()}`);
    expect(document.activeElement).toBe(within(dialog).getByTestId('confirm-server-accept'));
    expect(document.querySelector('.app')!.hasAttribute('inert')).toBe(true);
    await act(async () => fireEvent.click(within(dialog).getByTestId('confirm-server-accept')));
    expect(calls.find((c) => c.method === 'answerServerPrompt')?.args).toEqual(['q1', true]);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.querySelector('.app')!.hasAttribute('inert')).toBe(false);
  });

  it('Escape refuses; a question that timed out elsewhere closes with a note', async () => {
    const { calls, emit } = renderApp({ answerServerPrompt: () => ok(true) });
    act(() => emit({ type: 'confirm-server', prompt }));
    await act(async () => fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' }));
    expect(calls.find((c) => c.method === 'answerServerPrompt')?.args).toEqual(['q1', false]);

    act(() => emit({ type: 'confirm-server', prompt: { ...prompt, id: 'q2' } }));
    expect(screen.getByRole('dialog')).toBeTruthy();
    act(() => emit({ type: 'confirm-server-closed', promptId: 'q2', outcome: 'timeout' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByTestId('trust-note').textContent).toContain('Nobody answered in time');
  });

  it('asks for the passphrase of a locked key, then does what was refused', async () => {
    let unlocked = false;
    const { calls, store } = renderApp({
      listPeers: () => ok([peer]),
      sync: () => (unlocked ? ok(summary({ dryRun: false })) : err('key-locked', 'Key "alice" is protected by a passphrase.')),
      unlockKey: (_name, pass) =>
        pass === 'right'
          ? ((unlocked = true), ok({ active: { kind: 'key', name: 'alice' }, chosen: true, unlocked: ['alice'] }))
          : err('bad-passphrase', 'That is not the passphrase of key "alice".'),
    });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-sync')));
    expect(screen.queryByTestId('passphrase')).toBeNull(); // no key name in the error: nothing to unlock
    act(() => store.getState().requestUnlock('alice', { kind: 'sync', peerId: 'p1' }));
    const dialog = screen.getByTestId('passphrase');
    expect(document.activeElement).toBe(within(dialog).getByTestId('passphrase-input'));
    fireEvent.change(within(dialog).getByTestId('passphrase-input'), { target: { value: 'wrong' } });
    await act(async () => fireEvent.click(within(dialog).getByTestId('passphrase-submit')));
    expect(within(dialog).getByTestId('passphrase-error').textContent).toBe('That is not the passphrase of key "alice".');
    fireEvent.change(within(dialog).getByTestId('passphrase-input'), { target: { value: 'right' } });
    await act(async () => fireEvent.click(within(dialog).getByTestId('passphrase-submit')));
    expect(screen.queryByTestId('passphrase')).toBeNull();
    expect(calls.filter((c) => c.method === 'sync')).toHaveLength(2);
    expect(screen.getByTestId('peer-state').textContent).toBe('Up to date');
  });

  it('opens the passphrase prompt by itself when a sync is refused for a locked key', async () => {
    const { store } = renderApp({
      listPeers: () => ok([peer]),
      sync: () => ({ ok: false, error: { code: 'key-locked', message: 'Key "alice" is locked.', key: 'alice' } }),
    });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-sync')));
    expect(screen.getByRole('dialog', { name: 'Unlock key alice' })).toBeTruthy();
    await act(async () => fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByRole('button', { name: 'Enter the passphrase…' })).toBeTruthy();
  });

  it('a changed server key shows both fingerprints; trusting the new key takes a confirmation, then connects', async () => {
    const pinned = 'aa'.repeat(32);
    const presented = 'bb'.repeat(32);
    let trusted = false;
    const { calls, store } = renderApp({
      listPeers: () => ok([peer]),
      diff: () =>
        trusted
          ? ok(summary())
          : {
              ok: false,
              error: {
                code: 'server-key-changed',
                message: 'The server at 127.0.0.1:1 presented a different key.',
                serverKey: { address: '127.0.0.1:1', pinned, presented },
              },
            },
      trustServer: () => ((trusted = true), ok({ address: '127.0.0.1:1', fingerprint: presented, replaced: pinned })),
    });
    await act(() => store.getState().loadPeers());
    await act(async () => fireEvent.click(screen.getByTestId('peer-connect')));
    const card = screen.getByRole('article', { name: 'Peer lab' });
    expect(within(card).getByTestId('key-changed-new').textContent).toBe('bbbb '.repeat(16).trim());
    fireEvent.click(within(card).getByTestId('trust-new-key'));
    await act(async () => fireEvent.click(within(card).getByTestId('trust-new-key-confirm')));
    expect(calls.find((c) => c.method === 'trustServer')?.args).toEqual(['127.0.0.1:1', presented]);
    expect(calls.filter((c) => c.method === 'diff')).toHaveLength(2);
    expect(within(card).queryByTestId('key-changed')).toBeNull();
    expect(within(card).getByTestId('peer-state').textContent).toBe('Up to date');
  });
});

describe('Identity screen', () => {
  const key = (name: string, encrypted = false) => ({
    name,
    id: name.length.toString(16).padStart(64, '0'),
    publicKey: 'AAAA',
    hasPrivate: true,
    encrypted,
    inDatabase: true,
    fingerprint: '1234 '.repeat(16).trim(),
    exportText: `netsync-public-key-v1 ${name} AAAA`,
  });

  it('asks to choose among several keys, and remembers the choice through the API', async () => {
    let active: unknown = null;
    const { calls, store } = renderApp({
      listKeys: () => ok([key('alice@example.org'), key('bob@example.org', true)]),
      getIdentity: () => ok({ active, chosen: active !== null, unlocked: [] }),
      setIdentity: (choice) => ((active = choice), ok({ active: choice, chosen: true, unlocked: [] })),
    });
    act(() => store.getState().navigate('identity'));
    await act(() => store.getState().loadKeys());
    expect(screen.getByTestId('identity-choose').textContent).toBe('Several keys exist: choose the one to use.');
    expect(screen.getAllByTestId('key-fingerprint')[0]!.textContent).toBe('1234 '.repeat(16).trim());
    expect(screen.getByTestId('unlock-bob@example.org')).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByTestId('identity-bob@example.org')));
    expect(calls.find((c) => c.method === 'setIdentity')?.args).toEqual([{ kind: 'key', name: 'bob@example.org' }]);
    expect((screen.getByTestId('identity-bob@example.org') as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByTestId('identity-choose')).toBeNull();
  });
});

describe('Server screen: permissions', () => {
  it('shows every refused line, jumps to it, and saves a good text', async () => {
    let saved = { path: '/c/permissions', text: '', exists: false, rules: 0 };
    const { store } = renderApp({
      getPermissions: () => ok(saved),
      setPermissions: (text) =>
        String(text).includes('raed')
          ? {
              ok: false,
              error: {
                code: 'bad-permissions',
                message: 'The permissions were not saved: line 2: a rule starts with "read" or "write", not "raed".',
                lines: [{ line: 2, message: 'a rule starts with "read" or "write", not "raed"' }],
              },
            }
          : ((saved = { path: '/c/permissions', text: String(text), exists: true, rules: 1 }), ok(saved)),
    });
    await act(async () => store.getState().navigate('server'));
    const area = screen.getByTestId('permissions-text') as HTMLTextAreaElement;
    fireEvent.change(area, { target: { value: 'read * org.*\nraed * org.*' } });
    await act(async () => fireEvent.click(screen.getByTestId('permissions-save')));
    expect(screen.getByTestId('permissions-problems').textContent).toBe('Line 2: a rule starts with "read" or "write", not "raed"');
    expect(area.getAttribute('aria-invalid')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: 'Line 2' }));
    expect(document.activeElement).toBe(area);
    expect(area.value.slice(area.selectionStart, area.selectionEnd)).toBe('raed * org.*');

    fireEvent.change(area, { target: { value: 'read * org.*\n' } });
    await act(async () => fireEvent.click(screen.getByTestId('permissions-save')));
    expect(screen.queryByTestId('permissions-problems')).toBeNull();
    expect(screen.getByTestId('permissions-saved').textContent).toMatch(/^Saved 1 rule; they apply from the next session/);
    expect((screen.getByTestId('permissions-save') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('Collection screen', () => {
  it('lists branches, opens the log with its signer and shows the manifest tree', async () => {
    const m = 'ab'.repeat(32);
    const { store } = renderApp({
      getStatus: () =>
        ok({
          database: { path: '/d.db', items: 5, branches: 1 },
          configDir: '/c',
          server: { running: false, patterns: [], connections: [], sessions: 0, itemsSent: 0, itemsReceived: 0 },
          sessions: [],
          version: '0',
        }),
      listBranches: () => ok([{ name: 'org.example.demo', items: 5, root: '00' }]),
      log: () =>
        ok([
          {
            manifest: m,
            date: '2026-01-01T00:00:00Z',
            author: 'alice',
            changelog: 'First import',
            parents: [],
            certs: [{ name: 'branch', value: 'org.example.demo', signer: 'alice@example.org', signerKey: '11', trusted: true }],
          },
        ]),
      show: () =>
        ok({
          kind: 'manifest',
          id: m,
          certs: [],
          entries: [
            { path: 'docs', type: 'dir' },
            { path: 'docs/guide.txt', type: 'file', file: 'cd', size: 6 },
            { path: 'README', type: 'file', file: 'ef', size: 3 },
          ],
        }),
    });
    act(() => store.getState().navigate('collection'));
    await act(() => store.getState().refreshCollection());
    await act(async () => fireEvent.click(screen.getByRole('button', { name: /org\.example\.demo/ })));
    expect(screen.getByTestId('log').textContent).toContain('signed by alice@example.org');
    const tree = screen.getByTestId('manifest-tree');
    expect(tree.textContent).toContain('docs/');
    expect(tree.textContent).toContain('guide.txt');
    expect(tree.textContent).toContain('README');
    // Named by path, never by the file's id.
    expect(within(tree).getByRole('listitem', { name: 'docs/guide.txt' }).textContent).toContain('guide.txt');
    expect(tree.querySelector('[title="cd"]')).toBeNull();
  });

  it('marks a signer the user does not trust, and Trust this key asks the engine and takes the mark away', async () => {
    const m = 'ab'.repeat(32);
    const bob = 'b0'.repeat(32);
    const certs = (trusted: boolean) => [
      { name: 'branch', value: 'org.example.demo', signer: 'bob@example.org', signerKey: bob, trusted },
      { name: 'date', value: '2026-01-01T00:00:00Z', signer: 'bob@example.org', signerKey: bob, trusted },
    ];
    const { store, calls } = renderApp({
      log: () => ok([{ manifest: m, date: '2026-01-01T00:00:00Z', author: 'bob', changelog: 'From bob', parents: [], certs: certs(false) }]),
      show: () => ok({ kind: 'manifest', id: m, certs: certs(false), entries: [] }),
      trustKey: (id) => ok({ keyId: id, name: 'bob@example.org', trusted: true, changed: true }),
    });
    act(() => store.getState().navigate('collection'));
    await act(() => store.getState().selectBranch('org.example.demo'));
    expect(screen.getByTestId('log').textContent).toContain('signed by bob@example.orguntrusted');
    const signer = screen.getByTestId('signer');
    const mark = within(signer).getByText('untrusted');
    expect(mark.getAttribute('title')).toBe('Valid signature, but you have not chosen to trust this key.');
    expect(within(signer).getByText('branch, date')).toBeTruthy();

    await act(async () => fireEvent.click(within(signer).getByRole('button', { name: 'Trust this key' })));
    expect(calls.filter((c) => c.method === 'trustKey').map((c) => c.args)).toEqual([[bob]]);
    expect(screen.queryAllByText('untrusted')).toHaveLength(0);
    expect(within(screen.getByTestId('signer')).getByText('trusted')).toBeTruthy();
    expect(within(screen.getByTestId('signer')).getByRole('button', { name: 'Stop trusting' })).toBeTruthy();
  });
});
