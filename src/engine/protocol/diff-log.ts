/**
 * The missing-item diff as it is learnt during a session: what we lack (the
 * peer offered it and we hold it nowhere) and what they lack (they asked us
 * for it). Counts and groups are exact; the item list is capped. Bytes are
 * content bytes (format.ts countedBytes: a chunked file counts through its
 * chunks, once); each listed row keeps the item's own size.
 */
import type { DiffItem, DiffSide, ItemKindName } from '../../shared/sync.js';
import { KIND_NAMES, type Kind, countedBytes } from '../items/format.js';

type Group = { branch: string; kind: ItemKindName; count: number; bytes: number };

export class DiffSideLog {
  private readonly items = new Map<string, DiffItem>();
  private readonly groups = new Map<string, Group>();
  /** The group added to last. */
  private last: Group | null = null;
  count = 0;
  bytes = 0;

  constructor(private readonly listLimit: number) {}

  /**
   * Records an item; the caller records each item once (the session keys its
   * own state by id). Rows beyond the list limit count but are not kept, so
   * memory stays bounded on a first clone of millions of items.
   */
  add(short: string | Buffer, kind: Kind, size: number, branch: string): void {
    const kindName = (KIND_NAMES[kind] ?? 'file') as ItemKindName;
    if (this.items.size < this.listLimit) {
      // A short id as hex, or its 8 bytes (made hex only when listed: a server lists nothing).
      const hex = typeof short === 'string' ? short : short.toString('hex', 0, 8);
      this.items.set(hex, { id: hex, kind: kindName, size, branches: [branch] });
    }
    const counted = countedBytes(kind, size);
    this.count++;
    this.bytes += counted;
    // Runs of one branch and kind are the rule (a first clone: 100,000 files in a row): no key to build.
    let g = this.last;
    if (g === null || g.branch !== branch || g.kind !== kindName) {
      const key = `${branch}\0${kindName}`;
      g = this.groups.get(key) ?? null;
      if (g === null) this.groups.set(key, (g = { branch, kind: kindName, count: 0, bytes: 0 }));
      this.last = g;
    }
    g.count++;
    g.bytes += counted;
  }

  mark(shortHex: string, blocked: DiffItem['blocked']): void {
    const row = this.items.get(shortHex);
    if (row) row.blocked = blocked;
  }

  summary(): DiffSide {
    const groups = [...this.groups.values()].sort((a, b) => a.branch.localeCompare(b.branch) || a.kind.localeCompare(b.kind));
    return { count: this.count, bytes: this.bytes, groups, items: [...this.items.values()] };
  }
}
