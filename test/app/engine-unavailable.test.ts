/**
 * "The engine cannot be reached" is one code, 'engine-unavailable', on every
 * path between a window and the engine: the worker thread (both hosts use
 * it), the Electron host and its renderer adapter, the web host and its
 * WebSocket adapter. Each answer is one sentence that ends with what to do.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { createServiceWorkerClient } from '../../src/engine/service/worker-client.js';
import { registerApiHandlers } from '../../src/main/ipc.js';
import { electronClient } from '../../src/renderer/api/electron-client.js';
import { createWsClient } from '../../src/renderer/api/ws-client.js';
import { apiFromInvoker } from '../../src/shared/api-calls.js';
import { type NetsyncClient, type Result, ok } from '../../src/shared/api.js';
import { ipcChannel } from '../../src/shared/ipc.js';
import type { ToWorker } from '../../src/engine/service/worker-protocol.js';
import { startWebHost } from '../../src/webhost/server.js';
import { tempDir } from '../helpers/temp.js';

/** One sentence, ending with what to do. */
function expectUnavailable(r: Result<unknown>, says: RegExp): void {
  expect(r).toMatchObject({ ok: false, error: { code: 'engine-unavailable' } });
  if (r.ok) return;
  expect(r.error.message).toMatch(says);
  expect(r.error.message).toMatch(/^[A-Z].*; (try|check) .*\.$/);
  expect(r.error.message).not.toMatch(/[.!?] /);
}

/** A worker thread that records what it is sent and answers only when told. */
class FakeWorker extends EventEmitter {
  readonly sent: ToWorker[] = [];
  postMessage(m: ToWorker): void {
    this.sent.push(m);
  }
  answer(id: number, result: Result<unknown>): void {
    this.emit('message', { type: 'result', id, result });
  }
  async terminate(): Promise<number> {
    return 0;
  }
}

const throwing: NetsyncClient = {
  ...apiFromInvoker(async () => {
    throw new Error('worker.postMessage is not a function');
  }),
  onEvent: () => () => undefined,
};

describe('the engine worker, as both hosts run it', () => {
  it('fails calls in flight when the worker dies, and starts a fresh one for the next call', async () => {
    const workers: FakeWorker[] = [];
    const client = createServiceWorkerClient(() => {
      workers.push(new FakeWorker());
      return workers.at(-1) as unknown as Worker;
    });
    const inFlight = client.listBranches();
    workers[0]!.emit('error', new Error('out of memory'));
    workers[0]!.emit('exit', 1);
    expectUnavailable(await inFlight, /stopped unexpectedly \(out of memory\); try again/);

    const next = client.listBranches();
    expect(workers).toHaveLength(2);
    workers[1]!.answer(workers[1]!.sent[0]!.id, ok([]));
    expect(await next).toEqual(ok([]));
  });

  it('answers when the worker cannot start, instead of throwing', async () => {
    const client = createServiceWorkerClient(() => {
      throw new Error('Cannot find module service-worker.cjs');
    });
    expectUnavailable(await client.getStatus(), /could not take the call \(Cannot find module service-worker\.cjs\)/);
  });
});

describe('the Electron host and its renderer adapter', () => {
  it('the IPC handler answers a call the engine could not take', async () => {
    const handlers = new Map<string, (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<Result<unknown>>>();
    const ipcMain = { handle: (c: string, h: never) => handlers.set(c, h), removeHandler: () => undefined } as unknown as IpcMain;
    registerApiHandlers(ipcMain, throwing, () => true);
    expectUnavailable(await handlers.get(ipcChannel('getStatus'))!({} as IpcMainInvokeEvent), /could not take the call/);
  });

  it('the renderer adapter turns a failed IPC call into a Result', async () => {
    const bridge: NetsyncClient = {
      ...apiFromInvoker(() => Promise.reject(new Error("No handler registered for 'netsync:getStatus'"))),
      onEvent: () => () => undefined,
    };
    expectUnavailable(await electronClient(bridge).getStatus(), /did not answer \(No handler registered/);
  });
});

describe('the web host and its WebSocket adapter', () => {
  const TOKEN = 'c'.repeat(64);
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  function uiDir(): string {
    const dir = join(tempDir('netsync-unavailable-'), 'ui');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    return dir;
  }

  /** The browser's WebSocket sends its page's Origin; the one from `ws` is told to. */
  function wsClient(port: number) {
    const origin = `http://127.0.0.1:${port}`;
    class BrowserLikeWebSocket extends NodeWebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols, { origin });
      }
    }
    const client = createWsClient({ origin: `ws://127.0.0.1:${port}`, token: TOKEN, WebSocketImpl: BrowserLikeWebSocket as unknown as typeof WebSocket });
    closers.push(() => client.close());
    return client;
  }

  it('the host answers a call the engine could not take', async () => {
    const host = await startWebHost({ api: throwing, staticDir: uiDir(), port: 0, token: TOKEN });
    closers.push(() => host.close());
    expectUnavailable(await wsClient(host.port).getStatus(), /could not take the call \(worker\.postMessage is not a function\)/);
  });

  it('the page says so when the host is gone, and when it cannot be reached at all', async () => {
    let release: () => void = () => undefined;
    const hanging: NetsyncClient = {
      ...apiFromInvoker((method) => (method === 'sync' ? new Promise((resolve) => (release = () => resolve(ok(null)))) : Promise.resolve(ok('here')))),
      onEvent: () => () => undefined,
    };
    const host = await startWebHost({ api: hanging, staticDir: uiDir(), port: 0, token: TOKEN });
    const client = wsClient(host.port);
    expect(await client.getStatus()).toEqual(ok('here'));
    const inFlight = client.sync('p1');
    await host.close();
    release();
    expectUnavailable(await inFlight, /connection to the Netsync web host was lost; check that it still runs/);
    expectUnavailable(await client.getStatus(), /Cannot reach the Netsync web host; .*link it printed/);
  });
});
