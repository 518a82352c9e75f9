/**
 * Local corruption, seen from sync (docs/RELIABILITY.md §Local corruption;
 * what `db check` prints for each damage on its own is in
 * test/integration/cli-local.test.ts):
 *   - a damaged item (a flipped byte in its stored bytes): the sending side
 *     re-hashes what it sends, withholds the damaged item and what depends
 *     on it, sends everything else, and ends the session naming the damaged
 *     item (so one damaged item does not block the rest, and the receiver
 *     never sees bytes that do not verify); `db check` names it; `db
 *     rebuild-index` does not hide it (items are primary data);
 *   - a damaged index (a lost member row, a wrong trie hash, a dropped
 *     table): nothing bad is stored and nothing is lost; `db check` names
 *     the table; a dropped table stops serve and sync with a one-line
 *     message naming the repair; after `db rebuild-index` sync reaches the union;
 *   - a truncated database file: db check and db rebuild-index name it as
 *     truncated (its size and the size its header says) and change nothing;
 *     serve and sync refuse in one line.
 */
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/engine/hash.js';
import { Kind, decodeItem } from '../../src/engine/items/format.js';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import { aliceSigner, bobSigner, bruteCollection, checkClean, newDbPath, startServe, testClient, testServer, withStore } from '../helpers/net.js';
import { tempDir } from '../helpers/temp.js';
import { copyDb, itemIdSet, keyedConfig, membersOf, putRevisions, range, setEquals } from './helpers.js';

const BRANCH = 'org.corrupt.main';
let pristine: string;
let collection: Set<string>;
/** A file of revision 3, its manifest and the certs on that manifest. */
let damagedFile: string;
let dependents: Set<string>;
let config: { dir: string };

beforeAll(() => {
  ensureCliBuilt();
  config = keyedConfig();
  pristine = newDbPath('netsync-corrupt-');
  withStore(pristine, (s) => {
    putRevisions(s, aliceSigner(), BRANCH, range(0, 10), 10, 64, 1);
    collection = bruteCollection(s, BRANCH);
    const manifest = s.manifestsIn(BRANCH).sort(Buffer.compare)[3]!;
    const certs = s.certsOn(manifest).map((c) => toHex(c.id));
    const m = decodeItem(s.get(manifest)!.data);
    if (m.kind !== Kind.Manifest) throw new Error('not a manifest');
    damagedFile = toHex(m.entries.find((e) => e.file)!.file!);
    expect(s.meta(Buffer.from(damagedFile, 'hex'))!.kind).toBe(Kind.File);
    dependents = new Set([toHex(manifest), ...certs]);
  });
});

/** A copy of the pristine database with one stored item's last byte flipped. */
function withDamagedItem(hex = damagedFile): string {
  const db = join(tempDir('netsync-corrupt-copy-'), 'test.db');
  copyDb(pristine, db);
  withStore(db, (s) => {
    const id = Buffer.from(hex, 'hex');
    const data = Buffer.from(s.get(id)!.data);
    data[data.length - 1]! ^= 0x40;
    s.db.prepare('UPDATE items SET data = ? WHERE id = ?').run(data, id);
  });
  return db;
}

function pristineCopy(): string {
  const db = join(tempDir('netsync-corrupt-copy-'), 'test.db');
  copyDb(pristine, db);
  return db;
}

const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('netsync:'));
const withheldLine = new RegExp(
  `withheld 1 damaged item .*\\(${'X'}…: its stored bytes do not hash to its id\\) and 4 items that depend on it; everything else was sent; run "netsync db check"`,
);
const withheldRe = () => new RegExp(withheldLine.source.replace('X', damagedFile.slice(0, 16)));

