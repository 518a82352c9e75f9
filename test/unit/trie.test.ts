/**
 * The persistent index trie against an independent from-scratch computation
 * (test/helpers/trie-reference.ts, written from docs/FORMAT.md): same root
 * for the same set whatever the insertion order or batching, the documented
 * leaf/inner thresholds, and an incrementally kept index that equals a
 * rebuilt one and passes `checkDatabase`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/engine/hash.js';
import { TrieReader, TrieWriter } from '../../src/engine/store/trie-table.js';
import { sortIds, sortIdsByComparator } from '../../src/engine/store/indexer.js';
import { checkDatabase, rebuildIndex } from '../../src/engine/store/maintenance.js';
import type { WriteStore } from '../../src/engine/store/store.js';
import { SeededRandom } from '../helpers/random.js';
import { fixedSigner, keyIdOf, newStore, putCert, putRandomRevision } from '../helpers/store.js';
import { referenceNodes, referenceRoot } from '../helpers/trie-reference.js';

const open: WriteStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function freshStore(): WriteStore {
  const { store } = newStore();
  open.push(store);
  return store;
}

const BID = 1;

/** Inserts `batches` of ids as members of branch BID and updates the trie after each, as the indexer does. */
function insertRaw(store: WriteStore, batches: readonly Buffer[][]): void {
  const member = store.db.prepare<[number, Buffer]>('INSERT INTO members (bid, id) VALUES (?, ?)');
  for (const batch of batches) {
    store.db.transaction(() => {
      for (const id of batch) member.run(BID, id);
      new TrieWriter(store.db, BID).add([...batch].sort(Buffer.compare));
    })();
  }
}

/** Every trie row of branch `bid` as "depth:prefix" -> { count, hash hex }. */
function trieRows(store: WriteStore, bid: number): Map<string, { count: number; hash: string }> {
  const rows = store.db
    .prepare<[number], { depth: number; prefix: number; count: number; hash: Buffer }>('SELECT depth, prefix, count, hash FROM trie WHERE bid = ?')
    .all(bid);
  return new Map(rows.map((r) => [`${r.depth}:${r.prefix}`, { count: r.count, hash: r.hash.toString('hex') }]));
}

function referenceRows(ids: Buffer[]): Map<string, { count: number; hash: string }> {
  return new Map([...referenceNodes(ids)].map(([k, n]) => [k, { count: n.count, hash: n.hash.toString('hex') }]));
}

function randomIds(rng: SeededRandom, n: number): Buffer[] {
  return Array.from({ length: n }, () => rng.bytes(32));
}

function rootOf(store: WriteStore, bid = BID) {
  return new TrieReader(store.db, bid).node(0, 0);
}

