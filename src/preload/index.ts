/**
 * The bridge, and nothing else: one named function per NetsyncApi call plus
 * `onEvent`, exposed as `window.netsync`. No generic invoke, no access to
 * ipcRenderer or its events from the page. Built as CommonJS (sandboxed
 * preloads cannot be ES modules).
 */
import { type IpcRendererEvent, contextBridge, ipcRenderer } from 'electron';
import type { NetsyncClient, NetsyncEvent } from '../shared/api.js';
import { EVENT_CHANNEL, ipcChannel as ch } from '../shared/ipc.js';

const bridge: NetsyncClient = {
  openDatabase: (path) => ipcRenderer.invoke(ch('openDatabase'), path),
  getStatus: () => ipcRenderer.invoke(ch('getStatus')),
  listBranches: () => ipcRenderer.invoke(ch('listBranches')),
  log: (branch) => ipcRenderer.invoke(ch('log'), branch),
  show: (id) => ipcRenderer.invoke(ch('show'), id),
  checkout: (target, dir) => ipcRenderer.invoke(ch('checkout'), target, dir),
  listPeers: () => ipcRenderer.invoke(ch('listPeers')),
  addPeer: (peer) => ipcRenderer.invoke(ch('addPeer'), peer),
  updatePeer: (peerId, changes) => ipcRenderer.invoke(ch('updatePeer'), peerId, changes),
  removePeer: (peerId) => ipcRenderer.invoke(ch('removePeer'), peerId),
  diff: (peerId) => ipcRenderer.invoke(ch('diff'), peerId),
  sync: (peerId) => ipcRenderer.invoke(ch('sync'), peerId),
  cancel: (sessionId) => ipcRenderer.invoke(ch('cancel'), sessionId),
  startServer: (options) => ipcRenderer.invoke(ch('startServer'), options),
  stopServer: () => ipcRenderer.invoke(ch('stopServer')),
  serverStatus: () => ipcRenderer.invoke(ch('serverStatus')),
  listKeys: () => ipcRenderer.invoke(ch('listKeys')),
  generateKey: (name, passphrase) => ipcRenderer.invoke(ch('generateKey'), name, passphrase),
  importKey: (text) => ipcRenderer.invoke(ch('importKey'), text),
  getIdentity: () => ipcRenderer.invoke(ch('getIdentity')),
  setIdentity: (choice) => ipcRenderer.invoke(ch('setIdentity'), choice),
  unlockKey: (name, passphrase) => ipcRenderer.invoke(ch('unlockKey'), name, passphrase),
  answerServerPrompt: (promptId, accept) => ipcRenderer.invoke(ch('answerServerPrompt'), promptId, accept),
  trustServer: (address, fingerprint) => ipcRenderer.invoke(ch('trustServer'), address, fingerprint),
  trustKey: (keyId) => ipcRenderer.invoke(ch('trustKey'), keyId),
  untrustKey: (keyId) => ipcRenderer.invoke(ch('untrustKey'), keyId),
  diffItems: (sessionId, side, offset, limit, branch) => ipcRenderer.invoke(ch('diffItems'), sessionId, side, offset, limit, branch),
  getPermissions: () => ipcRenderer.invoke(ch('getPermissions')),
  setPermissions: (text) => ipcRenderer.invoke(ch('setPermissions'), text),
  onEvent: (listener) => {
    const handler = (_event: IpcRendererEvent, payload: NetsyncEvent) => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('netsync', bridge);
