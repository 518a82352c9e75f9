/**
 * Hostile input (docs/RELIABILITY.md §Hostile input): a seeded fuzzer that
 * mutates valid client traffic, recorded from real sessions (two-way syncs
 * and pushes in four variants each, a pull, a dry run, an up-to-date check,
 * a chunked file), and feeds each case to a live server through
 * `serveStream`, the per-connection path its TLS listener uses, over an
 * in-memory stream. Most sync and push cases first get fresh items in place
 * of the recorded ones (an OFFER and ITEMs of new files, a manifest, a
 * signed cert), so they meet a server that lacks what they send. Then 1-3
 * operators: bit flips, byte overwrites, truncations, duplicated, dropped,
 * swapped and spliced frames, oversized length fields and varints, injected
 * frames of every type, damaged item bytes, and hostile items offered then
 * sent (bytes that do not match their id, certs with bad signatures or
 * unknown signers, manifests naming missing or wrong-kind items, malformed
 * encodings, deflate bombs). Cases run as the server's own key, another key
 * and anonymously, under a permissions file that grants each different rights.
 *
 * Held after every case: the server never throws, never answers `internal`
 * (a bug, not bad input), ends every session within a bound. Held after
 * every batch: `db check` is clean (so every item stored verified), no
 * session is left open. Over the run: the heap after GC stays bounded, and
 * well-behaved syncs run while the fuzzing goes on and reach the union.
 * A case breaking one of these is written to test/reliability/fixtures/
 * and replayed by the fixture test below from then on.
 *
 * CI: 100,000 cases in-process + 300 through real TLS connections.
 * NETSYNC_RELIABILITY=full: 1,000,000 + 5,000. NETSYNC_FUZZ_CASES,
 * NETSYNC_FUZZ_TLS_CASES and NETSYNC_SEED override.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeInlineFile } from '../../src/engine/items/format.js';
import type { WriteStore } from '../../src/engine/store/store.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/engine/protocol/connection.js';
import { type LocalServer, startServer } from '../../src/engine/protocol/server.js';
import { putChunkedFile, putManifest, putCert, fixedSigner } from '../helpers/store.js';
import {
  aliceSigner,
  allIds,
  bobSigner,
  bruteCollection,
  checkClean,
  identityOf,
  itemCount,
  memberIds,
  newDbPath,
  serverConfig,
  sorted,
  testClient,
  union,
  waitUntil,
  withStore,
} from '../helpers/net.js';
import { SeededRandom } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';
import {
  type BadItemKit,
  type Corpus,
  type Finding,
  FIXTURE_DIR,
  type MutatedCase,
  SessionEnds,
  mutate,
  recordSession,
  saveFinding,
  streamCase,
  tlsCase,
} from './fuzz-lib.js';
import { copyDb, envNumber, heapAfterGc, mib, putRevisions, range, seedOf } from './helpers.js';

const CASES = envNumber('NETSYNC_FUZZ_CASES', 100_000, 1_000_000);
const TLS_CASES = envNumber('NETSYNC_FUZZ_TLS_CASES', 300, 5_000);
const SEED = seedOf(0xf022);
const BATCH = 500;
/** Recorded variants of each item-storing session (sync, push). */
const VARIANTS = 4;
/** A session must end this long after its client stopped writing. */
const CASE_BOUND_MS = 3000;
const GOOD_EVERY_BATCHES = 10;

const LIMITS: Limits = { ...DEFAULT_LIMITS, handshakeMs: 2000, idleMs: 2000, frameGraceMs: 1000, writeStallMs: 2000 };

/**
 * Who may do what: the server's own key (alice) everything; any other key
 * reads org.fuzz.* and writes two of its branches; anonymous only reads.
 */
const PERMISSIONS = ['read anonymous org.fuzz.* org.good.*', 'read * org.fuzz.* org.good.*', 'write * org.fuzz.push org.fuzz.side org.good.*', ''].join('\n');

const alice = aliceSigner();
const bob = bobSigner();
let pristine: string;
let pristineItems: number;
let goodMain: Set<string>;
let config: { configDir: string; permissionsFile: string };
let corpora: Corpus[];
let kit: BadItemKit;

