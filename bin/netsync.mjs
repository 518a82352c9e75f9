#!/usr/bin/env node
// Loads the bundled command line built by `npm install` (scripts/build-cli.mjs).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/netsync.cjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('netsync: the command line is not built yet; run "npm install" (or "npm run build:cli") in the checkout\n');
  process.exit(1);
}
createRequire(import.meta.url)(bundle);
