/** The Electron main process's IPC handlers, against a fake ipcMain: one per call, each checking its sender and arguments. */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { describe, expect, it } from 'vitest';
import { registerApiHandlers } from '../../src/main/ipc.js';
import { API_METHODS, apiFromInvoker } from '../../src/shared/api-calls.js';
import { type NetsyncApi, type Result, ok } from '../../src/shared/api.js';
import { ipcChannel } from '../../src/shared/ipc.js';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<Result<unknown>>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  const ipcMain = {
    handle: (channel: string, h: Handler) => {
      if (handlers.has(channel)) throw new Error(`a second handler for ${channel}`);
      handlers.set(channel, h);
    },
    removeHandler: (channel: string) => handlers.delete(channel),
  } as unknown as IpcMain;
  return { ipcMain, handlers };
}

const ourPage = { fromUs: true } as unknown as IpcMainInvokeEvent;
const otherPage = { fromUs: false } as unknown as IpcMainInvokeEvent;
const isOurs = (e: IpcMainInvokeEvent) => (e as unknown as { fromUs: boolean }).fromUs;

/** An engine that answers every call with its name and arguments. */
const echo: NetsyncApi = apiFromInvoker(async (method, args) => ok({ method, args }));

describe('the IPC handlers', () => {
  it('register one handler per call, on its own channel, and remove them all', () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const unregister = registerApiHandlers(ipcMain, echo, isOurs);
    expect([...handlers.keys()].sort()).toEqual(API_METHODS.map(ipcChannel).sort());
    unregister();
    expect(handlers.size).toBe(0);
  });

  it('pass a checked call from our page to the engine method of its channel', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    registerApiHandlers(ipcMain, echo, isOurs);
    expect(await handlers.get(ipcChannel('log'))!(ourPage, 'org.example.web')).toEqual(ok({ method: 'log', args: ['org.example.web'] }));
    expect(await handlers.get(ipcChannel('show'))!(ourPage, 'a1b2c3')).toEqual(ok({ method: 'show', args: ['a1b2c3'] }));
  });

  it('refuse another page (forbidden) and bad arguments (bad-request) before the engine sees them', async () => {
    const { ipcMain, handlers } = fakeIpcMain();
    const seen: string[] = [];
    registerApiHandlers(
      ipcMain,
      apiFromInvoker(async (method) => {
        seen.push(method);
        return ok(null);
      }),
      isOurs,
    );
    expect(await handlers.get(ipcChannel('log'))!(otherPage, 'main')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await handlers.get(ipcChannel('log'))!(ourPage, 42)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(seen).toEqual([]);
  });
});
