/**
 * Worker-thread entry: runs NetsyncService off the host's main thread, so
 * hashing, SQLite and sockets never freeze a window or the web host's event
 * loop. Calls arrive as messages, results and events go back the same way.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkRequest } from '../../shared/api-validate.js';
import type { Result } from '../../shared/api.js';
import { NetsyncService } from './service.js';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread only');

const service = new NetsyncService((workerData ?? {}) as WorkerConfig);
const post = (message: FromWorker) => port.postMessage(message);
service.onEvent((event) => post({ type: 'event', event }));

port.on('message', (message: ToWorker) => {
  void handle(message).then((result) => post({ type: 'result', id: message.id, result }));
});

async function handle(message: ToWorker): Promise<Result<unknown>> {
  if (message.type === 'dispose') {
    await service.dispose();
    return { ok: true, value: null };
  }
  // Hosts already checked; checking again here keeps the engine safe from a host that forgot.
  const request = checkRequest(message.method, message.args);
  if (!request.ok) return request;
  const call = service[request.value.method] as (...args: unknown[]) => Promise<Result<unknown>>;
  return call.apply(service, request.value.args);
}
