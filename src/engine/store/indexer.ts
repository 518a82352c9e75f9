/**
 * Keeps the derived tables (refs, certs, keys, branches, members, ancestry)
 * and the tries in step with `items`.
 *
 * Collection membership (docs/PRODUCT.md, refined in docs/FORMAT.md §9): a
 * branch's collection holds the versions (v4 revisions, v3 manifests)
 * carrying a `branch` cert naming it, everything they name down to the
 * chunks (a revision's tree nodes, files and chunks, and its ancestor
 * revisions with theirs), the certs on those versions and the keys that
 * signed them; of the `branch` certs, only those naming this branch. A
 * manifest put into a branch a peer may read and one it may not carries both
 * names, and the reader of the first must not learn the second
 * (docs/SECURITY.md).
 * References are always stored before what names them (verify.ts), so when a
 * `branch` cert arrives the whole closure of its manifest is already there.
 *
 * Two ways to the same result: `indexItem` (one item at a time, as `put`
 * stores it) and `bulk` (a whole database at once: rebuild and check). `db
 * check` builds the bulk index and compares it with the incremental one, so
 * each path checks the other.
 */
import type Database from 'better-sqlite3';
import { TrieWriter } from './trie-table.js';
import { type Item, Kind, decodeItem, manifestFileIds, storedReferences } from '../items/format.js';
import { namesOf } from '../items/names.js';

interface CertOnManifest {
  id: Buffer;
  key: Buffer;
  name: string;
  value: Buffer;
}

/** Whether a cert on a manifest of `branch` is in that branch's collection: all are, but `branch` certs naming another branch. */
function joinsBranch(cert: { name: string; value: Buffer }, branch: string): boolean {
  return cert.name !== 'branch' || cert.value.toString('utf8') === branch;
}

/** New members of one branch held for its trie before they are applied within the transaction. */
const PENDING_MAX = 131_072;

export class Indexer {
  private readonly pending = new Map<number, Buffer[]>();
  /** The manifest indexed last, decoded (its branch cert usually follows at once). */
  private lastManifest: { id: Buffer; item: Item } | null = null;
  private readonly s;

  /** @param schema '' for the live index, or 'chk.' for the fresh copy `db check` compares against. */
  constructor(
    private readonly db: Database.Database,
    private readonly schema = '',
  ) {
    const t = (name: string) => `${schema}${name}`;
    this.s = {
      ref: db.prepare<[Buffer, Buffer]>(`INSERT OR IGNORE INTO ${t('refs')} (parent, child) VALUES (?, ?)`),
      cert: db.prepare<[Buffer, Buffer, Buffer, string, Buffer]>(`INSERT OR IGNORE INTO ${t('certs')} (id, manifest, key, name, value) VALUES (?, ?, ?, ?, ?)`),
      key: db.prepare<[Buffer, string, Buffer]>(`INSERT OR IGNORE INTO ${t('keys')} (id, name, public_key) VALUES (?, ?, ?)`),
      branchId: db.prepare<[string], { bid: number }>(`SELECT bid FROM ${t('branches')} WHERE name = ?`),
      newBranch: db.prepare<[string]>(`INSERT INTO ${t('branches')} (name) VALUES (?)`),
      branchesOf: db
        .prepare<[Buffer], number>(
          `SELECT b.bid FROM ${t('certs')} c JOIN ${t('branches')} b ON b.name = CAST(c.value AS TEXT)
         WHERE c.manifest = ? AND +c.name = 'branch'`, // '+': look certs up by manifest, never scan every branch cert
        )
        .pluck(),
      member: db.prepare<[number, Buffer]>(`INSERT OR IGNORE INTO ${t('members')} (bid, id) VALUES (?, ?)`),
      parent: db.prepare<[Buffer, Buffer]>(`INSERT OR IGNORE INTO ${t('ancestry')} (child, parent) VALUES (?, ?)`),
      // A version joins its branch's heads unless a version of the branch already names it as a parent;
      // its parents leave them. Either order of arrival gives the same table.
      head: db.prepare<{ bid: number; id: Buffer; branch: string }>(
        `INSERT OR IGNORE INTO ${t('heads')} (bid, id) SELECT @bid, @id WHERE NOT EXISTS (
           SELECT 1 FROM ${t('ancestry')} a JOIN ${t('certs')} c ON c.manifest = a.child
           WHERE a.parent = @id AND +c.name = 'branch' AND c.value = CAST(@branch AS BLOB))`,
      ),
      notHeads: db.prepare<[number, Buffer]>(`DELETE FROM ${t('heads')} WHERE bid = ? AND id IN (SELECT parent FROM ${t('ancestry')} WHERE child = ?)`),
      chunks: db.prepare<[Buffer], Buffer>(`SELECT child FROM ${t('refs')} WHERE parent = ?`).pluck(),
      certsOn: db.prepare<[Buffer], CertOnManifest>(`SELECT id, key, name, value FROM ${t('certs')} WHERE manifest = ?`),
      // Items are always read from the live database, whichever index is built.
      data: db.prepare<[Buffer], Buffer>('SELECT data FROM main.items WHERE id = ?').pluck(),
    };
  }