/** The server's org.fuzz.main (also built by the up-to-date client, which must hold the same items). */
function putFuzzMain(s: WriteStore): void {
  putRevisions(s, alice, 'org.fuzz.main', range(0, 3), 4, 64, 1);
  // Compressible content, so the recorded pushes and pulls carry deflated items.
  const files = [0, 1].map((i) => s.put(encodeInlineFile(Buffer.from(`line ${i}\n`.repeat(300)))).id);
  const m = putManifest(s, { 'text/a': files[0]!, 'text/b': files[1]! });
  putCert(s, alice, m, 'branch', 'org.fuzz.main');
}

function buildPristine(): string {
  const db = newDbPath('netsync-fuzz-p-');
  withStore(db, (s) => {
    putFuzzMain(s);
    putRevisions(s, alice, 'org.good.main', range(0, 4), 5, 64, 2);
  });
  return db;
}

/** Records one real session's client traffic against a fresh copy of the pristine database. */
async function capture(
  name: string,
  weight: number,
  build: (dbPath: string) => void,
  opts: { patterns: string[]; direction: 'sync' | 'push' | 'pull'; dryRun?: boolean; refreshable?: boolean },
): Promise<Corpus> {
  const dir = tempDir('netsync-fuzz-cap-');
  const serverDb = join(dir, 'server.db');
  copyDb(pristine, serverDb);
  const clientDb = newDbPath('netsync-fuzz-capc-');
  build(clientDb);
  const server = await startServer({ db: serverDb, host: '127.0.0.1', port: 0, patterns: [], identity: identityOf(alice), ...config });
  try {
    const { frames, error } = await recordSession({
      db: clientDb,
      host: '127.0.0.1',
      port: server.port,
      patterns: opts.patterns,
      direction: opts.direction,
      dryRun: opts.dryRun ?? false,
      identity: identityOf(alice),
      configDir: tempDir('netsync-fuzz-pin-'),
    });
    expect(error, `${name}: the recorded session failed`).toBeNull();
    expect(frames.length, name).toBeGreaterThanOrEqual(2);
    return { name, frames, weight, refreshable: opts.refreshable ?? false };
  } finally {
    await server.close(0);
  }
}

beforeAll(async () => {
  config = serverConfig(PERMISSIONS);
  pristine = buildPristine();
  pristineItems = itemCount(pristine);
  goodMain = withStore(pristine, (s) => bruteCollection(s, 'org.good.main'));
  const mainManifest = withStore(pristine, (s) => s.manifestsIn('org.fuzz.main')[0]!);
  const aCert = withStore(pristine, (s) => s.certsOn(mainManifest)[0]!.id);
  kit = { manifest: mainManifest, signer: alice, stranger: fixedSigner('mallory@example.org'), certId: aCert };

  // Variants of the sessions that store items, each with items of its own. Most cases replace
  // the items by fresh ones (fuzz-lib refresh()), so they meet a server that lacks them.
  const twoWay = (v: number) => (db: string) =>
    withStore(db, (s) => {
      putRevisions(s, alice, 'org.fuzz.main', [0], 4, 64, 1); // shared with the server
      putRevisions(s, bob, 'org.fuzz.main', [10 + 2 * v, 11 + 2 * v], 4, 64, 3); // the server lacks these
      putRevisions(s, bob, 'org.fuzz.side', [100 + v], 3, 64, 3); // a branch the server does not have
    });
  const push = (v: number) => (db: string) =>
    withStore(db, (s) => {
      putRevisions(s, bob, 'org.fuzz.push', [200 + 2 * v, 201 + 2 * v], 3, 64, 4);
      const f = s.put(encodeInlineFile(Buffer.from(`compressible ${v}\n`.repeat(200)))).id;
      putCert(s, bob, putManifest(s, { notes: f }), 'branch', 'org.fuzz.push');
    });
  corpora = [];
  for (let v = 0; v < VARIANTS; v++) {
    corpora.push(await capture(`sync-${v}`, 30 / VARIANTS, twoWay(v), { patterns: ['org.fuzz.*'], direction: 'sync', refreshable: true }));
    corpora.push(await capture(`push-${v}`, 25 / VARIANTS, push(v), { patterns: ['org.fuzz.push'], direction: 'push', refreshable: true }));
  }
  corpora.push(
    await capture('pull', 15, () => undefined, { patterns: ['org.fuzz.*'], direction: 'pull' }),
    await capture('dry-run', 10, twoWay(0), { patterns: ['org.fuzz.*'], direction: 'sync', dryRun: true }),
    await capture('up-to-date', 10, (db) => withStore(db, putFuzzMain), { patterns: ['org.fuzz.main'], direction: 'sync' }),
    await capture(
      'chunked',
      2,
      (db) =>
        withStore(db, (s) => {
          const file = putChunkedFile(s, [Buffer.alloc(600_000, 1), Buffer.alloc(500_000, 2)]);
          putCert(s, bob, putManifest(s, { big: file }), 'branch', 'org.fuzz.push');
        }),
      { patterns: ['org.fuzz.push'], direction: 'push' },
    ),
  );
}, 120_000);

