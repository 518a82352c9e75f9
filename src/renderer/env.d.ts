import type { NetsyncClient } from '../shared/api.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a browser talking to the web host. */
    netsync?: NetsyncClient;
  }
}
