/**
 * The host side of the service worker: a NetsyncClient whose calls are
 * messages to the worker thread. If the worker dies or cannot start, calls
 * fail with 'engine-unavailable' and the next call starts a fresh worker.
 */
import type { Worker } from 'node:worker_threads';
import { apiFromInvoker } from '../../shared/api-calls.js';
import { type ApiMethod, type EventListener, type NetsyncApi, type NetsyncClient, type Result, engineUnavailable } from '../../shared/api.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

export type WorkerFactory = () => Worker;

export interface ServiceWorkerClient extends NetsyncClient {
  /** Stops the server and sessions, then the worker. */
  close(): Promise<void>;
}

export function createServiceWorkerClient(startWorker: WorkerFactory): ServiceWorkerClient {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Set<EventListener>();

  const failPending = (cause?: Error) => {
    for (const resolve of pending.values()) resolve(engineUnavailable("Netsync's engine stopped unexpectedly", { cause }));
    pending.clear();
  };

  const ensureWorker = (): Worker => {
    if (worker) return worker;
    const w = startWorker();
    w.on('message', (m: FromWorker) => {
      if (m.type === 'event') {
        for (const l of listeners) l(m.event);
        return;
      }
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.(m.result);
    });
    w.on('error', (e) => {
      worker = null;
      failPending(e);
    });
    w.on('exit', () => {
      if (worker === w) worker = null;
      failPending();
    });
    worker = w;
    return w;
  };

  const send = (message: ToWorker) =>
    new Promise<Result<unknown>>((resolve) => {
      pending.set(message.id, resolve);
      try {
        ensureWorker().postMessage(message);
      } catch (e) {
        // The worker would not start, or the message would not go (a value that cannot be cloned).
        pending.delete(message.id);
        resolve(engineUnavailable("Netsync's engine could not take the call", { cause: e }));
      }
    });

  const invoke = (method: ApiMethod, args: unknown[]) => send({ type: 'call', id: nextId++, method, args });
  const api: NetsyncApi = apiFromInvoker(invoke);

  return {
    ...api,
    onEvent(listener) {
      listeners.add(listener);
      ensureWorker();
      return () => listeners.delete(listener);
    },
    async close() {
      const w = worker;
      if (!w) return;
      await send({ type: 'dispose', id: nextId++ });
      worker = null;
      await w.terminate();
    },
  };
}
