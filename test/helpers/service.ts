/** A NetsyncService over a fake protocol engine, for the service's tests. */
import { join } from 'node:path';
import type { NetsyncEvent } from '../../src/shared/api.js';
import type { DiffItem, ProgressEvent, SessionSummary } from '../../src/shared/sync.js';
import type { ClientOptions } from '../../src/engine/protocol/api.js';
import { NetsyncService, type ServiceOptions } from '../../src/engine/service/service.js';
import { tempDir } from './temp.js';

export const emptySide = { count: 0, bytes: 0, groups: [], items: [] };

export function summary(opts: ClientOptions, itemsReceived = 0, over: Partial<SessionSummary> = {}): SessionSummary {
  return {
    sessionId: `engine-${Math.random().toString(16).slice(2)}`,
    direction: opts.direction,
    dryRun: opts.dryRun,
    itemsSent: 0,
    itemsReceived,
    bytesSent: 0,
    bytesReceived: 0,
    reconBytesSent: 0,
    reconBytesReceived: 0,
    roundTrips: 1,
    ms: 1,
    weLack: emptySide,
    theyLack: emptySide,
    ...over,
  };
}

export function progress(seq: number, phase: ProgressEvent['phase']): ProgressEvent {
  const t = { items: 0, bytes: 0, totalItems: 0, totalBytes: 0 };
  return { seq, sessionId: 'engine-1', phase, sent: t, received: t, reconBytesSent: 0, reconBytesReceived: 0, roundTrips: 0, rate: 0, elapsedMs: 0 };
}

/** `n` diff rows of 10 bytes, spread over `branches` in turn. */
export function diffRows(n: number, branches: string[]): DiffItem[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i.toString(16).padStart(16, '0'),
    kind: 'file' as const,
    size: 10,
    branches: [branches[i % branches.length]!],
  }));
}

export function setupService(engine: ServiceOptions['engine'] = {}, extra: Omit<ServiceOptions, 'engine'> = {}) {
  const dir = tempDir('netsync-service-');
  const configDir = join(dir, 'config');
  const service = new NetsyncService({ configDir, defaultDatabase: join(dir, 'data', 'a.db'), engine, ...extra });
  const events: NetsyncEvent[] = [];
  service.onEvent((e) => events.push(e));
  return { dir, configDir, service, events };
}
