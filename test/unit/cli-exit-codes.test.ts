/**
 * The exit codes are a contract: README's table and the code's
 * (src/engine/cli/exit-codes.ts) say the same, and each class of failure
 * gets its number.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, exitClassOf, exitCode } from '../../src/engine/cli/exit-codes.js';
import { NetsyncError } from '../../src/engine/errors.js';
import { ServerKeyChangedError } from '../../src/engine/security/known-servers.js';

/** The rows of README's "Exit codes" table: code, name, meaning (a `\|` in a cell is a |). */
function readmeRows(): string[][] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Exit codes'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| code |')));
  return table
    .split('\n')
    .filter((l) => /^\| \d/.test(l))
    .map((l) =>
      l
        .slice(2, -2)
        .split(/ (?<!\\)\| /)
        .map((c) => c.replace(/\\\|/g, '|').trim()),
    );
}

describe('exit codes', () => {
  it("README's table lists exactly the codes the command line returns, with the same names and meanings", () => {
    const rows = readmeRows();
    expect(rows.length).toBeGreaterThan(5); // the parser sees the table
    const numbered = rows.filter(([code]) => /^\d+$/.test(code!));
    expect(numbered).toEqual(EXIT_CODES.map((e) => [String(e.code), e.name, e.meaning]));
    expect(
      rows.some(([code]) => code === '13-19'),
      'the codes kept for later are said',
    ).toBe(true);
  });

  it('keeps 0 success, 1 failure, 2 usage, and numbers each class once', () => {
    expect([exitCode('ok'), exitCode('failure'), exitCode('usage')]).toEqual([0, 1, 2]);
    expect(new Set(EXIT_CODES.map((e) => e.code)).size).toBe(EXIT_CODES.length);
    // 10-19 are outcomes, not failures: entries a commit refused, a pattern a server offers nothing for, a merge's conflicts.
    expect(EXIT_CODES.filter((e) => e.code >= 10 && e.code <= 19).map((e) => e.name)).toEqual(['refused-entries', 'unmatched', 'conflict']);
  });

  it("maps the engine's errors, SQLite's and the system's to their classes", () => {
    const cases: [unknown, string][] = [
      [new NetsyncError('usage', ''), 'usage'],
      [new NetsyncError('unreachable', 'cannot connect to h:1: connection refused'), 'network'],
      [new NetsyncError('timeout', ''), 'network'],
      [new NetsyncError('protocol', 'the server ended the session: ...'), 'network'],
      [new NetsyncError('permission', ''), 'permission'],
      [new NetsyncError('bad-item', ''), 'verification'],
      [new NetsyncError('bad-signature', ''), 'verification'],
      [new NetsyncError('db-missing', ''), 'database'],
      [new NetsyncError('db-unwritable', ''), 'database'],
      [new NetsyncError('key', 'wrong passphrase'), 'key'],
      [new ServerKeyChangedError('h:1', 'a'.repeat(64), 'b'.repeat(64)), 'key'],
      [new NetsyncError('not-found', ''), 'not-found'],
      [new NetsyncError('cancelled', ''), 'cancelled'],
      [new NetsyncError('io', 'cannot read x'), 'failure'],
      [Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }), 'database'],
      [Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }), 'database'],
      [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'network'],
      [new TypeError('x is undefined'), 'failure'],
      ['a string thrown', 'failure'],
    ];
    for (const [error, expected] of cases) expect(exitClassOf(error), String(error)).toBe(expected);
    expect(exitCode('cancelled')).toBe(130);
  });
});
