/** Electron IPC channel names: one per API call, one for the event stream. */
import type { ApiMethod } from './api.js';

export function ipcChannel(method: ApiMethod): `netsync:${ApiMethod}` {
  return `netsync:${method}`;
}

export const EVENT_CHANNEL = 'netsync:event';
