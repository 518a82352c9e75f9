/**
 * Electron main process: the composition root. The engine runs in a worker
 * thread (NetsyncService); this process only wires it to the window (IPC),
 * the tray and the app's lifecycle.
 */
import { type BrowserWindow, Notification, app, dialog, ipcMain } from 'electron';
import { fileURLToPath } from 'node:url';
import appIcon from '../../build/icon-256.png?asset';
import createServiceWorker from '../engine/service/worker?nodeWorker';
import { createServiceWorkerClient } from '../engine/service/worker-client.js';
import type { NetsyncApi, ServerStatus, ServeOptions } from '../shared/api.js';
import { registerAppScheme, isOwnUrl, serveRenderer } from './app-protocol.js';
import { electronTray } from './electron-tray.js';
import { folderPicker } from './folder-picker.js';
import { forwardEvents, registerApiHandlers } from './ipc.js';
import { Notifier } from './notifier.js';
import { TrayService, traySync } from './tray-service.js';
import { createMainWindow, hardenSession } from './window.js';

const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
/** What the tray's "Start serving" does until the user serves with other settings. */
const DEFAULT_SERVE: ServeOptions = { bind: '0.0.0.0:4691', patterns: [] };

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  main();
}

function main(): void {
  const api = createServiceWorkerClient(() =>
    createServiceWorker({ workerData: { defaultDatabase: process.env.NETSYNC_DB, configDir: process.env.NETSYNC_CONFIG_DIR } }),
  );
  let win: BrowserWindow | null = null;
  let quitting = false;
  let serving = false;
  let lastServe = DEFAULT_SERVE;

  const showWindow = () => {
    if (!win || win.isDestroyed()) win = openWindow();
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  };

  const serve = async (start: boolean) => {
    tray.render({ busy: true });
    if (start) await api.openDatabase(); // the tray can serve before the window ever opened a database
    const r = start ? await api.startServer(lastServe) : await api.stopServer();
    // The tray cannot ask for a passphrase: the window can (Server screen, Start serving).
    const locked = !r.ok && r.error.code === 'key-locked';
    if (locked) showWindow();
    tray.render({
      busy: false,
      ...(r.ok ? {} : { error: locked ? 'the key is locked; start serving from the window to enter its passphrase' : r.error.message }),
    });
  };

  const tray = new TrayService(() => electronTray(appIcon), {
    startServing: () => void serve(true),
    stopServing: () => void serve(false),
    openWindow: showWindow,
    quit: () => app.quit(),
    syncAllNow: () => void api.syncAllNow(),
    setPaused: (paused) => void api.setAutoSyncPaused(paused),
  });
  const notifier = new Notifier(api, (notice) => {
    if (!Notification.isSupported()) return;
    const n = new Notification({ title: notice.title, body: notice.body, icon: appIcon });
    // A click shows the window, where the peer's card says the rest.
    n.on('click', showWindow);
    n.show();
  });

  const applyServer = (s: ServerStatus) => {
    serving = s.running;
    if (s.running) lastServe = { bind: `${s.host}:${s.port}`, patterns: s.patterns };
    tray.render({
      serving: s.running,
      bind: s.running ? `${s.host}:${s.port}` : undefined,
      connectedPeers: s.connections.length,
      itemsMoved: s.itemsSent + s.itemsReceived,
      error: s.error?.message,
    });
  };

  api.onEvent((e) => {
    if (e.type === 'server-status') applyServer(e.status);
    if (e.type === 'auto-sync') tray.render({ sync: traySync(e.status) });
    void notifier.onEvent(e);
  });
  forwardEvents(api.onEvent, () => win?.webContents ?? null);

  // The folder picker is a window's business: main answers it, the engine every other call.
  const calls: NetsyncApi = { ...api, pickFolder: folderPicker(dialog, () => win) };
  registerApiHandlers(ipcMain, calls, (event) => {
    const frame = event.senderFrame;
    // Only the top frame of our one window, showing our own page, may call the engine.
    return !!frame && !!win && event.sender === win.webContents && frame === win.webContents.mainFrame && isOwnUrl(frame.url, devServerUrl);
  });

  function openWindow(): BrowserWindow {
    const w = createMainWindow({ preload: fileURLToPath(new URL('../preload/index.cjs', import.meta.url)), icon: appIcon, devServerUrl });
    w.on('close', (event) => {
      // While serving, closing the window leaves Netsync running in the tray.
      if (serving && !quitting) {
        event.preventDefault();
        w.hide();
      }
    });
    w.on('closed', () => {
      if (win === w) win = null;
    });
    return w;
  }

  // A signal (Ctrl-C in the terminal of `npm start`, SIGTERM from it) quits as the tray's Quit does: the server and the database are closed first.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => app.quit());

  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  app.on('window-all-closed', () => {
    if (!serving && process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    // Let the server finish its sessions and close the database cleanly, then really quit.
    void api.close().finally(() => {
      tray.destroy();
      app.quit();
    });
  });

  void app.whenReady().then(() => {
    hardenSession(devServerUrl);
    serveRenderer(fileURLToPath(new URL('../renderer/', import.meta.url)));
    tray.render();
    win = openWindow();
  });
}
