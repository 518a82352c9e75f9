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

/** Manifests of the branch that no other manifest of the branch names as `ancestor`. */
export function branchHeads(store: ReadStore, branch: string): Buffer[] {
  return store.db
    .prepare<[string, string], { manifest: Buffer }>(
      `WITH m AS (SELECT DISTINCT manifest FROM certs WHERE name = 'branch' AND value = CAST(? AS BLOB))
       SELECT m.manifest FROM m
       WHERE NOT EXISTS (
         SELECT 1 FROM certs a JOIN certs b ON b.manifest = a.manifest
         WHERE a.name = 'ancestor' AND a.value = CAST(lower(hex(m.manifest)) AS BLOB)
           AND b.name = 'branch' AND b.value = CAST(? AS BLOB))
       ORDER BY m.manifest`,
    )
    .all(branch, branch)
    .map((r) => r.manifest);
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
    fail(
      'usage',
      `branch "${target}" has ${heads.length} heads (${heads.map((h) => toHex(h).slice(0, 12)).join(', ')}); check out one of them by id`,
    );
  }
  const found = /^[0-9a-f]{6,64}$/i.test(target) ? store.findByHexPrefix(target) : null;
  if (found === 'ambiguous') fail('usage', `"${target}" matches more than one item; give more digits`);
  if (!found || !store.has(found)) fail('not-found', `"${target}" is neither a branch nor a stored item`);
  if (store.meta(found)!.kind !== Kind.Manifest) fail('usage', `${target} is not a manifest`);
  return found;
}
