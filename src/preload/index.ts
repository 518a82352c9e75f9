/**
 * The bridge, and nothing else: one named function per NetsyncApi call plus
 * `onEvent`, exposed as `window.netsync`. The calls are built in one loop
 * from the list of calls, each forwarding its arguments to its own channel,
 * so no route can point at another call's channel and a new call needs no
 * line here. No generic invoke, no access to ipcRenderer or its events from
 * the page. Built as CommonJS (sandboxed preloads cannot be ES modules).
 */
import { type IpcRendererEvent, contextBridge, ipcRenderer } from 'electron';
import { apiFromInvoker } from '../shared/api-calls.js';
import type { NetsyncClient, NetsyncEvent, Result } from '../shared/api.js';
import { EVENT_CHANNEL, ipcChannel } from '../shared/ipc.js';

const bridge: NetsyncClient = {
  ...apiFromInvoker((method, args): Promise<Result<unknown>> => ipcRenderer.invoke(ipcChannel(method), ...args)),
  onEvent: (listener) => {
    // The page gets the payload only, never the IpcRendererEvent (it holds `sender`, the ipcRenderer itself).
    const handler = (_event: IpcRendererEvent, payload: NetsyncEvent) => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('netsync', bridge);
