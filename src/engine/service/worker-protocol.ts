/** Messages between a host and the worker thread that runs NetsyncService. */
import type { ApiMethod, NetsyncEvent, Result } from '../../shared/api.js';

/** Given to the worker at start (`workerData`). */
export interface WorkerConfig {
  defaultDatabase?: string;
  configDir?: string;
}

export type ToWorker = { type: 'call'; id: number; method: ApiMethod; args: unknown[] } | { type: 'dispose'; id: number };

export type FromWorker = { type: 'result'; id: number; result: Result<unknown> } | { type: 'event'; event: NetsyncEvent };
