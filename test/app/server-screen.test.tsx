// @vitest-environment jsdom
/**
 * The screens that must show the truth after a reload (issue #19): the
 * Server form shows what the running server really uses; a permissions rule
 * names a key picked from the keys known here, or a pasted fingerprint; the
 * Transfers screen lists the sessions the engine kept.
 */
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { type KnownKey, type ServerStatus, type TransferRecord, ok } from '../../src/shared/api.js';
import { summary } from './fake-client.js';
import { renderApp } from './render-app.js';

afterEach(cleanup);

const running: ServerStatus = {
  running: true,
  host: '127.0.0.1',
  port: 5555,
  patterns: ['org.example.*'],
  connections: [],
  sessions: 0,
  itemsSent: 0,
  itemsReceived: 0,
  identity: { name: 'srv@example.org', fingerprint: 'ab12 '.repeat(16).trim() },
};

const grouped = (hex: string) => hex.match(/.{4}/g)!.join(' ');
const known: KnownKey[] = [
  { fingerprint: grouped('aa'.repeat(32)), name: 'alice@example.org', sources: ['own'] },
  { fingerprint: grouped('bb'.repeat(32)), name: 'bob@example.org', sources: ['database'] },
  { fingerprint: grouped('cc'.repeat(32)), name: null, sources: ['client'], lastSeen: '2026-11-30T10:00:00Z' },
];

function boot(extra: Parameters<typeof renderApp>[0] = {}) {
  return renderApp({
    getStatus: () => ok({ database: { path: '/d.db', items: 1, branches: 1 }, configDir: '/c', server: running, sessions: [], prompts: [], version: '0' }),
    listBranches: () => ok([]),
    listPeers: () => ok([]),
    listKeys: () => ok([]),
    getIdentity: () => ok({ active: null, chosen: false, unlocked: [] }),
    listTransfers: () => ok([]),
    getPermissions: () => ok({ path: '/c/permissions', text: 'read * org.public.*\n', exists: true, rules: 1 }),
    listKnownKeys: () => ok(known),
    ...extra,
  });
}

describe('Server screen after a reload', () => {
  it("the form shows the running server's real address and patterns, not the defaults", async () => {
    const { store } = boot();
    await act(() => store.getState().boot());
    await act(async () => store.getState().navigate('server'));
    expect((screen.getByTestId('server-bind') as HTMLInputElement).value).toBe('127.0.0.1:5555');
    expect((screen.getByTestId('server-patterns') as HTMLInputElement).value).toBe('org.example.*');
    expect(screen.getByTestId('server-status').textContent).toBe(' Serving on 127.0.0.1:5555, offering org.example.*');
  });

  it('an IPv6 server reads in brackets, and one offering everything says so', async () => {
    const { store } = boot({
      getStatus: () => ok({ database: null, configDir: '/c', server: { ...running, host: '::1', patterns: [] }, sessions: [], prompts: [], version: '0' }),
      openDatabase: () => ok({ path: '/d.db', items: 0, branches: 0 }),
    });
    await act(() => store.getState().boot());
    await act(async () => store.getState().navigate('server'));
    expect((screen.getByTestId('server-bind') as HTMLInputElement).value).toBe('[::1]:5555');
    expect(screen.getByTestId('server-status').textContent).toBe(' Serving on [::1]:5555, offering every branch');
  });
});

describe('Permissions: a rule from a picked key', () => {
  async function open() {
    const env = boot();
    await act(() => env.store.getState().boot());
    await act(async () => env.store.getState().navigate('server'));
    return env;
  }
  const text = () => (screen.getByTestId('permissions-text') as HTMLTextAreaElement).value;
  const pick = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

  it('offers the known keys by where they are known from, and writes the rule with the full fingerprint and a comment', async () => {
    await open();
    const groups = [...screen.getByTestId('rule-who').querySelectorAll('optgroup')].map((g) => [
      g.getAttribute('label'),
      [...g.querySelectorAll('option')].map((o) => o.textContent),
    ]);
    expect(groups).toEqual([
      ['Your keys', ['alice@example.org (aaaa aaaa … aaaa)']],
      ['Keys in this database', ['bob@example.org (bbbb bbbb … bbbb)']],
      ['Clients that connected here', [expect.stringMatching(/^client last seen .* \(cccc cccc … cccc\)$/)]],
    ]);
    pick('rule-who', known[1]!.fingerprint);
    pick('rule-patterns', 'org.example.* !org.example.secret*');
    fireEvent.click(screen.getByTestId('rule-add'));
    expect(text()).toBe(`read * org.public.*\n# bob@example.org\nread ${known[1]!.fingerprint} org.example.* !org.example.secret*\n`);
    // Not saved until Save: the editor holds it, and Save is enabled.
    expect((screen.getByTestId('permissions-save') as HTMLButtonElement).disabled).toBe(false);

    pick('rule-access', 'write');
    pick('rule-who', 'anonymous');
    pick('rule-patterns', 'org.public.*');
    fireEvent.click(screen.getByTestId('rule-add'));
    expect(text().endsWith('read anonymous org.public.*\nwrite anonymous org.public.*\n')).toBe(true);
  });

  it('takes a pasted fingerprint in any spacing, and refuses one that is not, naming it', async () => {
    await open();
    pick('rule-who', 'paste');
    pick('rule-fingerprint', '12ab-34cd');
    pick('rule-patterns', 'org.x');
    fireEvent.click(screen.getByTestId('rule-add'));
    expect(screen.getByTestId('rule-problem').textContent).toBe(
      'The fingerprint "12ab-34cd" is not 64 hex digits; paste all 16 groups of 4, as the key\'s owner reads them.',
    );
    expect(text()).toBe('read * org.public.*\n');
    pick('rule-fingerprint', 'DD'.repeat(32));
    fireEvent.click(screen.getByTestId('rule-add'));
    expect(screen.queryByTestId('rule-problem')).toBeNull();
    expect(text()).toBe(`read * org.public.*\nread ${grouped('dd'.repeat(32))} org.x\n`);
  });
});

describe('Transfers after a reload', () => {
  it('lists the kept sessions with their peer, even one removed since, and their figures', async () => {
    const kept: TransferRecord = {
      info: { sessionId: 'k1', peerId: 'gone', direction: 'pull', dryRun: false, startedAt: '2026-11-29T10:00:00.000Z' },
      peerName: 'old lab',
      address: 'h',
      endedAt: '2026-11-29T10:00:03.000Z',
      progress: null,
      summary: summary({ dryRun: false, direction: 'pull', itemsReceived: 7, ms: 3000, roundTrips: 3 }),
    };
    const { store } = boot({ listTransfers: () => ok([kept]) });
    await act(() => store.getState().boot());
    await act(async () => store.getState().navigate('transfers'));
    expect(screen.getByTestId('transfer-item').textContent).toMatch(/^pull · old lab · /);
    expect(screen.getByRole('heading', { name: 'Pull with old lab' })).toBeTruthy();
    expect(screen.getByTestId('transfer-phase').textContent).toBe('done');
    expect(screen.getByTestId('transfer-detail').textContent).toContain('3.0 s');
    expect(screen.getByTestId('transfer-no-chart')).toBeTruthy();
  });
});
