/**
 * The preload, against fakes of Electron's contextBridge and ipcRenderer:
 * it exposes one named function per call (each on its own channel, with its
 * arguments) and `onEvent`, nothing else; and its CommonJS bundle runs where
 * a sandboxed preload runs, with `electron` as the only module to require.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { API_METHODS } from '../../src/shared/api-calls.js';
import type { NetsyncClient, NetsyncEvent } from '../../src/shared/api.js';
import { EVENT_CHANNEL, ipcChannel } from '../../src/shared/ipc.js';

type Handler = (event: unknown, payload: unknown) => void;

function fakeElectron() {
  const exposed: { key: string; api: unknown }[] = [];
  const handlers = new Map<string, Set<Handler>>();
  const invoke = vi.fn(async (channel: string, ...args: unknown[]) => ({ ok: true, value: { channel, args } }));
  return {
    exposed,
    handlers,
    invoke,
    module: {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push({ key, api }) },
      ipcRenderer: {
        invoke,
        on: (channel: string, h: Handler) => handlers.set(channel, (handlers.get(channel) ?? new Set()).add(h)),
        removeListener: (channel: string, h: Handler) => handlers.get(channel)?.delete(h),
      },
    },
  };
}

const electron = vi.hoisted(() => ({ current: null as ReturnType<typeof fakeElectron> | null }));
vi.mock('electron', () => electron.current?.module ?? {});

describe('the preload', () => {
  let fake: ReturnType<typeof fakeElectron>;
  let bridge: NetsyncClient;

  beforeAll(async () => {
    fake = fakeElectron();
    electron.current = fake;
    await import('../../src/preload/index.js');
    expect(fake.exposed.map((e) => e.key)).toEqual(['netsync']);
    bridge = fake.exposed[0]!.api as NetsyncClient;
  });

  it('exposes exactly the calls of API_METHODS and onEvent, all of them functions', () => {
    expect(API_METHODS.length).toBeGreaterThan(20);
    expect(Object.keys(bridge).sort()).toEqual([...API_METHODS, 'onEvent'].sort());
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });

  it.each(API_METHODS)('%s calls its own channel with its arguments', async (method) => {
    fake.invoke.mockClear();
    const call = bridge[method] as (...args: unknown[]) => Promise<unknown>;
    const args = [`${method}-1`, { n: 2 }, [3]];
    expect(await call(...args)).toEqual({ ok: true, value: { channel: `netsync:${method}`, args } });
    expect(fake.invoke.mock.calls).toEqual([[ipcChannel(method), ...args]]);
  });

  it('gives each call a channel of its own', () => {
    expect(new Set(API_METHODS.map(ipcChannel)).size).toBe(API_METHODS.length);
  });

  it('hands onEvent listeners the payload only, and unsubscribes', () => {
    const seen: unknown[] = [];
    const off = bridge.onEvent((e) => seen.push(e));
    const event: NetsyncEvent = { type: 'collection-changed' };
    const emit = (payload: unknown) => {
      for (const h of fake.handlers.get(EVENT_CHANNEL) ?? []) h({ sender: 'the ipcRenderer itself' }, payload);
    };
    emit(event);
    expect(seen).toEqual([event]);
    off();
    emit(event);
    expect(seen).toHaveLength(1);
    expect(fake.handlers.get(EVENT_CHANNEL)?.size).toBe(0);
  });

  it('bundles to CommonJS that needs no module but electron (a sandboxed preload can require little else)', async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('../../src/preload/index.ts', import.meta.url))],
      bundle: true,
      format: 'cjs',
      platform: 'browser',
      external: ['electron'],
      write: false,
      logLevel: 'silent',
    });
    const required: string[] = [];
    const sandboxed = fakeElectron();
    const require = (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
      return sandboxed.module;
    };
    new Function('require', 'module', 'exports', out.outputFiles[0]!.text)(require, { exports: {} }, {});
    expect(required).toEqual(['electron']);
    const exposed = sandboxed.exposed[0]?.api as Record<string, unknown>;
    expect(Object.keys(exposed).sort()).toEqual([...API_METHODS, 'onEvent'].sort());
  });
});
