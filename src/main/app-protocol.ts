/**
 * Serves the built renderer from `app://netsync/` instead of file://, so the
 * page has a real origin we can check IPC senders against and send a CSP
 * header with (file:// responses carry no headers).
 */
import { net, protocol } from 'electron';
import { join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentSecurityPolicy } from '../shared/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'netsync';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveRenderer(rendererDir: string): void {
  const root = normalize(rendererDir + sep);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('Not found', { status: 404 });
    const file = normalize(join(root, decodeURIComponent(url.pathname)));
    // No path may climb out of the renderer folder.
    if (!file.startsWith(root)) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString()).catch(() => null);
    if (!response?.ok) return new Response('Not found', { status: 404 });
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', contentSecurityPolicy());
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: 200, headers });
  });
}

/** True when `url` is a page of ours: the app scheme, or the dev server electron-vite started. */
export function isOwnUrl(url: string, devServerUrl: string | undefined): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST) return true;
  if (!devServerUrl) return false;
  const dev = new URL(devServerUrl);
  return parsed.protocol === dev.protocol && parsed.host === dev.host;
}