// ------------------------------------------------------------------ the fuzz server

class FuzzTarget {
  server!: LocalServer;
  db = '';
  readonly ends = new SessionEnds();
  resets = 0;

  async start(): Promise<void> {
    this.db = join(tempDir('netsync-fuzz-run-'), 'server.db');
    copyDb(pristine, this.db);
    this.server = await startServer(
      { db: this.db, host: '127.0.0.1', port: 0, patterns: [], identity: identityOf(alice), ...config, onEvent: this.ends.onEvent },
      { limits: LIMITS, maxSessions: 512 },
    );
  }

  async reset(): Promise<void> {
    await this.server.close(0);
    this.resets++;
    await this.start();
  }
}

type KeyChoice = Finding['clientKey'];
const keyOf = (k: KeyChoice): Buffer | null => (k === 'owner' ? alice.pair.publicKey : k === 'other' ? bob.pair.publicKey : null);

function chooseCorpus(rnd: SeededRandom): Corpus {
  const total = corpora.reduce((n, c) => n + c.weight, 0);
  let r = rnd.next() * total;
  for (const c of corpora) {
    r -= c.weight;
    if (r < 0) return c;
  }
  return corpora[corpora.length - 1]!;
}

function chooseKey(rnd: SeededRandom): KeyChoice {
  const r = rnd.next();
  return r < 0.75 ? 'owner' : r < 0.9 ? 'other' : 'anonymous';
}

/** What breaks a case: a hang, or an `internal` error (9), which is a bug and never the peer's fault. */
function problemOf(out: { hung: boolean; errorCodes: number[]; errorMessages: string[] }): string | null {
  if (out.hung) return `the session did not end within ${CASE_BOUND_MS} ms of the client's last byte`;
  const i = out.errorCodes.indexOf(9);
  if (i >= 0) return `the server answered internal (9): ${out.errorMessages[i]}`;
  return null;
}

/** A well-behaved client syncing its own branch and org.good.main while the fuzzing goes on. */
let goodRuns = 0;
async function goodSync(port: number, serverDb: string): Promise<number> {
  const n = ++goodRuns;
  const started = Date.now();
  const db = newDbPath('netsync-fuzz-good-');
  const own = `org.good.c${n}`;
  const mine = withStore(db, (s) => {
    putRevisions(s, bob, own, range(0, 2), 3, 64, 100 + n);
    return { all: allIds(s), collection: bruteCollection(s, own) };
  });
  const summary = await testClient({ db, port, patterns: ['org.good.main', own], identity: identityOf(bob) }, LIMITS);
  expect(summary.itemsReceived, `good sync ${n}`).toBe(goodMain.size);
  expect(sorted(withStore(db, (s) => allIds(s))), `good sync ${n}`).toEqual(sorted(union(mine.all, goodMain)));
  expect(sorted(withStore(serverDb, (s) => memberIds(s, own))), `good sync ${n}`).toEqual(sorted(mine.collection));
  return Date.now() - started;
}

const figures = {
  cases: 0,
  tlsCases: 0,
  codes: new Map<number, number>(),
  stored: 0,
  goodSyncs: [] as number[],
  heap: [] as number[],
  slowest: 0,
  resets: 0,
  ms: 0,
  tlsMs: 0,
};

afterAll(() => {
  if (figures.cases === 0) return;
  const codes = [...figures.codes]
    .sort((a, b) => a[0] - b[0])
    .map(([c, n]) => `${c === 0 ? 'none' : c}:${n}`)
    .join(' ');
  console.log(
    `[reliability] fuzz: ${figures.cases} in-process cases in ${(figures.ms / 1000).toFixed(1)} s + ${figures.tlsCases} over TLS in ${(figures.tlsMs / 1000).toFixed(1)} s (seed ${SEED}); ` +
      `ERROR codes ${codes}; items stored by cases ${figures.stored} (all verified); ${figures.resets} resets; ` +
      `slowest case ${figures.slowest} ms; good syncs during fuzzing ${figures.goodSyncs.length} (max ${Math.max(0, ...figures.goodSyncs)} ms); ` +
      `heap after GC ${figures.heap.map(mib).join(' → ')}`,
  );
});

