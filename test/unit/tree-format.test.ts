/**
 * Format v4 (docs/FORMAT.md §12-§13): tree nodes and revisions byte for
 * byte, the decoder's refusals, the content-defined cuts that make a
 * one-entry change cost a few small nodes, and what the store accepts.
 * Every hex string here is in FORMAT.md §11.
 */
import { describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import {
  EntryType,
  Kind,
  NAME_MAX,
  NODE_MAX,
  PARENTS_MAX,
  certSignedBytes,
  decodeItem,
  encodeCert,
  encodeInlineFile,
  encodeKey,
  encodeRevision,
  encodeTreeIndex,
  encodeTreeListing,
  itemId,
  nameRank,
} from '../../src/engine/items/format.js';
import { buildFolder, folderEntries } from '../../src/engine/items/tree.js';
import { signBytes } from '../../src/engine/keys/ed25519.js';
import { checkDatabase, rebuildIndex } from '../../src/engine/store/maintenance.js';
import { RFC8032_PUBLIC, RFC8032_SEED, fixedSigner, newStore, putCert, putInlineFile } from '../helpers/store.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const HELLO = itemId(encodeInlineFile(Buffer.from('hello\n')));
const EMPTY = itemId(encodeInlineFile(Buffer.alloc(0)));

const FX = {
  folderA: {
    hex: '060000010968656c6c6f2e7478740073dbaba4ae88c14ccdd3d8bb8802bd861c0eae4e29d66fcdc1b7f2a337ebd72d',
    id: '95670ce559c248a7233d8f547a51ba10bbc02a4f4324bc7b83fed86695bb3a23',
  },
  root: {
    hex:
      '06000002' +
      '01610295670ce559c248a7233d8f547a51ba10bbc02a4f4324bc7b83fed86695bb3a23' +
      '0672756e2e73680147dc540c94ceb704a23875c11273e16bb0b8a87aed84de911f2133568115f254',
    id: '9f92971f22619a27ddf8abeae6e3f01b7bd2ada6b7278f66203d0f229844007d',
  },
  revision: {
    hex: '079f92971f22619a27ddf8abeae6e3f01b7bd2ada6b7278f66203d0f229844007d00',
    id: '63744b96d6c2fcaf5c8bf18df737f7709c3241e391e98e3d9dccf0cac051af29',
  },
  child: {
    hex: '079f92971f22619a27ddf8abeae6e3f01b7bd2ada6b7278f66203d0f229844007d0163744b96d6c2fcaf5c8bf18df737f7709c3241e391e98e3d9dccf0cac051af29',
    id: 'd87baaa0de78d2807ad1f2a13decb0850b6b5584acec1096668550bbb0137bb8',
  },
  cert: {
    hex:
      '04' +
      '63744b96d6c2fcaf5c8bf18df737f7709c3241e391e98e3d9dccf0cac051af29' +
      '73740f5163bde03cb0a0fa4cf97d6fdd3c6bc7b15d9cb3b18f50cf0acf1d2eb4' +
      '066272616e6368' +
      '000000106f72672e6578616d706c652e64656d6f' +
      'f00872e32dca803a3515510f10269bdd8188d3bbba93ab0b7b7adadbc53ae0c7d76b00d0a2a6d4698f99c9abfa9dae2f65b630ac09e2876baf2432639b740a0b',
    id: '11c89d473120281dd45022f9b2d1ebd204d7483d5cf8e3e15b9350a1825e13da',
  },
  /** f00000 … f00045, each the empty file: cut after f00019, f00041 and f00044 (rank 1), then the last. */
  split: {
    nodes: [
      '421dfd4a86491c03198c16504dd276dff83cf6097a6ec8db9b26d67c5f9370a8',
      '18d1bf6db9d437476156c703a38409113bc02b789b3fa3f05602277adb629a41',
      'b98aebffc1aa244e875948c4474f3c01a780c6c4698b0ee53de500a93ceb244e',
      '57a49ee24da2eae29a1696c377bd20d97b2a0cb81f9d1bb96ed2eef76e42a972',
    ],
    root:
      '06010004' +
      '421dfd4a86491c03198c16504dd276dff83cf6097a6ec8db9b26d67c5f9370a800000014' +
      '18d1bf6db9d437476156c703a38409113bc02b789b3fa3f05602277adb629a4100000016' +
      'b98aebffc1aa244e875948c4474f3c01a780c6c4698b0ee53de500a93ceb244e00000003' +
      '57a49ee24da2eae29a1696c377bd20d97b2a0cb81f9d1bb96ed2eef76e42a97200000001',
    id: 'a3f0909bd2912c9cb397359571367097254ba54439df0b4839f6fca706db8e39',
  },
};

function splitEntries(n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: `f${String(i).padStart(5, '0')}`, type: EntryType.File, id: EMPTY }));
}

