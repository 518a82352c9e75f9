/** The renderer's adapter for Electron: `window.netsync`, exposed by the preload. */
import { API_METHODS } from '../../shared/api-calls.js';
import { type ApiMethod, type NetsyncClient, type Result, engineUnavailable } from '../../shared/api.js';

export function electronClient(bridge: NetsyncClient): NetsyncClient {
  const client: Partial<Record<ApiMethod, (...args: unknown[]) => Promise<Result<unknown>>>> = {};
  for (const method of API_METHODS) {
    const call = bridge[method] as (...args: unknown[]) => Promise<Result<unknown>>;
    // An IPC failure (no handler, a crashed main process) becomes a Result like any other error.
    client[method] = (...args) => call(...args).catch((e: unknown) => engineUnavailable("Netsync's engine did not answer", { cause: e }));
  }
  return { ...(client as unknown as NetsyncClient), onEvent: (listener) => bridge.onEvent(listener) };
}
