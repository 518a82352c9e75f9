/**
 * `npm run bench`: every benchmark in its own process (so peak RSS is its
 * own), a table on stdout and JSON in bench-results/latest.json.
 * Flags: --quick (smaller sizes, for a smoke run), --only NAME[,NAME],
 * --huge (adds the up-to-date and d = 100 checks over 10,000,000 items).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as attacks from './attacks.js';
import * as foundation from './foundation.js';
import * as peers from './peers.js';
import * as protocol from './protocol.js';
import { type Row, machine, printTable } from './util.js';

const work = resolve('bench-results/work');

/** `internal`: run only by another case (--case NAME), never by the list. */
type Case = { name: string; run: () => Row | Promise<Row>; internal?: boolean };

function cases(quick: boolean, huge: boolean): Case[] {
  const million = quick ? 100 : 1000; // manifests of 1000 items
  const nCommit = quick ? 10_000 : 100_000;
  return [
    { name: 'ceiling', run: () => foundation.ceiling(work, nCommit) },
    { name: 'ceiling-files', run: () => foundation.ceilingFromFiles(work, nCommit) },
    { name: 'commit', run: () => foundation.commitFiles(work, nCommit) },
    { name: 'ingest', run: () => foundation.ingest(work, nCommit / 1000) },
    { name: 'ingest-cold', run: () => coldIngest(quick) },
    { name: 'ingest-once', run: () => foundation.ingest(work, nCommit / 1000, 1000, 1024, 1), internal: true },
    { name: 'rebuild', run: () => foundation.rebuild(work, million) },
    { name: 'root', run: () => foundation.rootRead(work, million) },
    { name: 'root-small', run: () => foundation.rootRead(work, 1) },
    ...protocol.cases(work, quick, huge),
    // The user's commands beside git's (fossil's, rsync's), on a tree each tool committed itself (bench/peers.ts).
    { name: 'peers', run: () => peers.sideBySide(work, quick ? 10_000 : 100_000, 1024, 3, 7) },
    ...attacks.cases(work),
  ];
}

/** Runs one case in a process of its own (so its peak RSS is its own): its row, or why there is none. */
function runInChild(name: string, quick: boolean): Row {
  const r = spawnSync(process.execPath, ['--expose-gc', process.argv[1]!, '--case', name, ...(quick ? ['--quick'] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_ROW '));
  if (line) return JSON.parse(line.slice('BENCH_ROW '.length)) as Row;
  process.stderr.write(r.stdout);
  return { bench: name, error: `exit ${r.status}` };
}

/**
 * The ingest as a command would run it: each run in a fresh process, its
 * code not yet compiled or optimised (the items are made before the clock
 * starts), the median of 3. The command-line clone is timed this way too
 * (a fresh process each time); `ingest` above is timed warm, in one process.
 */
function coldIngest(quick: boolean): Row {
  const runs = [0, 1, 2].map(() => runInChild('ingest-once', quick));
  const failed = runs.find((r) => r.error);
  if (failed) return failed;
  const mid = [...runs].sort((a, b) => (a.ms as number) - (b.ms as number))[1]!;
  return { ...mid, bench: `ingest, cold: the same, each run in a fresh process (median of 3: ${runs.map((r) => r.ms).join(', ')} ms)` };
}

/**
 * The first clone's throughput as a share of the ingest's, for each pairing
 * measured in this run: like for like (a fresh process against a fresh
 * process, a process that lives on against one that lives on) and the
 * strictest (the command against the warm ingest).
 */
function cloneRatios(byCase: Map<string, Row>): { pair: string; ingestMs: number; cloneMs: number; percent: number }[] {
  const pairs = [
    ['the command (a fresh process) / the ingest in a fresh process', 'clone-100k', 'ingest-cold'],
    ['the app (a process that lives on) / the ingest in one process', 'clone-100k-warm', 'ingest'],
    ['the command / the ingest in one process (strictest)', 'clone-100k', 'ingest'],
  ] as const;
  return pairs.flatMap(([pair, clone, ingest]) => {
    const c = byCase.get(clone)?.ms;
    const i = byCase.get(ingest)?.ms;
    if (typeof c !== 'number' || typeof i !== 'number') return [];
    return [{ pair, ingestMs: i, cloneMs: c, percent: Math.round((100 * i) / c) }];
  });
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
  const byCase = new Map<string, Row>();
  for (const c of cases(quick, huge)) {
    if (c.internal || (only && !only.has(c.name))) continue;
    process.stderr.write(`bench ${c.name}...\n`);
    const row = runInChild(c.name, quick);
    rows.push(row);
    byCase.set(c.name, row);
  }
  const ratios = cloneRatios(byCase);
  const out = { machine: machine(), date: new Date().toISOString(), quick, rows, cloneRatios: ratios };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(join('bench-results', 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`machine: ${JSON.stringify(out.machine)}`);
  printTable(rows);
  const paired = byCase.get('clone-ratio');
  if (ratios.length > 0 || paired?.appPercent !== undefined) {
    console.log('\nfirst clone against the ingest of the same items (goal: at least 80%):');
    for (const r of ratios) console.log(`  ${r.pair}: ${r.ingestMs} / ${r.cloneMs} ms = ${r.percent}%`);
    if (paired?.appPercent !== undefined) {
      console.log(
        `  in pairs back to back (clone-ratio): the app ${paired.appPercent}% (${paired.appRange}), the command ${paired.commandPercent}% (${paired.commandRange}), the strictest ${paired.strictestPercent}% (${paired.strictestRange})`,
      );
    }
  }
  console.log('\nJSON: bench-results/latest.json');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
