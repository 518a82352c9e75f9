import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { tempDir } from '../helpers/temp.js';
import { apiFromInvoker } from '../../src/shared/api-calls.js';
import { type NetsyncClient, type NetsyncEvent, err, ok } from '../../src/shared/api.js';
import { WS_PATH, WS_PROTOCOL, tokenProtocol } from '../../src/shared/webhost.js';
import { type WebHost, startWebHost } from '../../src/webhost/server.js';

const TOKEN = 'a'.repeat(64);

/** A fake engine: answers getStatus-like calls with their own name and arguments, and emits events on demand. */
function fakeApi() {
  const listeners = new Set<(e: NetsyncEvent) => void>();
  const api: NetsyncClient = {
    ...apiFromInvoker(async (method, args) => (method === 'stopServer' ? err('internal', 'It broke.') : ok({ method, args }))),
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { api, emit: (e: NetsyncEvent) => listeners.forEach((l) => l(e)) };
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a socket; resolves with it when open, or with the HTTP status that refused it. */
function connect(port: number, opts: { token?: string | null; origin?: string; host?: string; protocols?: string[] } = {}): Promise<WebSocket | number> {
  const protocols = opts.protocols ?? [WS_PROTOCOL, ...(opts.token === null ? [] : [tokenProtocol(opts.token ?? TOKEN)])];
  const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, protocols, {
    origin: opts.origin ?? `http://127.0.0.1:${port}`,
    headers: opts.host ? { host: opts.host } : {},
  });
  return new Promise((resolve) => {
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

function call(ws: WebSocket, message: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(data.toString())));
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

describe('the web host', () => {
  let host: WebHost;
  const fake = fakeApi();

  beforeAll(async () => {
    const root = tempDir('netsync-webhost-');
    const dir = join(root, 'ui');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'assets', 'a.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    host = await startWebHost({ api: fake.api, staticDir: dir, port: 0, token: TOKEN });
  });
  afterAll(() => host.close());

  it('prints a loopback URL that carries the token in the fragment', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/#token=${TOKEN}`);
  });

  it('serves the UI with a strict CSP to our own Host only', async () => {
    const page = await get(host.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect((await get(host.port, '/assets/a.js')).status).toBe(200);
    expect((await get(host.port, '/', { host: 'evil.example' })).status).toBe(421);
    expect((await get(host.port, '/', { host: `rebound.example:${host.port}` })).status).toBe(421);
    expect((await get(host.port, '/', { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('never serves files outside the UI folder', async () => {
    expect((await get(host.port, '/../secret.txt')).status).toBe(404);
    expect((await get(host.port, '/%2e%2e/secret.txt')).status).toBe(404);
    expect((await get(host.port, '/assets/%2e%2e%2f%2e%2e%2fsecret.txt')).status).toBe(404);
  });

  it('refuses a WebSocket without the token, with a wrong token, from another origin or Host', async () => {
    expect(await connect(host.port, { token: null })).toBe(401);
    expect(await connect(host.port, { token: 'b'.repeat(64) })).toBe(401);
    expect(await connect(host.port, { token: 'a' })).toBe(401);
    expect(await connect(host.port, { origin: 'http://evil.example' })).toBe(403);
    expect(await connect(host.port, { origin: `http://evil.example:${host.port}` })).toBe(403);
    expect(await connect(host.port, { host: `evil.example:${host.port}` })).toBe(421);
    expect(await connect(host.port, { protocols: [tokenProtocol(TOKEN)] })).toBe(400);
  });

  it('answers checked calls and pushes events once the token is right', async () => {
    const ws = await connect(host.port);
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    expect(ws.protocol).toBe(WS_PROTOCOL);
    expect(await call(ws, { id: 1, method: 'log', args: ['org.example'] })).toEqual({
      id: 1,
      result: { ok: true, value: { method: 'log', args: ['org.example'] } },
    });
    expect(await call(ws, { id: 2, method: 'log', args: [] })).toMatchObject({ id: 2, result: { ok: false, error: { code: 'bad-request' } } });
    expect(await call(ws, { id: 3, method: 'eval', args: [] })).toMatchObject({ id: 3, result: { ok: false, error: { code: 'bad-request' } } });
    expect(await call(ws, { id: 4, method: 'stopServer', args: [] })).toEqual({
      id: 4,
      result: { ok: false, error: { code: 'internal', message: 'It broke.' } },
    });
    const event = new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()))));
    fake.emit({ type: 'collection-changed' });
    expect(await event).toEqual({ event: { type: 'collection-changed' } });
    ws.close();
  });

  it('checks every request envelope as it checks arguments, and answers none without a usable id', async () => {
    const ws = await connect(host.port);
    if (typeof ws === 'number') throw new Error(`refused with ${ws}`);
    expect(await call(ws, { id: 1, method: 'log', args: ['main'], admin: true })).toMatchObject({
      id: 1,
      result: { ok: false, error: { code: 'bad-request', message: 'The request has an unknown field "admin"; correct it and try again.' } },
    });
    expect(await call(ws, { id: 2, method: 'log' })).toMatchObject({
      id: 2,
      result: { ok: false, error: { code: 'bad-request', message: expect.stringMatching(/^The field "args" of the request must be a list/) } },
    });
    expect(await call(ws, { id: 3, method: ['log'], args: ['main'] })).toMatchObject({ id: 3, result: { ok: false, error: { code: 'bad-request' } } });
    // Nobody to answer: no id, an id the page never uses, not JSON, binary. The next real request gets the first answer.
    const junk = [{ method: 'log', args: ['main'] }, { id: 0, method: 'log', args: ['main'] }, { id: 1.5, method: 'log', args: ['main'] }, 'not json', 'null'];
    for (const message of junk) ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    ws.send(Buffer.from(JSON.stringify({ id: 4, method: 'log', args: ['main'] })), { binary: true });
    const answer = { id: 5, result: { ok: true, value: { method: 'log', args: ['main'] } } };
    expect(await call(ws, { id: 5, method: 'log', args: ['main'] })).toEqual(answer);
    ws.close();
  });
});
