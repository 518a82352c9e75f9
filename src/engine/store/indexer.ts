/**
 * Keeps the derived tables (refs, certs, keys, branches, members) and the
 * tries in step with `items`. `indexItem` is called for each stored item in
 * the order it was stored, both by `put` and by `rebuild`, so an incremental
 * index and a rebuilt one are the same by construction.
 *
 * Collection membership (PRODUCT.md): a branch's collection holds the
 * manifests carrying a `branch` cert naming it, their files and chunks, every
 * cert on those manifests and the keys that signed them. References are
 * always stored before what names them (verify.ts), so when a `branch` cert
 * arrives the whole closure of its manifest is already there.
 */
import type Database from 'better-sqlite3';
import { TrieWriter } from '../index/persistent-trie.js';
import { EntryType, type Item, Kind } from '../items/format.js';

export class Indexer {
  private readonly pending = new Map<number, Buffer[]>();
  private readonly s;

  /** @param schema '' for the live index, or 'chk.' for the fresh copy `db check` compares against. */
  constructor(
    private readonly db: Database.Database,
    private readonly schema = '',
  ) {
    const t = (name: string) => `${schema}${name}`;
    this.s = {
      ref: db.prepare<[Buffer, Buffer]>(`INSERT OR IGNORE INTO ${t('refs')} (parent, child) VALUES (?, ?)`),
      cert: db.prepare<[Buffer, Buffer, Buffer, string, Buffer]>(
        `INSERT OR IGNORE INTO ${t('certs')} (id, manifest, key, name, value) VALUES (?, ?, ?, ?, ?)`,
      ),
      key: db.prepare<[Buffer, string, Buffer]>(`INSERT OR IGNORE INTO ${t('keys')} (id, name, public_key) VALUES (?, ?, ?)`),
      branchId: db.prepare<[string], { bid: number }>(`SELECT bid FROM ${t('branches')} WHERE name = ?`),
      newBranch: db.prepare<[string]>(`INSERT INTO ${t('branches')} (name) VALUES (?)`),
      branchesOf: db.prepare<[Buffer], { bid: number }>(
        `SELECT b.bid FROM ${t('certs')} c JOIN ${t('branches')} b ON b.name = CAST(c.value AS TEXT)
         WHERE c.manifest = ? AND c.name = 'branch'`,
      ),
      member: db.prepare<[number, Buffer]>(`INSERT OR IGNORE INTO ${t('members')} (bid, id) VALUES (?, ?)`),
      files: db.prepare<[Buffer], { id: Buffer }>(`SELECT child AS id FROM ${t('refs')} WHERE parent = ?`),
      chunks: db.prepare<[Buffer], { id: Buffer }>(
        `SELECT DISTINCT r2.child AS id FROM ${t('refs')} r1 JOIN ${t('refs')} r2 ON r2.parent = r1.child WHERE r1.parent = ?`,
      ),
      certsOn: db.prepare<[Buffer], { id: Buffer; key: Buffer }>(`SELECT id, key FROM ${t('certs')} WHERE manifest = ?`),
    };
  }

  indexItem(id: Buffer, item: Item): void {
    switch (item.kind) {
      case Kind.File:
        if (item.layout === 'chunked') for (const c of item.chunks) this.s.ref.run(id, c.id);
        return;
      case Kind.Manifest:
        for (const e of item.entries) if (e.type !== EntryType.Dir) this.s.ref.run(id, e.file!);
        return;
      case Kind.Key:
        this.s.key.run(id, item.name, item.publicKey);
        return;
      case Kind.Cert:
        this.indexCert(id, item);
        return;
      case Kind.Chunk:
        return;
    }
  }

  private indexCert(id: Buffer, cert: Extract<Item, { kind: Kind.Cert }>): void {
    this.s.cert.run(id, cert.manifest, cert.key, cert.name, cert.value);
    if (cert.name === 'branch') this.addManifest(this.ensureBranch(cert.value.toString('utf8')), cert.manifest);
    for (const { bid } of this.s.branchesOf.all(cert.manifest)) {
      this.addMember(bid, id);
      this.addMember(bid, cert.key);
    }
  }

  private ensureBranch(name: string): number {
    const row = this.s.branchId.get(name);
    if (row) return row.bid;
    return Number(this.s.newBranch.run(name).lastInsertRowid);
  }

  /** Adds a manifest's whole closure to a branch's collection. */
  private addManifest(bid: number, manifest: Buffer): void {
    this.addMember(bid, manifest);
    for (const { id } of this.s.files.all(manifest)) this.addMember(bid, id);
    for (const { id } of this.s.chunks.all(manifest)) this.addMember(bid, id);
    for (const { id, key } of this.s.certsOn.all(manifest)) {
      this.addMember(bid, id);
      this.addMember(bid, key);
    }
  }

  private addMember(bid: number, id: Buffer): void {
    if (this.s.member.run(bid, id).changes === 0) return;
    let list = this.pending.get(bid);
    if (!list) this.pending.set(bid, (list = []));
    list.push(id);
  }

  /** Applies pending members to the tries; called just before a transaction commits. */
  flush(): void {
    for (const [bid, ids] of this.pending) {
      ids.sort(Buffer.compare);
      new TrieWriter(this.db, bid, { members: `${this.schema}members`, trie: `${this.schema}trie` }).add(ids);
    }
    this.pending.clear();
  }

  /** Forgets pending work of a transaction that rolled back. */
  reset(): void {
    this.pending.clear();
  }
}
