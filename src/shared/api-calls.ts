/**
 * The calls of NetsyncApi at runtime. Their list is read off the argument
 * schemas, which the compiler holds to the interface (api-validate.ts), so a
 * new call is written once plus its schema: every host, the preload and
 * every adapter build their named functions from this list.
 */
import type { ApiMethod, NetsyncApi, Result } from './api.js';
import { argSchemas } from './api-validate.js';

/** Every call, in one list: hosts register exactly these, adapters build exactly these. */
export const API_METHODS = Object.keys(argSchemas) as readonly ApiMethod[];

/**
 * Builds the named calls of NetsyncApi from one transport function, which
 * gets the call's name and its arguments: the preload (IPC), the WebSocket
 * and worker-thread adapters, test fakes.
 */
export function apiFromInvoker(invoke: (method: ApiMethod, args: unknown[]) => Promise<Result<unknown>>): NetsyncApi {
  const api: Partial<Record<ApiMethod, (...args: unknown[]) => Promise<Result<unknown>>>> = {};
  for (const method of API_METHODS) api[method] = (...args: unknown[]) => invoke(method, trimTrailingUndefined(args));
  return api as unknown as NetsyncApi;
}

/** JSON turns a trailing `undefined` argument into `null`; leave it out instead. */
function trimTrailingUndefined(args: unknown[]): unknown[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return args.slice(0, n);
}
