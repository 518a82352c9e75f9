// `npm test`: type-check, build, then every suite (vitest: unit, integration,
// reliability at CI size; Playwright: the UI end to end). Ends with one line
// "N passed, N failed, N skipped" summed over all suites, which CI reads, and
// fails when a suite fails or when no test ran at all.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

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
if (existsSync('playwright.config.ts') && !existsSync('/usr/bin/chromium')) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    step('install chromium', 'sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium']);
  } else {
    process.stdout.write('The end-to-end tests need /usr/bin/chromium: run "sudo apt-get install chromium" first.\n');
  }
}

step('type-check', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
if (existsSync('tsconfig.app.json')) step('type-check (app)', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.app.json']);
step('build the command line', 'node', ['scripts/build-cli.mjs']);
if (existsSync('electron.vite.config.ts')) step('build the desktop app (electron-vite)', 'npx', ['electron-vite', 'build']);

const vitestReport = '.vitest-report.json';
rmSync(vitestReport, { force: true });
step('vitest', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`]);
if (existsSync(vitestReport)) {
  const r = JSON.parse(readFileSync(vitestReport, 'utf8'));
  totals.passed += r.numPassedTests ?? 0;
  totals.failed += r.numFailedTests ?? 0;
  totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (r.numFailedTestSuites) totals.failed += 0; // suite failures already fail the step
} else {
  broken = true;
}

if (existsSync('playwright.config.ts')) {
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
if (broken && totals.failed === 0) totals.failed = 1; // a failed build or suite counts as a failure
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(broken || totals.failed > 0 ? 1 : 0);
