/** The main window, locked down per Electron's security checklist. */
import { BrowserWindow, session, shell } from 'electron';
import { contentSecurityPolicy } from '../shared/csp.js';
import { APP_URL, isOwnUrl } from './app-protocol.js';

export interface WindowOptions {
  preload: string;
  icon?: string;
  /** electron-vite's dev server, in development only. */
  devServerUrl?: string;
}

export function createMainWindow(options: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1180,
    height: 780,
    minWidth: 760,
    minHeight: 520,
    show: false,
    title: 'Netsync',
    icon: options.icon,
    autoHideMenuBar: true,
    webPreferences: {
      preload: options.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const own = (url: string) => isOwnUrl(url, options.devServerUrl);
  win.webContents.on('will-navigate', (event, url) => {
    if (!own(url)) event.preventDefault();
  });
  win.webContents.on('will-redirect', (event, url) => {
    if (!own(url)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    // Links to the web (documentation, say) open in the user's browser, never in a window of ours.
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(options.devServerUrl ?? APP_URL);
  return win;
}

/**
 * The dev server's pages get the CSP as a header too (the app scheme sets
 * its own); nothing else is ever loaded, and no permission is ever granted.
 */
export function hardenSession(devServerUrl: string | undefined): void {
  const ses = session.defaultSession;
  if (devServerUrl) {
    ses.webRequest.onHeadersReceived({ urls: [`${devServerUrl}/*`] }, (details, callback) => {
      // Vite's dev client needs its own WebSocket and inline React refresh preamble.
      const devCsp = contentSecurityPolicy([devServerUrl.replace(/^http/, 'ws')])
        .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [devCsp] } });
    });
  }
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}