describe('a damaged item: the sender re-hashes, withholds it and what depends on it, sends the rest', () => {
  it('on the server: a pull gets everything else and names the damaged item in one line; db check names it; rebuild-index does not hide it', async () => {
    const serverDb = withDamagedItem();
    expect(checkClean(serverDb)).toEqual([`item ${damagedFile}: its bytes do not hash to its id (damaged)`]);
    const serve = await startServe(serverDb, [], { NETSYNC_CONFIG_DIR: config.dir });
    const clientDb = newDbPath('netsync-corrupt-cli-');
    try {
      const r = await runCli(['--db', clientDb, 'pull', `127.0.0.1:${serve.port}`, BRANCH], { NETSYNC_CONFIG_DIR: config.dir });
      expect(r.code, r.stderr).toBe(5); // an item failed verification (README, "Exit codes")
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(withheldRe())]);
      expect(serve.stderr()).toMatch(withheldRe());
    } finally {
      await serve.stop();
    }
    const expected = new Set([...collection].filter((id) => id !== damagedFile && !dependents.has(id)));
    expect(setEquals(itemIdSet(clientDb), expected), 'the client got everything that does not depend on the damaged item').toBe(true);
    expect(checkClean(clientDb)).toEqual([]);

    const rebuild = await runCli(['--db', serverDb, 'db', 'rebuild-index']);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    const check = await runCli(['--db', serverDb, 'db', 'check']);
    expect(check.code).toBe(6); // a database problem (README, "Exit codes")
    expect(check.stdout).toContain(`item ${damagedFile}: its bytes do not hash to its id (damaged)`);
  });

  it('on a pushing client: the server stores everything else, the push names the damaged item in one line, the server keeps serving', async () => {
    const clientDb = withDamagedItem();
    const serverDb = newDbPath('netsync-corrupt-srv-');
    const serve = await startServe(serverDb, [], { NETSYNC_CONFIG_DIR: config.dir });
    try {
      const r = await runCli(['--db', clientDb, 'push', `127.0.0.1:${serve.port}`, BRANCH], { NETSYNC_CONFIG_DIR: config.dir });
      expect(r.code, r.stderr).toBe(5); // an item failed verification (README, "Exit codes")
      expect(errorLines(r.stderr)).toEqual([expect.stringMatching(withheldRe())]);
      // Still serving: another client pulls what arrived.
      const reader = newDbPath('netsync-corrupt-reader-');
      const pull = await runCli(['--db', reader, 'pull', `127.0.0.1:${serve.port}`, BRANCH], { NETSYNC_CONFIG_DIR: config.dir });
      expect(pull.code, pull.stderr).toBe(0);
    } finally {
      await serve.stop();
    }
    const expected = new Set([...collection].filter((id) => id !== damagedFile && !dependents.has(id)));
    expect(setEquals(itemIdSet(serverDb), expected)).toBe(true);
    expect(checkClean(serverDb)).toEqual([]);
  });

  it('in a two-way sync: the other direction completes in full', async () => {
    const serverDb = withDamagedItem();
    const server = await testServer(serverDb);
    const clientDb = newDbPath('netsync-corrupt-two-');
    const own = withStore(clientDb, (s) => {
      putRevisions(s, bobSigner(), 'org.corrupt.theirs', range(0, 4), 10, 64, 9);
      return bruteCollection(s, 'org.corrupt.theirs');
    });
    try {
      let code: string | undefined;
      const outcome = await testClient({ db: clientDb, port: server.port, patterns: ['org.corrupt.*'] }).then(
        () => 'resolved',
        (e: Error & { code?: string }) => ((code = e.code), e.message),
      );
      expect(outcome).toMatch(withheldRe());
      // The app tells "an item failed verification" from other failures by this code.
      expect(code).toBe('bad-item');
    } finally {
      await server.close(0);
    }
    expect(setEquals(membersOf(serverDb, 'org.corrupt.theirs'), own), 'everything the client sent arrived').toBe(true);
    const expected = new Set([...collection].filter((id) => id !== damagedFile && !dependents.has(id)));
    const got = itemIdSet(clientDb);
    expect([...expected].filter((id) => !got.has(id))).toEqual([]);
    expect(got.has(damagedFile)).toBe(false);
    expect(checkClean(clientDb)).toEqual([]);
  });
});

