/**
 * Branch history read from certs: heads, log entries. The only place that
 * knows how `ancestor` and `date` certs are spelled.
 */
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { Kind } from '../items/format.js';
import type { ReadStore } from './store.js';

export interface LogEntry {
  manifest: string;
  date: string | null;
  author: string | null;
  changelog: string | null;
  parents: string[];
  certs: { name: string; value: string; signer: string; signerKey: string }[];
}

/**
 * The heads of a branch: its manifests that no later manifest of the branch
 * names as `ancestor`. "Later" matters because a manifest is a tree, not a
 * revision: going back to an earlier tree (A, B, A again) gives A an
 * `ancestor` cert naming B while B names A. A child supersedes its ancestor
 * only when the child's newest `date` is not older than the ancestor's, so
 * the tree committed last is the head.
 */
export function branchHeads(store: ReadStore, branch: string): Buffer[] {
  const rows = store.db
    .prepare<[string], { manifest: Buffer; name: string; value: Buffer }>(
      `WITH m AS (SELECT DISTINCT manifest FROM certs WHERE name = 'branch' AND value = CAST(? AS BLOB))
       SELECT m.manifest, c.name, c.value FROM m LEFT JOIN certs c
         ON c.manifest = m.manifest AND c.name IN ('date', 'ancestor')`,
    )
    .all(branch);
  const info = new Map<string, { id: Buffer; newest: string; parents: string[] }>();
  for (const r of rows) {
    const hex = toHex(r.manifest);
    let m = info.get(hex);
    if (!m) info.set(hex, (m = { id: r.manifest, newest: '', parents: [] }));
    if (r.name === 'date' && r.value.toString('utf8') > m.newest) m.newest = r.value.toString('utf8');
    if (r.name === 'ancestor') m.parents.push(r.value.toString('utf8'));
  }
  const superseded = new Set<string>();
  for (const child of info.values()) {
    for (const p of child.parents) {
      const parent = info.get(p);
      if (parent && child.newest >= parent.newest) superseded.add(p);
    }
  }
  return [...info.entries()]
    .filter(([hex]) => !superseded.has(hex))
    .map(([, m]) => m.id)
    .sort(Buffer.compare);
}

function certText(value: Buffer): string {
  return value.toString('utf8');
}

export function describeManifest(store: ReadStore, manifest: Buffer): LogEntry {
  const certs = store.certsOn(manifest).map((c) => {
    const key = store.key(c.key);
    return { name: c.name, value: certText(c.value), signer: key?.name ?? '?', signerKey: toHex(c.key) };
  });
  const first = (name: string) => certs.find((c) => c.name === name)?.value ?? null;
  return {
    manifest: toHex(manifest),
    date: first('date'),
    author: first('author'),
    changelog: first('changelog'),
    parents: certs.filter((c) => c.name === 'ancestor').map((c) => c.value),
    certs,
  };
}

/** Every manifest of the branch, newest first by `date` cert. */
export function branchLog(store: ReadStore, branch: string): LogEntry[] {
  if (store.branchId(branch) === null) fail('not-found', `no branch named "${branch}" in ${store.path}`);
  return store
    .manifestsIn(branch)
    .map((m) => describeManifest(store, m))
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.manifest.localeCompare(b.manifest));
}

/** A branch name (its single head) or a manifest id / unique hex prefix of 4+ bytes. */
export function resolveManifest(store: ReadStore, target: string): Buffer {
  if (store.branchId(target) !== null) {
    const heads = branchHeads(store, target);
    if (heads.length === 1) return heads[0]!;
    fail('usage', `branch "${target}" has ${heads.length} heads (${heads.map((h) => toHex(h).slice(0, 12)).join(', ')}); check out one of them by id`);
  }
  const found = /^[0-9a-f]{6,64}$/i.test(target) ? store.findByHexPrefix(target) : null;
  if (found === 'ambiguous') fail('usage', `"${target}" matches more than one item; give more digits`);
  if (!found || !store.has(found)) fail('not-found', `"${target}" is neither a branch nor a stored item`);
  if (store.meta(found)!.kind !== Kind.Manifest) fail('usage', `${target} is not a manifest`);
  return found;
}
