/** A scripted NetsyncClient for renderer tests: answers per method, records calls, emits events on demand. */
import { apiFromInvoker } from '../../src/shared/api-calls.js';
import { type ApiMethod, type NetsyncClient, type NetsyncEvent, type Result, err } from '../../src/shared/api.js';
import type { ProgressEvent, SessionSummary } from '../../src/shared/sync.js';

export type Handlers = Partial<Record<ApiMethod, (...args: unknown[]) => Result<unknown> | Promise<Result<unknown>>>>;

export function fakeClient(handlers: Handlers = {}) {
  const calls: { method: ApiMethod; args: unknown[] }[] = [];
  const listeners = new Set<(e: NetsyncEvent) => void>();
  const client: NetsyncClient = {
    ...apiFromInvoker(async (method, args) => {
      calls.push({ method, args });
      const h = handlers[method];
      return h ? h(...args) : err('internal', `No answer scripted for ${method}.`);
    }),
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { client, calls, emit: (e: NetsyncEvent) => listeners.forEach((l) => l(e)) };
}

export function progress(seq: number, over: Partial<ProgressEvent> = {}): ProgressEvent {
  const t = { items: 0, bytes: 0, totalItems: 0, totalBytes: 0 };
  return {
    seq,
    sessionId: 'engine',
    phase: 'transferring',
    sent: t,
    received: t,
    reconBytesSent: 0,
    reconBytesReceived: 0,
    roundTrips: 1,
    rate: 0,
    elapsedMs: seq * 100,
    ...over,
  };
}

export function summary(over: Partial<SessionSummary> = {}): SessionSummary {
  const empty = { count: 0, bytes: 0, groups: [], items: [] };
  return {
    sessionId: 'engine',
    direction: 'sync',
    dryRun: true,
    itemsSent: 0,
    itemsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    reconBytesSent: 100,
    reconBytesReceived: 120,
    roundTrips: 2,
    ms: 12,
    weLack: empty,
    theyLack: empty,
    ...over,
  };
}
