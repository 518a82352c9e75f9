// Bundles the engine's command line (and the benchmark) into single CommonJS
// files: one file to load makes `netsync` start in a few tens of
// milliseconds, which the protocol's end-to-end latency goals need.
// Runs on `npm install`/`npm ci` (the "prepare" script), so `npx netsync`
// works from a fresh checkout with no separate build step.
//
// The X.509 library (about 750 KB of the 1 MB bundle, with its ASN.1 and
// dependency-injection libraries) is needed only to make the TLS certificate
// the first time (src/engine/security/certificate.ts caches it), so it is a
// file of its own, dist/certificate-maker.cjs, loaded by that one call:
// every other command parses a quarter of the code.
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

/** Leaves the lazy `import('./certificate-maker.js')` to load dist/certificate-maker.cjs at run time. */
const certificateMakerApart = {
  name: 'certificate-maker-apart',
  setup(b) {
    b.onResolve({ filter: /[\\/]certificate-maker\.js$/ }, () => ({ path: './certificate-maker.cjs', external: true }));
  },
};

/**
 * commander requires node:child_process only to run a subcommand that is a program of its own
 * (`git-foo` style), which netsync never declares; loading it is a few ms of every command's
 * start (docs/PERFORMANCE.md, "The command line's start on commander"). In the bundle commander gets an empty
 * module in its place.
 */
const commanderWithoutChildProcess = {
  name: 'commander-without-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'unused-by-netsync' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'unused-by-netsync' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

await build({ ...common, entryPoints: ['src/engine/security/certificate-maker.ts'], outfile: 'dist/certificate-maker.cjs' });
await build({
  ...common,
  plugins: [certificateMakerApart, commanderWithoutChildProcess],
  entryPoints: ['src/engine/cli/entry.ts'],
  outfile: 'dist/netsync.cjs',
  // bin/netsync.cjs runs the bundle through V8's code cache (bin/code-cache.cjs), and in a
  // script read from the cache Node 20 finds no callback for import(): every import() becomes
  // a require, which is what it loads anyway (node: modules and dist/certificate-maker.cjs).
  supported: { 'dynamic-import': false },
});
if (existsSync('bench/main.ts')) {
  await build({ ...common, plugins: [certificateMakerApart], entryPoints: ['bench/main.ts'], outfile: 'dist/bench.cjs' });
  await build({ ...common, entryPoints: ['bench/peel-rate.ts'], outfile: 'dist/peel-rate.cjs' });
}
