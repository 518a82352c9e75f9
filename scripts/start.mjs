// `npm start`: builds the app, then opens it in Electron when Electron's
// binary (and a display) is here; otherwise serves the same UI from the
// headless web host and prints the link to open in a browser.
// `npm run start:web` (--web) always uses the web host.
// Options (after `--`: `npm start -- --db ./my.db`; README, "The desktop app"):
// --db PATH, --config-dir DIR (both hosts), --port N (web host), --web.
// SIGINT or SIGTERM stops the app within 2 s, also when sent to `npm start`
// itself (npm passes it to the shell running this script, which dies
// without passing it on: this script then sees its parent gone).
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { electronBinary } from './electron-binary.mjs';

const { values } = parseArgs({
  options: { web: { type: 'boolean' }, db: { type: 'string' }, 'config-dir': { type: 'string' }, port: { type: 'string' } },
  strict: true,
});

function step(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

step('npx', ['electron-vite', 'build', '--logLevel', 'warn']);
step('node', ['scripts/build-webhost.mjs']);

/** How long the app may take to close its database and server once asked to stop, before it is killed. */
const STOP_GRACE_MS = 1500;
/** How often the parent (npm's shell) is looked for. */
const PARENT_POLL_MS = 250;

/** Runs a child in the foreground: its exit is ours; SIGINT, SIGTERM or the loss of our parent stops it. */
function foreground(cmd, args, env = process.env) {
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  const stop = (sig) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS).unref();
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => stop(sig));
  const parent = process.ppid;
  const watchParent = setInterval(() => {
    if (process.ppid !== parent) stop('SIGTERM');
  }, PARENT_POLL_MS);
  child.on('exit', (code, signal) => {
    clearInterval(watchParent);
    process.exit(code ?? (signal ? 1 : 0));
  });
}

const electron = values.web ? null : electronBinary();
if (electron?.ok) {
  const env = { ...process.env };
  if (values.db) env.NETSYNC_DB = resolve(values.db);
  if (values['config-dir']) env.NETSYNC_CONFIG_DIR = resolve(values['config-dir']);
  foreground(electron.path, ['.'], env);
} else {
  if (electron) process.stdout.write(`${electron.reason}, so Netsync starts its web host instead: open the link below in a browser.\n`);
  const args = ['out/webhost/webhost.cjs'];
  for (const name of ['db', 'config-dir', 'port']) if (values[name]) args.push(`--${name}`, values[name]);
  foreground(process.execPath, args);
}