  /** Indexes one item just stored (called by WriteStore.put, in its transaction). */
  indexItem(id: Buffer, item: Item): void {
    // A commit or a sync stores a manifest just before its branch cert: keep it decoded.
    if (item.kind === Kind.Manifest) this.lastManifest = { id, item };
    this.record(id, item);
    if (item.kind !== Kind.Cert) return;
    if (item.name === 'branch') {
      // Brings the manifest into the branch it names, this cert with it, and into no other.
      const branch = item.value.toString('utf8');
      const bid = this.ensureBranch(branch);
      this.s.head.run({ bid, id: item.manifest, branch });
      this.s.notHeads.run(bid, item.manifest);
      if (this.s.data.get(item.manifest)![0] === Kind.Revision) this.addRevision(bid, branch, item.manifest);
      else this.addManifest(bid, branch, item.manifest);
      return;
    }
    for (const bid of this.s.branchesOf.all(item.manifest)) {
      this.addMember(bid, id);
      this.addMember(bid, item.key);
    }
  }

  /** The decoded tables: what both paths share. */
  private record(id: Buffer, item: Item): void {
    switch (item.kind) {
      case Kind.File:
        if (item.layout === 'chunked') for (const c of item.chunks) this.s.ref.run(id, c.id);
        return;
      case Kind.Key:
        this.s.key.run(id, item.name, item.publicKey);
        return;
      case Kind.Cert:
        this.s.cert.run(id, item.manifest, item.key, item.name, item.value);
        if (item.name === 'branch') this.ensureBranch(item.value.toString('utf8'));
        return;
      case Kind.Revision:
        for (const p of item.parents) this.s.parent.run(id, p);
        return;
      case Kind.Manifest:
      case Kind.Chunk:
      case Kind.Tree:
        return;
    }
  }

  private ensureBranch(name: string): number {
    const row = this.s.branchId.get(name);
    if (row) return row.bid;
    return Number(this.s.newBranch.run(name).lastInsertRowid);
  }

  /** Every item a manifest brings into a branch besides certs: itself, its files, their chunks. */
  private closure(manifest: Buffer, chunksOf: (file: Buffer) => Buffer[] = (f) => this.s.chunks.all(f)): Buffer[] {
    const last = this.lastManifest?.id.equals(manifest) ? this.lastManifest.item : null;
    let files: Buffer[];
    if (last) {
      if (last.kind !== Kind.Manifest) return [];
      files = namesOf(last).map((n) => n.id);
    } else {
      const bytes = this.s.data.get(manifest)!;
      if (bytes[0] !== Kind.Manifest) return [];
      files = manifestFileIds(bytes); // stored, so verified already
    }
    const out: Buffer[] = [manifest];
    for (const file of files) {
      out.push(file);
      for (const chunk of chunksOf(file)) out.push(chunk);
    }
    return out;
  }

  /** Adds a manifest's whole closure to a branch's collection. */
  private addManifest(bid: number, branch: string, manifest: Buffer): void {
    // In key order: a B-tree takes sorted inserts several times faster (a
    // 100,000-file manifest's members in path order land all over the index).
    for (const id of sortIds(this.closure(manifest), true)) this.addMember(bid, id);
    for (const c of this.s.certsOn.all(manifest)) {
      if (!joinsBranch(c, branch)) continue;
      this.addMember(bid, c.id);
      this.addMember(bid, c.key);
    }
  }

  /**
   * Adds a revision, everything it names (tree nodes, files, chunks, ancestor
   * revisions or manifests and theirs) and its certs to a branch. A member's
   * whole closure is always a member too, so the walk stops at any item the
   * branch already holds: a commit that changed one file adds a few nodes,
   * not the tree.
   */
  private addRevision(bid: number, branch: string, revision: Buffer): void {
    this.walkClosure(
      revision,
      (id) => this.addMember(bid, id),
      (f) => this.s.chunks.all(f),
    );
    for (const c of this.s.certsOn.all(revision)) {
      if (!joinsBranch(c, branch)) continue;
      this.addMember(bid, c.id);
      this.addMember(bid, c.key);
    }
  }

