/**
 * bin/code-cache.cjs runs the bundled command line through V8's code cache
 * (docs/PERFORMANCE.md, "Code cache of the command line"). The cache only
 * ever saves time: a script runs the same with it, without it, with a
 * damaged one, and with one made for another build of the same length
 * (which V8 alone would take). Each case runs in a fresh process, as a
 * command does.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, ensureCliBuilt } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const LOADER = join(PROJECT_ROOT, 'bin', 'code-cache.cjs');

/** Runs `file` through the loader with `args` as the command's arguments: its stdout. */
function run(file: string, ...args: string[]): string {
  const r = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(LOADER)}).runWithCodeCache(${JSON.stringify(file)}, module)`, '--', 'netsync', ...args],
    {
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** A script printing `word`, something of a module it requires and its own file name. */
function script(word: string): string {
  const file = join(tempDir('netsync-code-cache-'), 'bundle.cjs');
  writeFileSync(
    file,
    `const { sep } = require('node:path');
     function say() { return ${JSON.stringify(word)} + sep; }
     Promise.resolve().then(() => require('node:os')).then((os) => process.stdout.write(say() + typeof os.cpus + ' ' + __filename));\n`,
  );
  return file;
}

describe('the code cache of the command line', () => {
  it('runs a script as require would, and writes the cache as the process exits', () => {
    const file = script('alpha');
    expect(run(file, 'sync')).toBe(`alpha/function ${file}`);
    expect(statSync(`${file}.cache`).size).toBeGreaterThan(64);
    expect(run(file, 'sync')).toBe(`alpha/function ${file}`);
  });

  it('is rewritten for a command it has not seen, and left alone for one it has', () => {
    const file = script('beta');
    run(file, 'sync');
    const first = readFileSync(`${file}.cache`);
    run(file, '--db', 'x.db', 'sync', 'host');
    expect(readFileSync(`${file}.cache`).equals(first)).toBe(true);
    run(file, 'commit');
    expect(readFileSync(`${file}.cache`).equals(first)).toBe(false);
  });

  it('a cache of another build of the same length is not used: the new source runs', () => {
    const file = script('gamma');
    expect(run(file, 'sync')).toBe(`gamma/function ${file}`);
    const cacheOfGamma = readFileSync(`${file}.cache`);
    writeFileSync(file, readFileSync(file, 'utf8').replace('gamma', 'delta'));
    writeFileSync(`${file}.cache`, cacheOfGamma);
    expect(run(file, 'sync')).toBe(`delta/function ${file}`);
  });

  it('a damaged cache is ignored and written again', () => {
    const file = script('epsilon');
    run(file, 'sync');
    const cache = readFileSync(`${file}.cache`);
    cache[cache.length - 10]! ^= 0xff;
    writeFileSync(`${file}.cache`, cache);
    expect(run(file, 'sync')).toBe(`epsilon/function ${file}`);
    expect(readFileSync(`${file}.cache`).equals(cache)).toBe(false);
    writeFileSync(`${file}.cache`, 'short');
    expect(run(file, 'sync')).toBe(`epsilon/function ${file}`);
  });

  // Root may write in any folder, so as root there is no folder to try this in.
  it.skipIf(process.getuid?.() === 0)('in a folder it may not write, a script runs as before and no cache is made', () => {
    const file = script('zeta');
    chmodSync(dirname(file), 0o555);
    try {
      expect(run(file, 'sync')).toBe(`zeta/function ${file}`);
      expect(existsSync(`${file}.cache`)).toBe(false);
    } finally {
      chmodSync(dirname(file), 0o755);
    }
  });

  it('the command line bundle has no import(), which a script read from the cache could not run', () => {
    ensureCliBuilt();
    expect(readFileSync(join(PROJECT_ROOT, 'dist', 'netsync.cjs'), 'utf8')).not.toMatch(/\bimport\(/);
  });
});
