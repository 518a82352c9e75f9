// Bundles the engine's command line (and the benchmark) into single CommonJS
// files: one file to load makes `netsync` start in a few tens of
// milliseconds, which the protocol's end-to-end latency goals need.
// Runs on `npm install`/`npm ci` (the "prepare" script), so `npx netsync`
// works from a fresh checkout with no separate build step.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3'],
  sourcemap: 'linked',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: ['src/engine/cli/entry.ts'], outfile: 'dist/netsync.cjs' });
if (existsSync('bench/main.ts')) {
  await build({ ...common, entryPoints: ['bench/main.ts'], outfile: 'dist/bench.cjs' });
}
