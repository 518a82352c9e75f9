// `npm start`: builds the app, then opens it in Electron when Electron's
// binary (and a display) is here; otherwise serves the same UI from the
// headless web host and prints the link to open in a browser.
// `npm run start:web` (--web) always uses the web host.
// Options: --db PATH, --config-dir DIR (both hosts), --port N (web host).
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

/** Runs a child in the foreground: its exit is ours, Ctrl-C reaches it. */
function foreground(cmd, args, env = process.env) {
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
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
