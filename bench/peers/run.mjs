// `npm run bench:peers -- WORKLOAD...`: netsync side by side with git, fossil and rsync
// (bench/peers/README.md). Builds the command line first, so the figures are those of the
// checkout's code, then runs peers.sh with the arguments and environment passed through;
// NETSYNC_DIR defaults to this checkout.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const netsyncDir = resolve(process.env.NETSYNC_DIR ?? join(here, '..', '..'));

const build = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: netsyncDir, stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write(`bench:peers: building the command line in ${netsyncDir} failed\n`);
  process.exit(build.status ?? 1);
}
const run = spawnSync('bash', [join(here, 'peers.sh'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, NETSYNC_DIR: netsyncDir },
});
process.exit(run.status ?? 1);
