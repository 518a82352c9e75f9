// `npm test`: lint, type-check, build, then every suite (vitest: unit, app, integration,
// protocol, security, reliability; Playwright: the UI end to end).
// `npm run test:fast` (this script with --fast): lint, type-check and the vitest tiers
// that need no browser and no stress (everything but test/reliability), in under two
// minutes on two cores. Both end with one line "N passed, N failed, N skipped" summed over
// the suites they ran, which CI reads, and fail when a suite fails or when no test ran.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const fast = process.argv.includes('--fast');
const totals = { passed: 0, failed: 0, skipped: 0 };
let broken = false;

function step(title, cmd, args, env = {}) {
  process.stdout.write(`\n=== ${title}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    process.stdout.write(`=== ${title}: exit ${r.status ?? r.signal}\n`);
    broken = true;
  }
  return r.status === 0;
}

// The end-to-end tests drive Debian's Chromium; install it when we can.
if (!fast && existsSync('playwright.config.ts') && !existsSync('/usr/bin/chromium')) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    step('install chromium', 'sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium']);
  } else {
    process.stdout.write('The end-to-end tests need /usr/bin/chromium: run "sudo apt-get install chromium" first.\n');
  }
}

step('lint and format (biome check)', 'npx', ['biome', 'check', '.']);
step('type-check', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
step('type-check (app)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.app.json']);
step('build the command line', 'node', ['scripts/build-cli.mjs']);
if (!fast) step('build the desktop app (electron-vite)', 'npx', ['electron-vite', 'build']);

const vitestReport = '.vitest-report.json';
rmSync(vitestReport, { force: true });
const tiers = fast ? ['test/unit', 'test/app', 'test/integration', 'test/protocol', 'test/security'] : [];
step(fast ? 'vitest (fast tiers)' : 'vitest', 'npx', ['vitest', 'run', ...tiers, '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`]);
if (existsSync(vitestReport)) {
  const r = JSON.parse(readFileSync(vitestReport, 'utf8'));
  totals.passed += r.numPassedTests ?? 0;
  totals.failed += r.numFailedTests ?? 0;
  totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
} else {
  broken = true;
}

if (!fast && existsSync('playwright.config.ts')) {
  const pwReport = '.playwright-report.json';
  rmSync(pwReport, { force: true });
  step('playwright', 'npx', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwReport });
  if (existsSync(pwReport)) {
    const s = JSON.parse(readFileSync(pwReport, 'utf8')).stats ?? {};
    totals.passed += (s.expected ?? 0) + (s.flaky ?? 0);
    totals.failed += s.unexpected ?? 0;
    totals.skipped += s.skipped ?? 0;
  } else {
    broken = true;
  }
}

const ran = totals.passed + totals.failed;
if (ran === 0) {
  process.stdout.write('no test ran\n');
  broken = true;
}
if (broken && totals.failed === 0) totals.failed = 1; // a failed build, lint or suite counts as a failure
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(broken || totals.failed > 0 ? 1 : 0);
