// The side-by-side benchmark's helpers (bench/peers): the figures in docs/PERFORMANCE.md are only
// as good as the trees every tool is given and the tables made from the rows.
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const peers = join(import.meta.dirname, '..', '..', 'bench', 'peers');
const python = (script: string, ...args: string[]) => execFileSync('python3', [join(peers, script), ...args], { encoding: 'utf8' });

let scratch = '';
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = '';
});

describe('gen.py', () => {
  it('makes the same bytes for the same seed, and changes a file by replacing it, so a hard-linked base stays intact', () => {
    scratch = mkdtempSync(join(tmpdir(), 'peers-gen-'));
    const [a, b] = [join(scratch, 'a'), join(scratch, 'b')];
    python('gen.py', a, '--n', '3', '--size', '64');
    python('gen.py', b, '--n', '3', '--size', '64', '--per-dir', '0');
    expect(readFileSync(join(a, 'd0000', 'f0000001.bin'))).toEqual(readFileSync(join(b, 'f0000001.bin')));

    const copy = join(scratch, 'copy');
    mkdirSync(join(copy, 'd0000'), { recursive: true });
    for (const f of ['f0000000.bin', 'f0000001.bin', 'f0000002.bin']) linkSync(join(a, 'd0000', f), join(copy, 'd0000', f));
    const before = readFileSync(join(a, 'd0000', 'f0000001.bin'));
    python('gen.py', copy, '--n', '1', '--start', '1', '--size', '64', '--modify', '1');
    expect(readFileSync(join(a, 'd0000', 'f0000001.bin'))).toEqual(before);
    expect(readFileSync(join(copy, 'd0000', 'f0000001.bin'))).not.toEqual(before);
    expect(statSync(join(copy, 'd0000', 'f0000001.bin')).size).toBe(64);
    expect(() => python('gen.py', a, '--n', '1', '--start', '2', '--size', '64')).toThrow(/already exists/);
  });
});

describe('tree.py', () => {
  it('copies regular files and drops symbolic links, saying how many', () => {
    scratch = mkdtempSync(join(tmpdir(), 'peers-tree-'));
    const src = join(scratch, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'kept.txt'), 'hello');
    symlinkSync('kept.txt', join(src, 'sub', 'link.txt'));
    symlinkSync('sub', join(src, 'dirlink'));
    const report = JSON.parse(python('tree.py', src, join(scratch, 'dest')));
    expect(report.kept).toEqual({ files: 1, bytes: 5 });
    expect(report.dropped.symlinks).toBe(2);
    expect(readFileSync(join(scratch, 'dest', 'sub', 'kept.txt'), 'utf8')).toBe('hello');
  });
});

describe('lib.py markdown', () => {
  it('gives each tool its median and bytes, and netsync its ratio to the best other tool of the workload', () => {
    scratch = mkdtempSync(join(tmpdir(), 'peers-lib-'));
    const row = (tool: string, ms: number, bytes: number) => ({
      tool,
      workload: 'incr-2k-d1',
      kind: 'incr',
      n: 2000,
      size: 1024,
      shape: 'flat',
      ms,
      runs: 3,
      bytes_total: bytes,
      verified: true,
    });
    const file = join(scratch, 'results.json');
    writeFileSync(file, JSON.stringify({ results: [row('git', 100, 3000), row('fossil', 50, 6000), row('netsync', 150, 90_000)] }));
    const table = python('lib.py', 'markdown', file);
    expect(table).toContain('2,000 files of 1,024 B in a single folder');
    expect(table).toContain('| workload | git | fossil | netsync | netsync / best peer |');
    expect(table).toContain('| incr-2k-d1 | 100 ms, 3.0 KB | 50 ms, 6.0 KB | 150 ms, 90.0 KB | 3.0x time, 30x bytes |');
  });
});
