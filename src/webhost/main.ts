/**
 * `node out/webhost/webhost.cjs [--db PATH] [--port N] [--config-dir DIR]`:
 * the Netsync UI in a browser, with no Electron. The engine runs in the same
 * worker-thread wrapper as in the desktop app, so both hosts behave alike.
 * A failure is one line on stderr (a stack trace only with --verbose).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createServiceWorkerClient } from '../engine/service/worker-client.js';
import type { WorkerConfig } from '../engine/service/worker-protocol.js';
import { describeSystemError } from '../engine/system-errors.js';
import { startWebHost } from './server.js';

const USAGE = 'usage: netsync-web [--db PATH] [--port N] [--config-dir DIR] [--static DIR] [--verbose]';

const verbose = process.argv.includes('--verbose');
/** A signal stops the host within this long, whatever is still running. */
const STOP_WITHIN_MS = 1200;

function fail(message: string, cause?: unknown): never {
  process.stderr.write(`netsync-web: ${message}\n`);
  if (verbose && cause instanceof Error && cause.stack) process.stderr.write(`${cause.stack}\n`);
  process.exit(2);
}

/** Why the page's port could not be listened on, and what to do, in one line. */
function cannotListen(e: unknown, port: number): string {
  const where = `127.0.0.1:${port}`;
  const known = describeSystemError(e, { where });
  if (known?.code === 'address-in-use') return `${known.text}; choose another port with --port N, or leave --port out to take any free one`;
  if (known) return `${known.text}; choose another port with --port N`;
  return `cannot listen on ${where} (${e instanceof Error ? e.message : String(e)}); choose another port with --port N`;
}

async function main(): Promise<void> {
  let values: { db?: string; port?: string; 'config-dir'?: string; static?: string; verbose?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        db: { type: 'string' },
        port: { type: 'string' },
        'config-dir': { type: 'string' },
        static: { type: 'string' },
        verbose: { type: 'boolean' },
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

  let host: Awaited<ReturnType<typeof startWebHost>>;
  try {
    host = await startWebHost({ api, staticDir, port });
  } catch (e) {
    await api.close();
    fail(cannotListen(e, port), e);
  }
  const stop = () => {
    // Stopped within 2 s (scripts/start.mjs): a server's sessions in flight are cut at that point, as a crash would cut them, which the database is made to take.
    setTimeout(() => process.exit(0), STOP_WITHIN_MS).unref();
    void host
      .close()
      .then(() => api.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Printed once a signal is handled: whoever reads the link may stop the host at once.
  process.stdout.write(`Netsync web host serving ${opened.value.path}\nOpen ${host.url}\n`);
}

main().catch((e: unknown) =>
  fail(`stopped by an unexpected error (${e instanceof Error ? e.message : String(e)}); run it again with --verbose for the details`, e),
);
