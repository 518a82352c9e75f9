import { describe, expect, it, vi } from 'vitest';
import { type TrayActions, type TrayBackend, type TrayMenuItem, TrayService, traySync } from '../../src/main/tray-service.js';

function fakeTray() {
  const menus: TrayMenuItem[][] = [];
  const tips: string[] = [];
  let destroyed = 0;
  const backend: TrayBackend = {
    setMenu: (m) => menus.push(m),
    setToolTip: (t) => tips.push(t),
    destroy: () => void destroyed++,
  };
  return { backend, menus, tips, destroyed: () => destroyed };
}

function labels(menu: TrayMenuItem[] | undefined): string[] {
  return (menu ?? []).map((m) => (m.type === 'separator' ? '---' : `${m.label}${m.enabled ? '' : ' (disabled)'}`));
}

function actions() {
  return {
    startServing: vi.fn<() => void>(),
    stopServing: vi.fn<() => void>(),
    openWindow: vi.fn<() => void>(),
    quit: vi.fn<() => void>(),
    syncAllNow: vi.fn<() => void>(),
    setPaused: vi.fn<(paused: boolean) => void>(),
  } satisfies TrayActions;
}

describe('TrayService', () => {
  it('offers to start serving when stopped', () => {
    const tray = fakeTray();
    const a = actions();
    const service = new TrayService(() => tray.backend, a);
    service.render();
    expect(labels(tray.menus.at(-1))).toEqual([
      'Not serving (disabled)',
      'Start serving',
      '---',
      'No peer kept in sync (disabled)',
      'Sync all now',
      'Pause automatic sync (disabled)',
      '---',
      'Open Netsync',
      'Quit',
    ]);
    expect(tray.tips.at(-1)).toBe('Netsync: not serving');
    const toggle = tray.menus.at(-1)!.find((m) => m.id === 'toggle');
    if (toggle?.type !== 'normal') throw new Error('no toggle');
    toggle.click?.();
    expect(a.startServing).toHaveBeenCalledOnce();
  });

  it('shows the bind address, connected peers and items moved while serving', () => {
    const tray = fakeTray();
    const a = actions();
    const service = new TrayService(() => tray.backend, a);
    service.render({ serving: true, bind: '0.0.0.0:4691', connectedPeers: 1, itemsMoved: 42 });
    expect(labels(tray.menus.at(-1))).toEqual([
      'Serving on 0.0.0.0:4691 (disabled)',
      '1 peer connected (disabled)',
      '42 items moved (disabled)',
      'Stop serving',
      '---',
      'No peer kept in sync (disabled)',
      'Sync all now',
      'Pause automatic sync (disabled)',
      '---',
      'Open Netsync',
      'Quit',
    ]);
    expect(tray.tips.at(-1)).toBe('Netsync: serving on 0.0.0.0:4691, 1 peer connected');
    const menu = tray.menus.at(-1)!;
    for (const item of menu) if (item.type === 'normal' && item.enabled) item.click?.();
    expect(a.stopServing).toHaveBeenCalledOnce();
    expect(a.openWindow).toHaveBeenCalledOnce();
    expect(a.quit).toHaveBeenCalledOnce();
    expect(a.startServing).not.toHaveBeenCalled();
    expect(a.syncAllNow).toHaveBeenCalledOnce();
  });

  it('says how the automatic sync stands, offers "Sync all now" and pause/resume, and the tooltip leads with the most urgent', () => {
    const tray = fakeTray();
    const a = actions();
    const service = new TrayService(() => tray.backend, a);
    // The automatic sync's three lines, wherever the server's lines end.
    const menu = () => {
      const items = tray.menus.at(-1)!;
      const at = items.findIndex((m) => m.id === 'sync');
      return labels(items.slice(at, at + 3));
    };
    const click = (id: string) => {
      const item = tray.menus.at(-1)!.find((m) => m.id === id);
      if (item?.type !== 'normal' || !item.enabled) throw new Error(`${id} is not clickable`);
      item.click?.();
    };

    service.render({ sync: traySync({ paused: false, peers: [{ state: 'waiting' }, { state: 'waiting' }] }) });
    expect(menu()).toEqual(['2 peers kept in sync: up to date (disabled)', 'Sync all now', 'Pause automatic sync']);
    expect(tray.tips.at(-1)).toBe('Netsync: up to date; not serving');
    click('sync-all');
    expect(a.syncAllNow).toHaveBeenCalledOnce();
    click('pause');
    expect(a.setPaused).toHaveBeenLastCalledWith(true);

    service.render({ sync: traySync({ paused: false, peers: [{ state: 'syncing' }, { state: 'waiting' }] }), serving: true, bind: 'h:1' });
    expect(menu()[0]).toBe('Syncing 1 peer… (disabled)');
    expect(tray.tips.at(-1)).toBe('Netsync: syncing; serving on h:1, 0 peers connected');

    const down = { state: 'backing-off', lastError: { message: 'Nothing is listening at h:2; is the server running?' } };
    service.render({ sync: traySync({ paused: false, peers: [down, { state: 'waiting' }] }) });
    expect(menu()[0]).toBe('1 peer of 2 failing: Nothing is listening at h:2; is the server running? (disabled)');
    expect(tray.tips.at(-1)).toMatch(/^Netsync: error; /);

    service.render({ sync: traySync({ paused: true, peers: [down] }) });
    expect(menu()).toEqual(['Automatic sync paused (1 peer) (disabled)', 'Sync all now', 'Resume automatic sync']);
    click('pause');
    expect(a.setPaused).toHaveBeenLastCalledWith(false);
  });

  it('disables the toggle while busy and shows why serving failed', () => {
    const tray = fakeTray();
    const service = new TrayService(() => tray.backend, actions());
    service.render({ busy: true });
    expect(labels(tray.menus.at(-1))).toContain('Start serving (disabled)');
    service.render({ busy: false, error: 'Another program already listens on 0.0.0.0:4691.' });
    expect(labels(tray.menus.at(-1))[0]).toBe('Not serving: Another program already listens on 0.0.0.0:4691. (disabled)');
  });

  it('creates the tray once, redraws only on change, and destroys it', () => {
    const tray = fakeTray();
    const factory = vi.fn(() => tray.backend);
    const service = new TrayService(factory, actions());
    service.render({ serving: true, bind: 'h:1', connectedPeers: 2, itemsMoved: 0 });
    service.render({ connectedPeers: 2 });
    service.render({ connectedPeers: 3 });
    expect(factory).toHaveBeenCalledOnce();
    expect(tray.menus).toHaveLength(2);
    expect(labels(tray.menus.at(-1))[1]).toBe('3 peers connected (disabled)');
    service.destroy();
    expect(tray.destroyed()).toBe(1);
  });
});