describe('trie: persistent index vs from-scratch reference', () => {
  it('seeded random inserts in several batchings and orders all give the reference root and shape', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new SeededRandom(seed);
      const ids = randomIds(rng, 3000);
      const expected = referenceRoot(ids);
      const expectedRows = referenceRows(ids);
      const orders = [
        [ids], // one batch
        rng.batches(ids, 7), // many small batches
        rng.batches(rng.shuffle(ids), 400), // shuffled, larger batches
        [...ids].sort(Buffer.compare).map((id) => [id]), // one at a time, ascending
      ];
      for (const batches of orders) {
        const store = freshStore();
        insertRaw(store, batches);
        const root = rootOf(store);
        expect(root.count).toBe(ids.length);
        expect(root.hash.toString('hex')).toBe(expected.hash.toString('hex'));
        expect(trieRows(store, BID)).toEqual(expectedRows);
      }
    }
  });

  it('equal sets give equal roots; different sets different ones', () => {
    const rng = new SeededRandom(7);
    const ids = randomIds(rng, 500);
    const a = freshStore();
    const b = freshStore();
    insertRaw(a, rng.batches(ids, 50));
    insertRaw(b, rng.batches(rng.shuffle(ids), 3));
    expect(rootOf(a).hash).toEqual(rootOf(b).hash);
    const c = freshStore();
    insertRaw(c, [ids.slice(1)]);
    expect(rootOf(c).hash).not.toEqual(rootOf(a).hash);
  });

  it('a node is a leaf up to 16 ids and becomes inner at the 17th', () => {
    const rng = new SeededRandom(16);
    const ids = randomIds(rng, 17);
    const store = freshStore();
    insertRaw(
      store,
      ids.slice(0, 16).map((id) => [id]),
    );
    const sorted16 = ids.slice(0, 16).sort(Buffer.compare);
    expect([...trieRows(store, BID).keys()]).toEqual(['0:0']);
    expect(rootOf(store)).toEqual({ count: 16, hash: sha256(Buffer.of(0), ...sorted16) });

    insertRaw(store, [[ids[16]!]]);
    const rows = trieRows(store, BID);
    expect(rows.get('0:0')!.count).toBe(17);
    expect(rows.size).toBeGreaterThan(1); // children now have rows
    expect(rows).toEqual(referenceRows(ids));
    // The inner hash: 0x01, the bitmap of non-empty nibbles, their hashes in nibble order.
    const groups = new Map<number, Buffer[]>();
    for (const id of [...ids].sort(Buffer.compare)) groups.set(id[0]! >> 4, [...(groups.get(id[0]! >> 4) ?? []), id]);
    let bitmap = 0;
    const childHashes: Buffer[] = [];
    for (let n = 0; n < 16; n++) {
      const g = groups.get(n);
      if (!g) continue;
      bitmap |= 0x8000 >> n;
      childHashes.push(sha256(Buffer.of(0), ...g)); // 17 random ids: no nibble holds more than 16
    }
    expect(rootOf(store).hash).toEqual(sha256(Buffer.of(1, bitmap >> 8, bitmap & 0xff), ...childHashes));
  });

  it('ids sharing a long prefix split level by level, and depth 12 is always a leaf', () => {
    const rng = new SeededRandom(12);
    const shared = rng.bytes(6); // 12 nibbles
    const deep = Array.from({ length: 40 }, () => Buffer.concat([shared, rng.bytes(26)]));
    const store = freshStore();
    insertRaw(store, rng.batches(deep, 5));
    const rows = trieRows(store, BID);
    expect(rows).toEqual(referenceRows(deep));
    const depths = [...rows.keys()].map((k) => Number(k.split(':')[0]));
    expect(Math.max(...depths)).toBe(12);
    expect([...rows].filter(([k]) => k.startsWith('12:'))[0]![1].count).toBe(40);

    // Two ids differing only in their last nibble: 17+ of them share 63 nibbles.
    const twins = Array.from({ length: 17 }, (_, i) => Buffer.concat([Buffer.alloc(31, 0xab), Buffer.of(i)]));
    const s2 = freshStore();
    insertRaw(s2, [twins]);
    expect(trieRows(s2, BID)).toEqual(referenceRows(twins));
  });

  it('worked example (docs/FORMAT.md): 16 and 17 ids SHA-256("netsync/trie-example/" + i)', () => {
    const ids = Array.from({ length: 17 }, (_, i) => sha256(Buffer.from(`netsync/trie-example/${i}`)));
    const store = freshStore();
    insertRaw(store, [ids.slice(0, 16)]);
    expect(rootOf(store).hash.toString('hex')).toBe('37b7316feac017a3a4077ad16029b059896315380197422e317d26e0f4e95796');
    insertRaw(store, [[ids[16]!]]);
    expect(rootOf(store).hash.toString('hex')).toBe('280cca7c5b4dc8f2419c54294fbc68014c946ea237ef7f73f2848f1bcdc2689a');
    // Nibbles present at depth 1: 0 3 5 6 8 a b c d e f.
    const rows = trieRows(store, BID);
    expect(
      [...rows.keys()]
        .filter((k) => k.startsWith('1:'))
        .map((k) => Number(k.slice(2)).toString(16))
        .sort(),
    ).toEqual(['0', '3', '5', '6', '8', 'a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('the empty trie has count 0 and the all-zero hash', () => {
    const store = freshStore();
    expect(rootOf(store)).toEqual({ count: 0, hash: Buffer.alloc(32) });
    expect(referenceRoot([])).toEqual({ count: 0, hash: Buffer.alloc(32) });
  });
});