describe('the recorded traffic', () => {
  it('replays cleanly through serveStream: each corpus unmutated ends its session without an error', async () => {
    const target = new FuzzTarget();
    await target.start();
    try {
      for (const c of corpora) {
        const before = itemCount(target.db);
        const out = await streamCase(
          target.server,
          target.ends,
          { bytes: Buffer.concat(c.frames), pieces: [Buffer.concat(c.frames).length], ops: [] },
          `replay:${c.name}`,
          alice.pair.publicKey,
          CASE_BOUND_MS,
        );
        expect(out.hung, c.name).toBe(false);
        expect(out.errorCodes, `${c.name}: ${out.errorMessages.join('; ')}`).toEqual([]);
        if (/^(push|sync|chunked)/.test(c.name)) expect(itemCount(target.db), c.name).toBeGreaterThan(before);
        await target.reset();
      }
      expect(checkClean(target.db)).toEqual([]);
    } finally {
      await target.server.close(0);
    }
  });
});

describe('hostile input against a live server', () => {
  it(
    `${CASES} mutated sessions in-process (seed ${SEED}): no crash, no internal error, no hang, nothing bad stored, bounded heap, good syncs succeed`,
    async () => {
      const rnd = new SeededRandom(SEED);
      const target = new FuzzTarget();
      await target.start();
      const findings: string[] = [];
      const uncaught: unknown[] = [];
      const onUncaught = (e: unknown) => uncaught.push(e);
      process.on('uncaughtException', onUncaught);
      process.on('unhandledRejection', onUncaught);
      let good: Promise<number> | null = null;
      let goodSettled = true;
      let goodError: unknown = null;
      const started = Date.now();
      let current = -1;
      try {
        figures.heap.push(heapAfterGc());
        for (let i = 0; i < CASES; i++) {
          current = i;
          if (i > 0 && i % BATCH === 0) {
            const batch = i / BATCH;
            expect(await waitUntil(() => target.server.stats().connected === 0, 5000), `open sessions after batch ${batch}`).toBe(true);
            if (goodSettled) {
              if (goodError) throw goodError;
              const problems = checkClean(target.db);
              expect(problems, `db check after batch ${batch} (cases ${i - BATCH}..${i - 1}, seed ${SEED})`).toEqual([]);
              figures.stored += itemCount(target.db) - pristineItems;
              await target.reset();
              if (batch % 20 === 0) figures.heap.push(heapAfterGc());
              if (batch % GOOD_EVERY_BATCHES === 1) {
                goodSettled = false;
                good = goodSync(target.server.port, target.db);
                good
                  .then(
                    (ms) => figures.goodSyncs.push(ms),
                    (e) => (goodError = e),
                  )
                  .finally(() => (goodSettled = true));
              }
            }
          }
          const corpus = chooseCorpus(rnd);
          const key = chooseKey(rnd);
          const c: MutatedCase = mutate(rnd, corpus, corpora, kit);
          const out = await streamCase(target.server, target.ends, c, `fuzz:${i}`, keyOf(key), CASE_BOUND_MS);
          figures.cases++;
          figures.slowest = Math.max(figures.slowest, out.ms);
          const code = out.errorCodes[0] ?? 0;
          figures.codes.set(code, (figures.codes.get(code) ?? 0) + 1);
          const problem = problemOf(out) ?? (uncaught.length ? `uncaught: ${String(uncaught.splice(0).join('; '))}` : null);
          if (problem) {
            const path = saveFinding({
              seed: SEED,
              caseIndex: i,
              corpus: corpus.name,
              ops: c.ops,
              clientKey: key,
              what: problem,
              pieces: c.pieces,
              bytesHex: c.bytes.toString('hex'),
            });
            findings.push(`case ${i} (${corpus.name}, ${c.ops.join(' ')}, ${key}): ${problem} -> ${path}`);
            if (findings.length >= 5) break;
          }
          if (i % 16 === 0) await new Promise((r) => setImmediate(r)); // let the good sync's I/O run
        }
        if (good) await good.catch(() => undefined);
        if (goodError) throw goodError;
        expect(await waitUntil(() => target.server.stats().connected === 0, 5000)).toBe(true);
        expect(checkClean(target.db)).toEqual([]);
        figures.stored += itemCount(target.db) - pristineItems;
        figures.heap.push(heapAfterGc());
      } catch (e) {
        throw new Error(`fuzzing failed at case ${current} (seed ${SEED}): ${(e as Error).message}`, { cause: e });
      } finally {
        process.off('uncaughtException', onUncaught);
        process.off('unhandledRejection', onUncaught);
        figures.ms = Date.now() - started;
        figures.resets = target.resets;
        await target.server.close(0);
      }
      expect(findings, `seed ${SEED}`).toEqual([]);
      expect(uncaught).toEqual([]);
      expect(figures.goodSyncs.length).toBeGreaterThanOrEqual(Math.min(3, Math.floor(CASES / BATCH / GOOD_EVERY_BATCHES)));
      // The heap after GC does not grow with the number of cases (first sample after warm-up vs the last).
      const warm = figures.heap[Math.min(1, figures.heap.length - 1)]!;
      expect(figures.heap[figures.heap.length - 1]! - warm, `heap ${figures.heap.map(mib).join(' → ')}`).toBeLessThan(32 << 20);
    },
    Math.max(900_000, CASES * 3 + 120_000),
  );

  it(`${TLS_CASES} mutated sessions through real TLS 1.3 connections, as three different keys`, async () => {
    const rnd = new SeededRandom((SEED ^ 0x5eed) >>> 0);
    const target = new FuzzTarget();
    await target.start();
    const started = Date.now();
    const findings: string[] = [];
    try {
      for (let i = 0; i < TLS_CASES; i++) {
        const corpus = chooseCorpus(rnd);
        const key = chooseKey(rnd);
        const c = mutate(rnd, corpus, corpora, kit);
        const out = await tlsCase(target.server.port, c, key === 'owner' ? alice : key === 'other' ? bob : null, CASE_BOUND_MS + 2000);
        figures.tlsCases++;
        const problem = problemOf(out);
        if (problem) {
          const path = saveFinding({
            seed: (SEED ^ 0x5eed) >>> 0,
            caseIndex: i,
            corpus: corpus.name,
            ops: c.ops,
            clientKey: key,
            what: `over TLS: ${problem}`,
            pieces: c.pieces,
            bytesHex: c.bytes.toString('hex'),
          });
          findings.push(`TLS case ${i}: ${problem} -> ${path}`);
        }
        if (i > 0 && i % 100 === 0) {
          expect(await waitUntil(() => target.server.stats().connected === 0, 5000)).toBe(true);
          expect(checkClean(target.db)).toEqual([]);
          await target.reset();
        }
      }
      expect(await waitUntil(() => target.server.stats().connected === 0, 5000)).toBe(true);
      expect(checkClean(target.db)).toEqual([]);
    } finally {
      figures.tlsMs = Date.now() - started;
      await target.server.close(0);
    }
    expect(findings).toEqual([]);
  }, 300_000);
});

describe('regression fixtures (cases the fuzzer once broke)', () => {
  const dir = FIXTURE_DIR;
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  it.runIf(files.length > 0)(`${files.length} saved cases replay without a crash, an internal error or a hang`, async () => {
    const target = new FuzzTarget();
    await target.start();
    try {
      for (const file of files) {
        const f = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Finding;
        const out = await streamCase(
          target.server,
          target.ends,
          { bytes: Buffer.from(f.bytesHex, 'hex'), pieces: f.pieces, ops: f.ops },
          `fixture:${file}`,
          keyOf(f.clientKey),
          CASE_BOUND_MS,
        );
        expect(problemOf(out), `${file} (${f.what})`).toBeNull();
        if (f.expectCodes) expect(out.errorCodes, `${file}: ${out.errorMessages.join('; ')}`).toEqual(f.expectCodes);
        expect(await waitUntil(() => target.server.stats().connected === 0, 5000)).toBe(true);
        expect(checkClean(target.db), file).toEqual([]);
        await target.reset();
      }
    } finally {
      await target.server.close(0);
    }
  });
});