  /**
   * Visits `root` and everything it names, depth first, entering only items
   * for which `enter` returns true (false: already visited, and so is its closure).
   */
  private walkClosure(root: Buffer, enter: (id: Buffer) => boolean, chunksOf: (file: Buffer) => Buffer[]): void {
    const stack: { id: Buffer; kind: Kind | null }[] = [{ id: root, kind: Kind.Revision }];
    for (let next = stack.pop(); next; next = stack.pop()) {
      const { id, kind } = next;
      if (!enter(id)) continue;
      if (kind === Kind.File) {
        for (const c of chunksOf(id)) enter(c);
        continue;
      }
      const bytes = this.s.data.get(id)!;
      if (bytes[0] === Kind.Manifest) {
        // A v3 manifest as an ancestor: its files and their chunks.
        for (const f of this.closure(id, chunksOf)) enter(f);
        continue;
      }
      for (const r of storedReferences(bytes)) stack.push(r);
    }
  }

  /** Adds a member; false when the branch held it already. */
  private addMember(bid: number, id: Buffer): boolean {
    if (this.s.member.run(bid, id).changes === 0) return false;
    let list = this.pending.get(bid);
    if (!list) this.pending.set(bid, (list = []));
    list.push(id);
    // One transaction may bring a whole collection into a branch (a clone's branch certs
    // arrive last): apply it to the trie in slices, so memory does not grow with the branch.
    if (list.length >= PENDING_MAX) {
      this.trieWriter(bid).add(sortIds(list));
      this.pending.delete(bid);
    }
    return true;
  }

  /** Applies pending members to the tries; called just before a transaction commits. */
  flush(): void {
    for (const [bid, ids] of this.pending) this.trieWriter(bid).add(sortIds(ids));
    this.pending.clear();
    // Not kept past its transaction: a big manifest decoded is tens of MB in a long-lived process.
    this.lastManifest = null;
  }

  /** Forgets pending work of a transaction that rolled back. */
  reset(): void {
    this.pending.clear();
    this.lastManifest = null;
  }

  private trieWriter(bid: number): TrieWriter {
    return new TrieWriter(this.db, bid, { members: `${this.schema}members`, trie: `${this.schema}trie` });
  }

  /**
   * Indexes a whole database into empty tables: first the decoded tables
   * from every indexable item (in storage order), then each branch's members
   * gathered in memory, sorted once, written in key order (what a B-tree
   * takes fastest) and turned into the trie from the same sorted list.
   */
  bulk(items: Iterable<{ id: Buffer; data: Buffer }>, onProgress?: (n: number) => void): number {
    let n = 0;
    for (const row of items) {
      this.record(row.id, decodeItem(row.data));
      if (++n % 10_000 === 0) onProgress?.(n);
    }
    const t = (name: string) => `${this.schema}${name}`;
    this.db.exec(
      `INSERT OR IGNORE INTO ${t('heads')} (bid, id)
       SELECT b.bid, c.manifest FROM ${t('certs')} c JOIN ${t('branches')} b ON b.name = CAST(c.value AS TEXT)
       WHERE c.name = 'branch' AND NOT EXISTS (
         SELECT 1 FROM ${t('ancestry')} a JOIN ${t('certs')} k ON k.manifest = a.child
         WHERE a.parent = c.manifest AND +k.name = 'branch' AND k.value = c.value)`,
    );
    const branchCerts = this.db
      .prepare<[], { bid: number; name: string; manifest: Buffer }>(
        `SELECT b.bid, b.name, c.manifest FROM ${t('certs')} c JOIN ${t('branches')} b ON b.name = CAST(c.value AS TEXT)
         WHERE c.name = 'branch' ORDER BY b.bid`,
      )
      .all();
    // The few chunked files' chunks, read at once instead of one query per file.
    const chunked = new Map<string, Buffer[]>();
    for (const r of this.db.prepare<[], { parent: Buffer; child: Buffer }>(`SELECT parent, child FROM ${t('refs')}`).iterate()) {
      const k = r.parent.toString('hex');
      chunked.set(k, [...(chunked.get(k) ?? []), r.child]);
    }
    const chunksOf = (file: Buffer) => (chunked.size === 0 ? [] : (chunked.get(file.toString('hex')) ?? []));
    const byBranch = new Map<number, Buffer[]>();
    // A manifest in several branches is decoded once; its certs are chosen per branch.
    const closures = new Map<string, { items: Buffer[]; certs: CertOnManifest[] }>();
    /** Per branch, the revisions' closures walked so far (a revision's ancestors are mostly walked already). */
    const walked = new Map<number, Set<string>>();
    for (const { bid, name, manifest } of branchCerts) {
      let members = byBranch.get(bid);
      if (!members) byBranch.set(bid, (members = []));
      if (this.s.data.get(manifest)![0] === Kind.Revision) {
        let seen = walked.get(bid);
        if (!seen) walked.set(bid, (seen = new Set()));
        const into = members;
        const enter = (id: Buffer) => {
          const hex = id.toString('hex');
          if (seen.has(hex)) return false;
          seen.add(hex);
          into.push(id);
          return true;
        };
        this.walkClosure(manifest, enter, chunksOf);
        for (const c of this.s.certsOn.all(manifest)) if (joinsBranch(c, name)) members.push(c.id, c.key);
        continue;
      }
      const key = manifest.toString('hex');
      let closure = closures.get(key);
      if (!closure) {
        closure = { items: this.closure(manifest, chunksOf), certs: this.s.certsOn.all(manifest) };
        closures.set(key, closure);
      }
      for (const id of closure.items) members.push(id);
      for (const c of closure.certs) if (joinsBranch(c, name)) members.push(c.id, c.key);
    }
    for (const [bid, members] of byBranch) {
      // Sorted once (numeric keys, see sortIds), repeats dropped (a key signs many certs,
      // a file may be in many manifests), written in key order: what a B-tree takes fastest.
      const sorted = sortIds(members, true);
      for (const id of sorted) this.s.member.run(bid, id);
      this.trieWriter(bid).add(sorted);
    }
    return n;
  }
}

