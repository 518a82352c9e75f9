/**
 * Branch history: heads, log entries, resolving a name to a version. A
 * version is a v4 revision (its parents are in the revision itself, indexed
 * in `ancestry`) or a v3 manifest (its parents are `ancestor` certs). The
 * only place that knows how `ancestor` and `date` certs are spelled.
 */
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { Kind, decodeItem } from '../items/format.js';
import type { ReadStore } from './store.js';

export interface LogEntry {
  /** The version's id: a revision's (format v4) or a v3 manifest's. */
  manifest: string;
  /** The revision's id, null for a v3 manifest. */
  revision: string | null;
  /** The revision's tree (its root folder's id), null for a v3 manifest. */
  tree: string | null;
  date: string | null;
  author: string | null;
  changelog: string | null;
  parents: string[];
  certs: { name: string; value: string; signer: string; signerKey: string }[];
}

/**
 * The heads of a branch: its versions that no other version of the branch
 * names as a parent, read from the `heads` table the indexer keeps as branch
 * certs arrive (never a scan of the branch). A revision names its parents
 * itself. A v3 manifest names them in `ancestor` certs, and there "other"
 * means "later", because a manifest is a tree, not a revision: going back to
 * an earlier tree (A, B, A again) gives A an `ancestor` cert naming B while B
 * names A. So a v3 manifest left in the table is dropped here when a
 * manifest of the branch names it in an `ancestor` cert and its newest
 * `date` is not older: the tree committed last is the head.
 */
export function branchHeads(store: ReadStore, branch: string): Buffer[] {
  const bid = store.branchId(branch);
  if (bid === null) return [];
  const rows = store.db
    .prepare<[number], { id: Buffer; kind: number }>('SELECT h.id, i.kind FROM heads h JOIN items i ON i.id = h.id WHERE h.bid = ?')
    .all(bid);
  const newest = store.db.prepare<[Buffer], { d: Buffer | null }>("SELECT max(value) AS d FROM certs WHERE manifest = ? AND name = 'date'");
  const namedBy = store.db.prepare<[string, string], { manifest: Buffer }>(
    `SELECT a.manifest FROM certs a JOIN certs b ON b.manifest = a.manifest AND b.name = 'branch' AND b.value = CAST(? AS BLOB)
     WHERE a.name = 'ancestor' AND a.value = CAST(? AS BLOB)`,
  );
  const dateOf = (id: Buffer) => newest.get(id)?.d?.toString('utf8') ?? '';
  return rows
    .filter((r) => {
      if (r.kind !== Kind.Manifest) return true;
      const own = dateOf(r.id);
      return !namedBy.all(branch, toHex(r.id)).some((c) => !c.manifest.equals(r.id) && dateOf(c.manifest) >= own);
    })
    .map((r) => r.id)
    .sort(Buffer.compare);
}

/** The heads of each branch `selects` chooses, as sorted hex ids joined: what a sync compares before and after. */
export function headsOfBranches(store: ReadStore, selects: (branch: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of store.branches()) if (selects(b.name)) out.set(b.name, branchHeads(store, b.name).map(toHex).join(' '));
  return out;
}

/** The branches whose heads changed since `before` and are now more than one: forks a session brought or left. */
export function forksSince(before: Map<string, string>, after: Map<string, string>): { branch: string; heads: number }[] {
  const out: { branch: string; heads: number }[] = [];
  for (const [branch, heads] of after) {
    const n = heads === '' ? 0 : heads.split(' ').length;
    if (n > 1 && before.get(branch) !== heads) out.push({ branch, heads: n });
  }
  return out;
}

/** The heads of a branch with their dates and authors, newest first: what `heads` prints. */
export function describeHeads(store: ReadStore, branch: string): LogEntry[] {
  if (store.branchId(branch) === null) fail('not-found', `no branch named "${branch}" in ${store.path}`);
  return branchHeads(store, branch)
    .map((h) => describeManifest(store, h))
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.manifest.localeCompare(b.manifest));
}

function certText(value: Buffer): string {
  return value.toString('utf8');
}

/** A revision's parents (hex), or null when `id` is not a revision. */
function revisionOf(store: ReadStore, id: Buffer): { tree: string; parents: string[] } | null {
  const stored = store.get(id);
  if (!stored || stored.kind !== Kind.Revision) return null;
  const item = decodeItem(stored.data);
  if (item.kind !== Kind.Revision) return null;
  return { tree: toHex(item.tree), parents: item.parents.map(toHex) };
}

/** A version as the log shows it: a revision or a v3 manifest, with its certs. */
export function describeManifest(store: ReadStore, manifest: Buffer): LogEntry {
  const revision = revisionOf(store, manifest);
  const certs = store.certsOn(manifest).map((c) => {
    const key = store.key(c.key);
    return { name: c.name, value: certText(c.value), signer: key?.name ?? '?', signerKey: toHex(c.key) };
  });
  const first = (name: string) => certs.find((c) => c.name === name)?.value ?? null;
  return {
    manifest: toHex(manifest),
    revision: revision ? toHex(manifest) : null,
    tree: revision?.tree ?? null,
    date: first('date'),
    author: first('author'),
    changelog: first('changelog'),
    parents: revision?.parents ?? certs.filter((c) => c.name === 'ancestor').map((c) => c.value),
    certs,
  };
}

/** The same as describeManifest, by the name of what it describes in format v4. */
export const describeVersion = describeManifest;

/** Every version (revision or v3 manifest) of the branch, newest first by `date` cert. */
export function branchLog(store: ReadStore, branch: string): LogEntry[] {
  if (store.branchId(branch) === null) fail('not-found', `no branch named "${branch}" in ${store.path}`);
  return store
    .manifestsIn(branch)
    .map((m) => describeManifest(store, m))
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.manifest.localeCompare(b.manifest));
}

/** A branch name (its single head) or a revision or manifest id / unique hex prefix of 3+ bytes. */
export function resolveManifest(store: ReadStore, target: string): Buffer {
  if (store.branchId(target) !== null) {
    const heads = branchHeads(store, target);
    if (heads.length === 1) return heads[0]!;
    fail('usage', `branch "${target}" has ${heads.length} heads (${heads.map((h) => toHex(h).slice(0, 12)).join(', ')}); check out one of them by id`);
  }
  const found = /^[0-9a-f]{6,64}$/i.test(target) ? store.findByHexPrefix(target) : null;
  if (found === 'ambiguous') fail('usage', `"${target}" matches more than one item; give more digits`);
  if (!found || !store.has(found)) fail('not-found', `"${target}" is neither a branch nor a stored item`);
  const kind = store.meta(found)!.kind;
  if (kind !== Kind.Manifest && kind !== Kind.Revision) fail('usage', `${target} is not a revision or a manifest`);
  return found;
}

/** The same as resolveManifest, by the name of what it resolves in format v4. */
export const resolveVersion = resolveManifest;