function expectRefused(bytes: Buffer, pattern: RegExp): void {
  try {
    decodeItem(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(NetsyncError);
    expect((e as NetsyncError).code).toBe('bad-item');
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`accepted ${hex(bytes)}`);
}

/** A listing node written by hand, without the encoder's help. */
function listing(names: string[]): Buffer {
  const parts: Buffer[] = [Buffer.of(Kind.Tree, 0, 0, names.length)];
  for (const n of names) parts.push(Buffer.of(Buffer.byteLength(n)), Buffer.from(n), Buffer.of(EntryType.File), EMPTY);
  return Buffer.concat(parts);
}

describe('format v4 fixtures (docs/FORMAT.md §11)', () => {
  it('a folder and its parent encode to their frozen bytes and ids', () => {
    const a = buildFolder([{ name: 'hello.txt', type: EntryType.File, id: HELLO }]);
    expect(a.nodes.map(hex)).toEqual([FX.folderA.hex]);
    expect(hex(a.id)).toBe(FX.folderA.id);
    const root = buildFolder([
      { name: 'run.sh', type: EntryType.Executable, id: EMPTY },
      { name: 'a', type: EntryType.Dir, id: a.id },
    ]);
    expect(root.nodes.map(hex)).toEqual([FX.root.hex]);
    expect(hex(root.id)).toBe(FX.root.id);
  });

  it('revisions and a cert on one encode to their frozen bytes and ids', () => {
    const revision = encodeRevision(Buffer.from(FX.root.id, 'hex'), []);
    expect(hex(revision)).toBe(FX.revision.hex);
    expect(hex(itemId(revision))).toBe(FX.revision.id);
    const child = encodeRevision(Buffer.from(FX.root.id, 'hex'), [itemId(revision)]);
    expect(hex(child)).toBe(FX.child.hex);
    expect(hex(itemId(child))).toBe(FX.child.id);
    const key = itemId(encodeKey('alice@example.org', RFC8032_PUBLIC));
    const value = Buffer.from('org.example.demo');
    const signature = signBytes(RFC8032_SEED, certSignedBytes(itemId(revision), key, 'branch', value));
    const cert = encodeCert(itemId(revision), key, 'branch', value, signature);
    expect(hex(cert)).toBe(FX.cert.hex);
    expect(hex(itemId(cert))).toBe(FX.cert.id);
  });

  it('a listing is cut after each name of rank ≥ 1, and indexed by a level-1 node', () => {
    expect(['f00019', 'f00041', 'f00044'].map((n) => nameRank(Buffer.from(n)))).toEqual([1, 1, 1]);
    expect(['a', 'hello.txt', 'run.sh', 'f00000'].map((n) => nameRank(Buffer.from(n)))).toEqual([0, 0, 0, 0]);
    expect(nameRank(Buffer.from('f00947'))).toBe(2);
    const built = buildFolder(splitEntries(46));
    expect(built.nodes.slice(0, 4).map((n) => hex(itemId(n)))).toEqual(FX.split.nodes);
    expect(hex(built.nodes[4]!)).toBe(FX.split.root);
    expect(hex(built.id)).toBe(FX.split.id);
  });

  it('each fixture decodes and re-encodes to the same bytes', () => {
    for (const h of [FX.folderA.hex, FX.root.hex, FX.split.root]) {
      const item = decodeItem(Buffer.from(h, 'hex'));
      if (item.kind !== Kind.Tree) throw new Error('not a tree');
      const again =
        item.level > 0 ? encodeTreeIndex(item.level, item.children) : encodeTreeListing(item.entries.map((e) => ({ ...e, name: Buffer.from(e.name) })));
      expect(hex(again)).toBe(h);
    }
    const rev = decodeItem(Buffer.from(FX.child.hex, 'hex'));
    expect(rev).toEqual({ kind: Kind.Revision, tree: Buffer.from(FX.root.id, 'hex'), parents: [Buffer.from(FX.revision.id, 'hex')] });
  });
});

describe('format v4 decoding refuses', () => {
  it('names out of order, repeated, or not one path component', () => {
    expectRefused(listing(['b', 'a']), /ascending/);
    expectRefused(listing(['a', 'a']), /ascending/);
    for (const bad of ['.', '..', 'a/b', 'nul\0']) expectRefused(listing([bad]), /name/);
    expectRefused(Buffer.concat([Buffer.of(Kind.Tree, 0, 0, 1, 0, EntryType.File), EMPTY]), /name of 0 bytes/);
    // A name's length is one byte: NAME_MAX (255) is the most it can say.
    expect(() => decodeItem(listing(['x'.repeat(NAME_MAX)]))).not.toThrow();
  });

  it('a node that should have been cut earlier (not canonical)', () => {
    expectRefused(listing(['f00019', 'f00020']), /should end after "f00019"/);
    expect(() => decodeItem(listing(['f00018', 'f00019']))).not.toThrow();
  });

  it('unknown entry types, empty or oversize link targets, too many entries', () => {
    const bad = Buffer.concat([Buffer.of(Kind.Tree, 0, 0, 1, 1), Buffer.from('a'), Buffer.of(4), EMPTY]);
    expectRefused(bad, /unknown entry type 4/);
    expectRefused(Buffer.concat([Buffer.of(Kind.Tree, 0, 0, 1, 1), Buffer.from('l'), Buffer.of(EntryType.Symlink, 0, 0, 0)]), /link target of 0 bytes/);
    expect(
      decodeItem(Buffer.concat([Buffer.of(Kind.Tree, 0, 0, 1, 1), Buffer.from('l'), Buffer.of(EntryType.Symlink, 0, 2), Buffer.from('..')])),
    ).toMatchObject({
      entries: [{ name: 'l', type: EntryType.Symlink, target: Buffer.from('..') }],
    });
    expectRefused(Buffer.of(Kind.Tree, 0, (NODE_MAX + 1) >> 8, (NODE_MAX + 1) & 0xff), /more than 1024/);
  });

  it('index nodes with no children, a child of no entries, a wrong length; trailing bytes', () => {
    expectRefused(Buffer.of(Kind.Tree, 1, 0, 0), /no children/);
    expectRefused(Buffer.concat([Buffer.of(Kind.Tree, 1, 0, 1), EMPTY, Buffer.of(0, 0, 0, 0)]), /covers no entries/);
    expectRefused(Buffer.concat([Buffer.of(Kind.Tree, 1, 0, 2), EMPTY, Buffer.of(0, 0, 0, 1)]), /child count/);
    expectRefused(Buffer.concat([listing(['a']), Buffer.of(0)]), /trailing/);
  });

  it('revisions with parents out of order, too many, or a wrong length', () => {
    const tree = Buffer.from(FX.root.id, 'hex');
    const [p1, p2] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    expectRefused(Buffer.concat([Buffer.of(Kind.Revision), tree, Buffer.of(2), p2, p1]), /ascending/);
    expectRefused(
      Buffer.concat([Buffer.of(Kind.Revision), tree, Buffer.of(PARENTS_MAX + 1), ...Array.from({ length: PARENTS_MAX + 1 }, (_, i) => Buffer.alloc(32, i))]),
      /more than 16/,
    );
    expectRefused(Buffer.concat([Buffer.of(Kind.Revision), tree, Buffer.of(1)]), /parent count/);
    expect(hex(encodeRevision(tree, [p2, p1, p2]))).toBe(hex(Buffer.concat([Buffer.of(Kind.Revision), tree, Buffer.of(2), p1, p2])));
  });
});

describe('content-defined cuts', () => {
  it('a 100,000-entry folder: one changed entry gives one new node per level, a few KB in all', () => {
    const entries = Array.from({ length: 100_000 }, (_, i) => ({
      name: `file-${i}.txt`,
      type: EntryType.File,
      id: itemId(encodeInlineFile(Buffer.from(String(i)))),
    }));
    const before = buildFolder(entries);
    const changed = entries.map((e, i) => (i === 54_321 ? { ...e, id: HELLO } : e));
    const after = buildFolder(changed);
    const old = new Set(before.nodes.map((n) => hex(itemId(n))));
    const fresh = after.nodes.filter((n) => !old.has(hex(itemId(n))));
    const levels = after.nodes.at(-1)![1]! + 1;
    expect(levels).toBeGreaterThanOrEqual(3);
    expect(fresh.length).toBe(levels);
    expect(fresh.reduce((s, n) => s + n.length, 0)).toBeLessThan(12_000);
    // Adding and removing an entry shifts nothing beyond its node either.
    const added = buildFolder([...entries, { name: 'file-54321.txt~', type: EntryType.File, id: HELLO }]);
    expect(added.nodes.filter((n) => !old.has(hex(itemId(n)))).length).toBeLessThanOrEqual(levels + 1);
  });

  it('folderEntries reads back the listing in name-byte order, across nodes', () => {
    const entries = splitEntries(3000).reverse();
    const built = buildFolder(entries);
    const byId = new Map(built.nodes.map((n) => [hex(itemId(n)), n]));
    const read = [...folderEntries((id) => byId.get(hex(id)) ?? null, built.id)];
    expect(read.map((e) => e.name)).toEqual(splitEntries(3000).map((e) => e.name));
    expect(buildFolder([]).nodes.map(hex)).toEqual(['06000000']);
  });
});

describe('the store and format v4', () => {
  it('accepts trees and revisions after what they name, and certs on a revision; db check and rebuild agree', () => {
    const { store } = newStore();
    try {
      const signer = fixedSigner();
      const hello = putInlineFile(store, 'hello\n');
      const empty = putInlineFile(store, '');
      const a = buildFolder([{ name: 'hello.txt', type: EntryType.File, id: hello }]);
      const root = buildFolder([
        { name: 'a', type: EntryType.Dir, id: a.id },
        { name: 'run.sh', type: EntryType.Executable, id: empty },
      ]);
      // A folder names its child's tree: the child must be there first.
      expect(() => store.put(root.nodes[0]!)).toThrow(/names tree .*not stored/);
      for (const n of [...a.nodes, ...root.nodes]) store.put(n);
      const rev = store.put(encodeRevision(root.id, [])).id;
      expect(() => store.put(encodeRevision(root.id, [Buffer.alloc(32, 9)]))).toThrow(/names revision or manifest .*not stored/);
      putCert(store, signer, rev, 'branch', 'org.example.v4');
      const big = buildFolder(splitEntries(46));
      for (const n of big.nodes) store.put(n);
      const child = store.put(encodeRevision(big.id, [rev])).id;
      putCert(store, signer, child, 'branch', 'org.example.v4');
      // The child's collection holds its own tree and its parent's closure.
      const bid = store.branchId('org.example.v4')!;
      for (const id of [rev, child, root.id, a.id, big.id, hello, empty, itemId(big.nodes[0]!)]) expect(store.isMember(bid, id)).toBe(true);
      expect(checkDatabase(store).problems).toEqual([]);
      const rootBefore = store.root('org.example.v4');
      rebuildIndex(store);
      expect(store.root('org.example.v4')).toEqual(rootBefore);
    } finally {
      store.close();
    }
  });

  it('refuses an index node whose child is of the wrong level or covers another count', () => {
    const { store } = newStore();
    try {
      const empty = putInlineFile(store, '');
      const built = buildFolder(splitEntries(46).map((e) => ({ ...e, id: empty })));
      for (const n of built.nodes.slice(0, 4)) store.put(n);
      const [first, second] = built.nodes.map((n) => itemId(n));
      expect(() =>
        store.put(
          encodeTreeIndex(1, [
            { id: first!, count: 21 },
            { id: second!, count: 22 },
          ]),
        ),
      ).toThrow(/gives node .* 21 entries, it has 20/);
      const index = store.put(encodeTreeIndex(1, [{ id: first!, count: 20 }])).id;
      expect(() => store.put(encodeTreeIndex(1, [{ id: index, count: 20 }]))).toThrow(/level 0, it is of level 1/);
    } finally {
      store.close();
    }
  });
});
