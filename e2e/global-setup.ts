/**
 * Builds what the tests run: the CLI bundle (fixtures fill databases with
 * it), the renderer and Electron main (electron-vite), and the web host.
 * Each takes a second or two, so `npx playwright test` works on its own.
 */
import { spawnSync } from 'node:child_process';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

export default function globalSetup(): void {
  run('node', ['scripts/build-cli.mjs']);
  run('npx', ['electron-vite', 'build', '--logLevel', 'warn']);
  run('node', ['scripts/build-webhost.mjs']);
}
