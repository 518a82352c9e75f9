#!/usr/bin/env node
// Loads the bundled command line built by `npm install` (scripts/build-cli.mjs).
// CommonJS on purpose: an ES module entry point costs Node 20 about 14 ms of
// loader start-up on every command, and the up-to-date check has 80 ms in all.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'netsync.cjs');
if (!existsSync(bundle)) {
  process.stderr.write('netsync: the command line is not built yet; run "npm install" (or "npm run build:cli") in the checkout\n');
  process.exit(1);
}
require(join(__dirname, 'code-cache.cjs')).runWithCodeCache(bundle, module);
