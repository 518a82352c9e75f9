/** DiffSideLog: the per-side diff a session learns (counts, groups, a capped list). */
import { describe, expect, it } from 'vitest';
import { Kind } from '../../src/engine/items/format.js';
import { DiffSideLog } from '../../src/engine/protocol/diff-log.js';

describe('DiffSideLog', () => {
  it('groups by branch and kind exactly, whether the items come in runs or interleaved', () => {
    const log = new DiffSideLog(2);
    const id = (n: number) => Buffer.alloc(32, n);
    // A run of files, then kinds and branches interleaved, then the first group again.
    for (let i = 0; i < 5; i++) log.add(id(i), Kind.File, 10, 'a');
    log.add(id(10), Kind.Cert, 3, 'a');
    log.add(id(11), Kind.File, 7, 'b');
    log.add(id(12), Kind.Cert, 3, 'a');
    log.add(id(13), Kind.File, 1, 'a');
    const s = log.summary();
    expect(s.count).toBe(9);
    expect(s.bytes).toBe(5 * 10 + 3 + 7 + 3 + 1);
    expect(s.groups).toEqual([
      { branch: 'a', kind: 'cert', count: 2, bytes: 6 },
      { branch: 'a', kind: 'file', count: 6, bytes: 51 },
      { branch: 'b', kind: 'file', count: 1, bytes: 7 },
    ]);
    // The list is capped; the counts are not.
    expect(s.items.map((r) => r.id)).toEqual([id(0).toString('hex', 0, 8), id(1).toString('hex', 0, 8)]);
  });
});
