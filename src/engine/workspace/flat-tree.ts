/** A version's whole tree as one map by path: what a merge and `commit --parent` compare. */
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { EntryType, Kind, decodeItem } from '../items/format.js';
import { treeWalk } from '../items/tree.js';
import type { ReadStore } from '../store/store.js';

/** One path of a tree: a file's item, a folder (its tree id is left out: folders compare by type), a link's target. */
export interface FlatEntry {
  type: EntryType;
  file?: Buffer;
  target?: Buffer;
}

/** Every path of a version's tree (a revision's, or a v3 manifest's), folders before what they hold. */
export function flatTree(store: ReadStore, version: Buffer): Map<string, FlatEntry> {
  const item = decodeItem(store.get(version)!.data);
  const out = new Map<string, FlatEntry>();
  if (item.kind === Kind.Manifest) {
    for (const e of item.entries) out.set(e.path, { type: e.type, file: e.file });
  } else if (item.kind === Kind.Revision) {
    for (const e of treeWalk((id) => store.get(id)?.data ?? null, item.tree)) {
      out.set(e.path, e.type === EntryType.Dir ? { type: e.type } : { type: e.type, file: e.id, target: e.target });
    }
  } else {
    fail('usage', `${toHex(version)} is not a revision or a manifest`);
  }
  return out;
}
