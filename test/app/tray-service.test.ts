import { describe, expect, it, vi } from 'vitest';
import { type TrayActions, type TrayBackend, type TrayMenuItem, TrayService } from '../../src/main/tray-service.js';

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
  } satisfies TrayActions;
}

describe('TrayService', () => {
  it('offers to start serving when stopped', () => {
    const tray = fakeTray();
    const a = actions();
    const service = new TrayService(() => tray.backend, a);
    service.render();
    expect(labels(tray.menus.at(-1))).toEqual(['Not serving (disabled)', 'Start serving', '---', 'Open Netsync', 'Quit']);
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
      'Open Netsync',
      'Quit',
    ]);
    expect(tray.tips.at(-1)).toBe('Netsync: serving on 0.0.0.0:4691, 1 peer connected');
    const menu = tray.menus.at(-1)!;
    for (const item of menu) if (item.type === 'normal') item.click?.();
    expect(a.stopServing).toHaveBeenCalledOnce();
    expect(a.openWindow).toHaveBeenCalledOnce();
    expect(a.quit).toHaveBeenCalledOnce();
    expect(a.startServing).not.toHaveBeenCalled();
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