/** Ids sorted at once by sortIds's packed keys: the index must fit in 21 bits next to a 32-bit prefix. */
const PACKED_MAX = 1 << 21;

/**
 * Ids in ascending byte order (with `dropRepeats`, each once). They are
 * hashes, so their first four bytes almost always decide: each id becomes
 * one double, prefix * 2^21 + position (exact: 53 bits), and a typed array
 * sorts those natively; the rare runs that share a prefix are then ordered
 * by the whole id. A comparator called per comparison, over Buffers or even
 * numeric keys, is far slower than a typed array's native sort, and a
 * commit, a clone and a rebuild each sort every new member
 * (docs/PERFORMANCE.md, "Ids sorted natively").
 */
export function sortIds(ids: Buffer[], dropRepeats = false): Buffer[] {
  const n = ids.length;
  if (n >= PACKED_MAX) return sortIdsByComparator(ids, dropRepeats);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const b = ids[i]!;
    keys[i] = (b[0]! * 0x1000000 + b[1]! * 0x10000 + b[2]! * 0x100 + b[3]!) * PACKED_MAX + i;
  }
  keys.sort();
  const sorted: Buffer[] = new Array(n);
  const prefix = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const p = Math.floor(keys[i]! / PACKED_MAX);
    prefix[i] = p;
    sorted[i] = ids[keys[i]! - p * PACKED_MAX]!;
  }
  for (let i = 1; i < n; i++) {
    if (prefix[i] !== prefix[i - 1]) continue;
    let last = i;
    while (last + 1 < n && prefix[last + 1] === prefix[i]) last++;
    const run = sorted.slice(i - 1, last + 1).sort(Buffer.compare);
    for (let k = 0; k < run.length; k++) sorted[i - 1 + k] = run[k]!;
    i = last;
  }
  if (!dropRepeats) return sorted;
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || prefix[i] !== prefix[i - 1] || !sorted[i]!.equals(sorted[i - 1]!)) out.push(sorted[i]!);
  return out;
}

/** sortIds for more ids than its packed keys can number: a comparator over 6-byte numeric keys. */
export function sortIdsByComparator(ids: Buffer[], dropRepeats: boolean): Buffer[] {
  const keys = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) keys[i] = ids[i]!.readUIntBE(0, 6);
  const order = Array.from(ids.keys()).sort((a, b) => keys[a]! - keys[b]! || Buffer.compare(ids[a]!, ids[b]!));
  if (!dropRepeats) return order.map((i) => ids[i]!);
  const out: Buffer[] = [];
  let prev = -1;
  for (const i of order) {
    if (prev < 0 || keys[i] !== keys[prev] || !ids[i]!.equals(ids[prev]!)) out.push(ids[i]!);
    prev = i;
  }
  return out;
}
