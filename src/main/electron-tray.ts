/** The real tray backend: Electron's Tray and Menu behind TrayService's small interface. */
import { Menu, Tray, nativeImage } from 'electron';
import type { TrayBackend, TrayMenuItem } from './tray-service.js';

export function electronTray(iconPath: string): TrayBackend {
  // 16 px logical size: what Linux panels, the macOS menu bar and Windows expect.
  const icon = nativeImage.createFromPath(iconPath).resize({ width: 16, height: 16 });
  const tray = new Tray(icon);
  return {
    setMenu(items: TrayMenuItem[]) {
      tray.setContextMenu(
        Menu.buildFromTemplate(
          items.map((m) => (m.type === 'separator' ? { type: 'separator' as const } : { id: m.id, label: m.label, enabled: m.enabled, click: m.click })),
        ),
      );
    },
    setToolTip: (text) => tray.setToolTip(text),
    destroy: () => tray.destroy(),
  };
}
