// Bundles the headless web host and the engine's service worker into
// out/webhost/ (CommonJS, like the CLI: one file to load, fast to start).
// The renderer it serves is built by electron-vite into out/renderer.
// Runtime dependencies stay external and load from node_modules.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3', 'ws'],
  sourcemap: 'linked',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: ['src/webhost/main.ts'], outfile: 'out/webhost/webhost.cjs' });
await build({ ...common, entryPoints: ['src/engine/service/worker.ts'], outfile: 'out/webhost/service-worker.cjs' });