describe('a damaged index: nothing bad stored, nothing lost; rebuild-index, then sync reaches the union', () => {
  const damages: [string, string, RegExp][] = [
    ['a lost member row', `DELETE FROM members WHERE id IN (SELECT id FROM members LIMIT 3)`, /table "members" differs/],
    ['a wrong trie hash', `UPDATE trie SET hash = randomblob(32) WHERE depth = 1`, /table "trie" differs/],
  ];
  for (const [what, sql, named] of damages) {
    it(`${what} on the server`, async () => {
      const serverDb = pristineCopy();
      withStore(serverDb, (s) => s.db.exec(sql));
      expect(checkClean(serverDb).join('\n')).toMatch(named);
      const clientDb = newDbPath('netsync-corrupt-idx-');
      const own = withStore(clientDb, (s) => {
        putRevisions(s, bobSigner(), 'org.corrupt.side', range(0, 2), 5, 64, 11);
        return itemIdSet(clientDb);
      });
      let server = await testServer(serverDb);
      try {
        // Whatever a damaged index makes the session do, it stores nothing bad and loses nothing.
        await testClient({ db: clientDb, port: server.port, patterns: ['org.corrupt.*'] }).catch(() => undefined);
      } finally {
        await server.close(0);
      }
      for (const db of [serverDb, clientDb]) {
        const problems = checkClean(db).filter((p) => !/^index: /.test(p));
        expect(problems, `${db}: only the index may be wrong`).toEqual([]);
      }
      expect([...collection].filter((id) => !itemIdSet(serverDb).has(id))).toEqual([]);
      expect([...own].filter((id) => !itemIdSet(clientDb).has(id))).toEqual([]);

      const rebuild = await runCli(['--db', serverDb, 'db', 'rebuild-index']);
      expect(rebuild.code, rebuild.stderr).toBe(0);
      expect(checkClean(serverDb)).toEqual([]);
      server = await testServer(serverDb);
      try {
        await testClient({ db: clientDb, port: server.port, patterns: ['org.corrupt.*'] });
      } finally {
        await server.close(0);
      }
      const union = new Set([...collection, ...own]);
      expect(setEquals(itemIdSet(serverDb), union)).toBe(true);
      expect(setEquals(itemIdSet(clientDb), union)).toBe(true);
      expect(setEquals(membersOf(clientDb, BRANCH), collection)).toBe(true);
      expect(checkClean(clientDb)).toEqual([]);
    });
  }

  it('a dropped index table: serve and sync refuse in one line naming the repair; db check names the table; after rebuild-index a sync reaches the union', async () => {
    const serverDb = pristineCopy();
    withStore(serverDb, (s) => s.db.exec('DROP TABLE members'));
    const serve = await runCli(['--db', serverDb, 'serve', '--bind', '127.0.0.1:0'], { NETSYNC_CONFIG_DIR: config.dir }, { timeoutMs: 20_000 });
    expect(serve.code).toBe(6); // a database problem (README, "Exit codes")
    expect(errorLines(serve.stderr)).toEqual([
      expect.stringMatching(/index of .* is damaged \(table "members" missing\); regenerate it .*"netsync db rebuild-index"/),
    ]);

    const clientDb = pristineCopy();
    withStore(clientDb, (s) => s.db.exec('DROP TABLE certs'));
    const sync = await runCli(['--db', clientDb, 'sync', '127.0.0.1:1', BRANCH], { NETSYNC_CONFIG_DIR: config.dir });
    expect(sync.code).toBe(6); // a database problem (README, "Exit codes")
    expect(errorLines(sync.stderr)).toEqual([expect.stringMatching(/table "certs" missing.*db rebuild-index/)]);

    for (const [db, table] of [
      [serverDb, 'members'],
      [clientDb, 'certs'],
    ] as const) {
      const check = await runCli(['--db', db, 'db', 'check']);
      expect(check.code).toBe(6); // a database problem (README, "Exit codes")
      expect(check.stdout).toContain(`index: table "${table}" is missing (run "netsync db rebuild-index")`);
      const rebuild = await runCli(['--db', db, 'db', 'rebuild-index']);
      expect(rebuild.code, rebuild.stderr).toBe(0);
      expect(checkClean(db)).toEqual([]);
    }
    const server = await startServe(serverDb, [], { NETSYNC_CONFIG_DIR: config.dir });
    try {
      const again = await runCli(['--db', clientDb, 'sync', `127.0.0.1:${server.port}`, BRANCH, '--json'], { NETSYNC_CONFIG_DIR: config.dir });
      expect(again.code, again.stderr).toBe(0);
    } finally {
      await server.stop();
    }
    expect(setEquals(membersOf(clientDb, BRANCH), collection)).toBe(true);
    expect(setEquals(membersOf(serverDb, BRANCH), collection)).toBe(true);
  });
});

describe('a truncated database file', () => {
  const truncatedLine = /is truncated: the file has (\d+) bytes and its header says (\d+) .*restore the file from a copy/;

  for (const cut of ['half of it', 'its last two pages']) {
    it(`db check and db rebuild-index name it as truncated (${cut} lost) and change nothing`, async () => {
      const db = pristineCopy();
      const size = statSync(db).size;
      const left = cut === 'half of it' ? Math.floor(size / 2) : size - 8192;
      truncateSync(db, left);
      const before = readFileSync(db);
      for (const command of [
        ['db', 'check'],
        ['db', 'rebuild-index'],
      ]) {
        const r = await runCli(['--db', db, ...command], { NETSYNC_CONFIG_DIR: config.dir });
        expect(r.code, command.join(' ')).toBe(6); // a database problem (README, "Exit codes")
        expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
        const m = truncatedLine.exec(errorLines(r.stderr)[0]!);
        expect(m, r.stderr).not.toBeNull();
        expect(Number(m![1])).toBe(left);
        expect(Number(m![2])).toBe(size);
        expect(readFileSync(db).equals(before), `${command.join(' ')} changed the file`).toBe(true);
      }
    });
  }

  it('serve and sync refuse it in one line; nothing crashes', async () => {
    const db = pristineCopy();
    truncateSync(db, Math.floor(statSync(db).size / 2));
    const serve = await runCli(['--db', db, 'serve', '--bind', '127.0.0.1:0'], { NETSYNC_CONFIG_DIR: config.dir }, { timeoutMs: 20_000 });
    expect(serve.code).toBe(6); // a database problem (README, "Exit codes")
    expect(errorLines(serve.stderr)).toHaveLength(1);
    expect(errorLines(serve.stderr)[0]).toMatch(truncatedLine);
    expect(serve.stderr).not.toMatch(/\n\s+at /);
    const server = await startServe(pristineCopy(), [], { NETSYNC_CONFIG_DIR: config.dir });
    try {
      const sync = await runCli(['--db', db, 'sync', `127.0.0.1:${server.port}`, BRANCH], { NETSYNC_CONFIG_DIR: config.dir });
      expect(sync.code).toBe(6); // a database problem (README, "Exit codes")
      expect(errorLines(sync.stderr), sync.stderr).toHaveLength(1);
      expect(errorLines(sync.stderr)[0]).toMatch(truncatedLine);
    } finally {
      await server.stop();
    }
  });
});
