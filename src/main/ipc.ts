/**
 * One IPC handler per API call. Each checks that the call comes from our own
 * page in our own window, then checks the arguments with the shared
 * validators, and only then hands the call to the engine's worker.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { API_METHODS } from '../shared/api-calls.js';
import { checkArgs } from '../shared/api-validate.js';
import { type ApiMethod, type NetsyncApi, type NetsyncEvent, type Result, engineUnavailable, err } from '../shared/api.js';
import { withWhatToDo } from '../shared/error-advice.js';
import { EVENT_CHANNEL, ipcChannel } from '../shared/ipc.js';

export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

export function registerApiHandlers(ipcMain: IpcMain, api: NetsyncApi, isTrustedSender: SenderCheck): () => void {
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannel(method), (event, ...args: unknown[]) => handle(api, method, event, args, isTrustedSender));
  }
  return () => {
    for (const method of API_METHODS) ipcMain.removeHandler(ipcChannel(method));
  };
}

async function handle(api: NetsyncApi, method: ApiMethod, event: IpcMainInvokeEvent, args: unknown[], isTrustedSender: SenderCheck): Promise<Result<unknown>> {
  if (!isTrustedSender(event)) return err('forbidden', withWhatToDo('forbidden', "Refused a call from a page that is not Netsync's own"));
  const checked = checkArgs(method, args);
  if (!checked.ok) return checked;
  const call = api[method] as (...a: unknown[]) => Promise<Result<unknown>>;
  try {
    return await call.apply(api, checked.value as unknown[]);
  } catch (e) {
    // The engine answers with Results; a throw means the way to it failed. Said as the web host says it.
    return engineUnavailable("Netsync's engine could not take the call", { cause: e });
  }
}

/** Forwards engine events to a window, while it exists. */
export function forwardEvents(subscribe: (listener: (e: NetsyncEvent) => void) => () => void, target: () => WebContents | null): () => void {
  return subscribe((event) => {
    const wc = target();
    if (wc && !wc.isDestroyed()) wc.send(EVENT_CHANNEL, event);
  });
}