describe('trie: kept by the store while items arrive', () => {
  const BRANCH = 'org.example.trie';

  /** Deterministic revisions: random file contents, some shared between revisions. */
  function revisions(seed: number, n: number): Uint8Array[][] {
    const rng = new SeededRandom(seed);
    const pool = Array.from({ length: 40 }, () => rng.bytes(rng.between(0, 200)));
    return Array.from({ length: n }, () => Array.from({ length: rng.between(1, 12) }, () => pool[rng.int(pool.length)]!));
  }

  function branchIds(store: WriteStore, branch: string): Buffer[] {
    const bid = store.branchId(branch)!;
    return store.db
      .prepare<[number], { id: Buffer }>('SELECT id FROM members WHERE bid = ?')
      .all(bid)
      .map((r) => r.id);
  }

  it('random batches and orders of commits give the same root as rebuildIndex and as the reference', () => {
    const signer = fixedSigner();
    const revs = revisions(99, 40);
    const roots: string[] = [];
    for (const seed of [1, 2, 3]) {
      const rng = new SeededRandom(seed);
      const store = freshStore();
      const expected = new Set<string>([keyIdOf(signer).toString('hex')]);
      const order = seed === 1 ? revs : rng.shuffle(revs);
      for (const group of rng.batches(order, seed * 4)) {
        store.batch(() => {
          for (const files of group) {
            const r = putRandomRevision(store, signer, BRANCH, files);
            // A cert arriving after the branch cert joins the collection too.
            const date = putCert(store, signer, r.manifest, 'date', '2004-05-01T00:00:00.000Z');
            for (const id of [r.manifest, r.cert, date, ...r.files]) expected.add(id.toString('hex'));
          }
        });
      }
      const expectedIds = [...expected].map((h) => Buffer.from(h, 'hex'));
      expect(new Set(branchIds(store, BRANCH).map((b) => b.toString('hex')))).toEqual(expected);
      const incremental = store.root(BRANCH);
      expect(incremental.count).toBe(expected.size);
      expect(incremental.hash).toEqual(referenceRoot(expectedIds).hash);
      expect(checkDatabase(store).problems).toEqual([]);

      rebuildIndex(store);
      expect(store.root(BRANCH)).toEqual(incremental);
      expect(checkDatabase(store).problems).toEqual([]);
      roots.push(incremental.hash.toString('hex'));
    }
    expect(new Set(roots).size).toBe(1);
  });

  it('an item in two branches is in both tries; each root matches the reference', () => {
    const signer = fixedSigner();
    const store = freshStore();
    const shared = [Buffer.from('shared file')];
    const a = putRandomRevision(store, signer, 'org.example.a', shared);
    const b = putRandomRevision(store, signer, 'org.example.b', [...shared, Buffer.from('only in b')]);
    expect(branchIds(store, 'org.example.a').map((x) => x.toString('hex'))).toContain(a.files[0]!.toString('hex'));
    expect(branchIds(store, 'org.example.b').map((x) => x.toString('hex'))).toContain(a.files[0]!.toString('hex'));
    for (const name of ['org.example.a', 'org.example.b']) {
      expect(store.root(name).hash).toEqual(referenceRoot(branchIds(store, name)).hash);
    }
    expect(b.manifest).not.toEqual(a.manifest);
    expect(checkDatabase(store).problems).toEqual([]);
  });

  it('one transaction bringing more members than the indexer holds at once (applied in slices) gives the rebuilt index', () => {
    const signer = fixedSigner();
    const store = freshStore();
    const rng = new SeededRandom(9);
    // 140,000 files in one revision: its branch cert brings them all in one transaction.
    const { files } = putRandomRevision(
      store,
      signer,
      BRANCH,
      Array.from({ length: 140_000 }, () => rng.bytes(8)),
    );
    expect(store.root(BRANCH).count).toBeGreaterThan(140_000);
    expect(store.root(BRANCH).hash).toEqual(referenceRoot(branchIds(store, BRANCH)).hash);
    expect(branchIds(store, BRANCH).length).toBe(files.length + 3); // the manifest, the cert, the key
    expect(checkDatabase(store).problems).toEqual([]);
  }, 60_000);

  it('db check passes after many small incremental transactions crossing the leaf/inner threshold', () => {
    const signer = fixedSigner();
    const store = freshStore();
    const rng = new SeededRandom(5);
    for (let i = 0; i < 30; i++) {
      putRandomRevision(store, signer, BRANCH, [rng.bytes(32)]);
      if (i % 5 === 4) expect(checkDatabase(store).problems).toEqual([]);
    }
    expect(store.root(BRANCH).count).toBeGreaterThan(17);
    expect(store.root(BRANCH).hash).toEqual(referenceRoot(branchIds(store, BRANCH)).hash);
  });
});

describe('sortIds', () => {
  const rnd = new SeededRandom(77);
  const ids = Array.from({ length: 2000 }, () => Buffer.from(rnd.bytes(32)));
  // Ids equal in their first 4 (the packed key's prefix) or more bytes, differing later; some in runs of 3.
  for (let i = 0; i < 200; i++) {
    const twin = Buffer.from(ids[i]!);
    twin[4 + (i % 28)] = twin[4 + (i % 28)]! ^ 0xff;
    ids.push(twin);
    if (i % 10 === 0) {
      const third = Buffer.from(twin);
      third[31] = third[31]! ^ 0x01;
      ids.push(third);
    }
  }
  const expected = ids.slice().sort(Buffer.compare);
  const repeated = [...ids, ...ids.slice(0, 300), ...ids.slice(1990)];

  it('orders ids as Buffer.compare does, also ids that share their first bytes', () => {
    expect(sortIds(ids.slice())).toEqual(expected);
    // With repeats dropped: each id once, also where a repeat shares its prefix with others.
    expect(sortIds(repeated, true)).toEqual(expected);
  });

  it('the comparator path (for more ids than the packed keys can number) gives the same order', () => {
    expect(sortIdsByComparator(ids.slice(), false)).toEqual(expected);
    expect(sortIdsByComparator(repeated, true)).toEqual(expected);
  });
});
