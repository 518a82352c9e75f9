/**
 * What an item names: the ids it refers to, each with the kind the named
 * item must have, and its size where the naming item states one (a chunked
 * file gives each chunk's length). One definition for the three questions
 * asked of it: is everything it names stored, with the right kind and size
 * (store/verify.ts); which files a manifest brings into a collection
 * (store/indexer.ts); does it depend on an item a sender withholds
 * (protocol/exchange.ts).
 */
import { EntryType, type Item, Kind } from './format.js';

export interface NamedItem {
  id: Buffer;
  kind: Kind;
  /** The size the naming item gives it (a chunk's length in a chunked file), when it gives one. */
  size?: number;
  /** A second kind the named item may have instead: a cert's subject and a revision's parent are a revision or a v3 manifest. */
  or?: Kind;
  /** A tree index node's child: the level it must have and the entries it must cover. */
  node?: { level: number; count: number };
}

/**
 * The ids `item` names, in the order it names them: a manifest's files, a
 * chunked file's chunks, a cert's subject and key, a tree node's files,
 * folders and child nodes, a revision's tree and parents.
 */
export function namesOf(item: Item): NamedItem[] {
  switch (item.kind) {
    case Kind.Manifest: {
      const out: NamedItem[] = [];
      for (const e of item.entries) if (e.type !== EntryType.Dir) out.push({ id: e.file!, kind: Kind.File });
      return out;
    }
    case Kind.File:
      return item.layout === 'chunked' ? item.chunks.map((c) => ({ id: c.id, kind: Kind.Chunk, size: c.length })) : [];
    case Kind.Cert:
      return [
        { id: item.manifest, kind: Kind.Revision, or: Kind.Manifest },
        { id: item.key, kind: Kind.Key },
      ];
    case Kind.Tree:
      if (item.level > 0) return item.children.map((c) => ({ id: c.id, kind: Kind.Tree, node: { level: item.level - 1, count: c.count } }));
      return item.entries.flatMap((e) => (e.id ? [{ id: e.id, kind: e.type === EntryType.Dir ? Kind.Tree : Kind.File }] : []));
    case Kind.Revision:
      return [{ id: item.tree, kind: Kind.Tree }, ...item.parents.map((id) => ({ id, kind: Kind.Revision, or: Kind.Manifest }))];
    case Kind.Chunk:
    case Kind.Key:
      return [];
  }
}
