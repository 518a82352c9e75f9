/**
 * The base of a merge (workspace/merge.ts): the lowest common ancestor of
 * two heads in the revision graph; in a criss-cross history, where there
 * are several, the one with the most recent date (docs/ARCHITECTURE.md,
 * "Heads and merges"); none for unrelated histories. And the heads table
 * the indexer keeps agrees with the graph whatever order revisions come in.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/engine/hash.js';
import { EntryType } from '../../src/engine/items/format.js';
import { checkDatabase } from '../../src/engine/store/maintenance.js';
import { branchHeads } from '../../src/engine/store/history.js';
import type { WriteStore } from '../../src/engine/store/store.js';
import { storeRevision, storeTrees } from '../../src/engine/workspace/commit.js';
import { lowestCommonAncestor } from '../../src/engine/workspace/merge.js';
import { fixedSigner, newStore, putInlineFile } from '../helpers/store.js';

const BRANCH = 'org.example.graph';

function revision(store: WriteStore, name: string, day: number, parents: Buffer[]): Buffer {
  const tree = storeTrees(store, [{ path: 'f', type: EntryType.File, file: putInlineFile(store, name) }]);
  return storeRevision(store, fixedSigner(), BRANCH, tree, parents, name, new Date(Date.UTC(2026, 0, day)));
}

describe('the base of a merge', () => {
  it('a criss-cross history: of the two lowest common ancestors, the most recent', () => {
    const { store } = newStore();
    try {
      const o = revision(store, 'o', 1, []);
      const a = revision(store, 'a', 2, [o]);
      const b = revision(store, 'b', 3, [o]);
      const c = revision(store, 'c', 4, [a, b]);
      const d = revision(store, 'd', 5, [a, b]);
      const x = revision(store, 'x', 6, [c]);
      const y = revision(store, 'y', 7, [d]);
      expect(lowestCommonAncestor(store, x, y)).toEqual(b);
      expect(lowestCommonAncestor(store, y, x)).toEqual(b);
      // One line of descent: the older version itself.
      expect(lowestCommonAncestor(store, x, a)).toEqual(a);
      expect(lowestCommonAncestor(store, a, b)).toEqual(o);
      expect(branchHeads(store, BRANCH).map(toHex).sort()).toEqual([toHex(x), toHex(y)].sort());
      expect(checkDatabase(store).problems).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('unrelated histories have none', () => {
    const { store } = newStore();
    try {
      const a = revision(store, 'a', 1, []);
      const b = revision(store, 'b', 2, []);
      expect(lowestCommonAncestor(store, a, b)).toBeNull();
    } finally {
      store.close();
    }
  });

  it("the heads table: children whose branch certs come before their parents' give the same heads, and db check agrees", () => {
    const from = newStore().store;
    const to = newStore().store;
    try {
      const o = revision(from, 'o', 1, []);
      const a = revision(from, 'a', 2, [o]);
      const b = revision(from, 'b', 3, [o]);
      const m = revision(from, 'm', 4, [a, b]);
      const c = revision(from, 'c', 5, [a]);
      const rows = [...from.iterate()].map((r) => ({ id: r.id, data: Buffer.from(r.data) }));
      // Certs last, newest revision's first: each child joins the branch before its parents do.
      const certs = rows.filter((r) => r.data[0] === 4).reverse();
      to.batch(() => {
        for (const r of rows) if (r.data[0] !== 4) to.put(r.data, r.id);
        for (const r of certs) to.put(r.data, r.id);
      });
      const heads = (st: WriteStore) => branchHeads(st, BRANCH).map(toHex).sort();
      expect(heads(to)).toEqual([toHex(m), toHex(c)].sort());
      expect(heads(to)).toEqual(heads(from));
      expect(checkDatabase(to).problems).toEqual([]);
    } finally {
      from.close();
      to.close();
    }
  });
});
