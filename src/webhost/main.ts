/**
 * `node out/webhost/webhost.cjs [--db PATH] [--port N] [--config-dir DIR]`:
 * the Netsync UI in a browser, with no Electron. The engine runs in the same
 * worker-thread wrapper as in the desktop app, so both hosts behave alike.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createServiceWorkerClient } from '../engine/service/worker-client.js';
import type { WorkerConfig } from '../engine/service/worker-protocol.js';
import { startWebHost } from './server.js';

const USAGE = 'usage: netsync-web [--db PATH] [--port N] [--config-dir DIR] [--static DIR]';

function fail(message: string): never {
  process.stderr.write(`netsync-web: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { db?: string; port?: string; 'config-dir'?: string; static?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        db: { type: 'string' },
        port: { type: 'string' },
        'config-dir': { type: 'string' },
        static: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a whole number from 0 to 65535, not "${values.port}"`);
  // This file is bundled to CommonJS (scripts/build-webhost.mjs), next to the worker bundle and ../renderer.
  const staticDir = resolve(values.static ?? join(__dirname, '..', 'renderer'));
  if (!existsSync(join(staticDir, 'index.html'))) fail(`the UI is not built (no ${join(staticDir, 'index.html')}); run "npm run build:app"`);

  const config: WorkerConfig = { defaultDatabase: values.db && resolve(values.db), configDir: values['config-dir'] && resolve(values['config-dir']) };
  const api = createServiceWorkerClient(() => new Worker(join(__dirname, 'service-worker.cjs'), { workerData: config }));
  const opened = await api.openDatabase();
  if (!opened.ok) fail(opened.error.message);

  const host = await startWebHost({ api, staticDir, port });
  process.stdout.write(`Netsync web host serving ${opened.value.path}\nOpen ${host.url}\n`);

  const stop = () => {
    void host
      .close()
      .then(() => api.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
