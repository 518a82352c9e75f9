/**
 * `npm run bench`: every benchmark in its own process (so peak RSS is its
 * own), a table on stdout and JSON in bench-results/latest.json.
 * Flags: --quick (smaller sizes, for a smoke run), --only NAME[,NAME],
 * --huge (adds the up-to-date and d = 100 checks over 10,000,000 items).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as foundation from './foundation.js';
import * as protocol from './protocol.js';
import { type Row, machine, printTable } from './util.js';

const work = resolve('bench-results/work');

type Case = { name: string; run: () => Row | Promise<Row> };

function cases(quick: boolean, huge: boolean): Case[] {
  const million = quick ? 100 : 1000; // manifests of 1000 items
  const nCommit = quick ? 10_000 : 100_000;
  return [
    { name: 'ceiling', run: () => foundation.ceiling(work, nCommit) },
    { name: 'ceiling-files', run: () => foundation.ceilingFromFiles(work, nCommit) },
    { name: 'commit', run: () => foundation.commitFiles(work, nCommit) },
    { name: 'ingest', run: () => foundation.ingest(work, nCommit / 1000) },
    { name: 'rebuild', run: () => foundation.rebuild(work, million) },
    { name: 'root', run: () => foundation.rootRead(work, million) },
    { name: 'root-small', run: () => foundation.rootRead(work, 1) },
    ...protocol.cases(work, quick, huge),
  ];
}

async function runCase(name: string, quick: boolean): Promise<void> {
  const c = cases(quick, true).find((x) => x.name === name);
  if (!c) throw new Error(`unknown case ${name}`);
  const row = await c.run();
  process.stdout.write(`\nBENCH_ROW ${JSON.stringify(row)}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const huge = args.includes('--huge');
  const caseIdx = args.indexOf('--case');
  if (caseIdx >= 0) return runCase(args[caseIdx + 1]!, quick);
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? new Set(args[onlyIdx + 1]!.split(',')) : null;
  mkdirSync(work, { recursive: true });
  const rows: Row[] = [];
  for (const c of cases(quick, huge)) {
    if (only && !only.has(c.name)) continue;
    process.stderr.write(`bench ${c.name}...\n`);
    const r = spawnSync(process.execPath, ['--expose-gc', process.argv[1]!, '--case', c.name, ...(quick ? ['--quick'] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_ROW '));
    if (!line) {
      rows.push({ bench: c.name, error: `exit ${r.status}` });
      process.stderr.write(r.stdout);
      continue;
    }
    rows.push(JSON.parse(line.slice('BENCH_ROW '.length)) as Row);
  }
  const out = { machine: machine(), date: new Date().toISOString(), quick, rows };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'latest.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`machine: ${JSON.stringify(out.machine)}`);
  printTable(rows);
  console.log('\nJSON: bench-results/latest.json');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
