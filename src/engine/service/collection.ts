/**
 * The collection as the UI sees it: branches, logs, items, checkout. Each
 * call opens its own short-lived handle, so a sync writing through another
 * connection never waits on the UI, and the UI always reads committed state.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import {
  type BranchSummary,
  type CheckoutSummary,
  type CommitPreview,
  type CommitSummary,
  type DatabaseStatus,
  type ItemView,
  type LogEntry,
  type MergeOutcome,
  PREVIEW_LIST_MAX,
} from '../../shared/api.js';
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { EntryType, Kind, type ManifestEntry, type TreeEntry, decodeItem } from '../items/format.js';
import { folderEntries, treeWalk } from '../items/tree.js';
import type { Identity } from '../protocol/api.js';
import { branchHeads, branchLog, describeManifest, resolveManifest } from '../store/history.js';
import { ReadStore, WriteStore } from '../store/store.js';
import { checkoutManifest } from '../workspace/checkout.js';
import { type Signer, commitDirectory } from '../workspace/commit.js';
import { mergeBranch } from '../workspace/merge.js';
import { readRecord } from '../workspace/record.js';
import { type BaseEntry, previewFolder } from '../workspace/preview.js';
import type { SignerTrust } from './content-trust.js';

export function withReadStore<T>(path: string, fn: (store: ReadStore) => T): T {
  const store = ReadStore.open(path);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** Opens the database at `path`, creating it (and its folder) when missing. */
export function openOrCreate(path: string): DatabaseStatus {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    WriteStore.open(path, { create: true }).close();
  } else {
    // A write handle applies pending migrations once; later reads stay read-only.
    WriteStore.open(path).close();
  }
  return databaseStatus(path);
}

export function databaseStatus(path: string): DatabaseStatus {
  return withReadStore(path, (store) => ({ path, items: store.itemCount(), branches: store.branches().length }));
}

export function listBranches(path: string): BranchSummary[] {
  return withReadStore(path, (store) =>
    store.branches().map((b) => ({ name: b.name, items: b.items, root: toHex(b.root), heads: branchHeads(store, b.name).length })),
  );
}

/** Every manifest of the branch, newest first, each cert marked with whether its signer is trusted. */
export function branchHistory(path: string, branch: string, trusted: SignerTrust): LogEntry[] {
  const { log, heads } = withReadStore(path, (store) => ({ log: branchLog(store, branch), heads: new Set(branchHeads(store, branch).map(toHex)) }));
  return log.map((e) => ({ ...e, head: heads.has(e.manifest), certs: e.certs.map((c) => ({ ...c, trusted: trusted(c.signerKey) })) }));
}

/** `merge BRANCH` for the app: a merge revision, or the conflicts that kept it from being committed. */
export function mergeHeads(path: string, branch: string, signer: Signer): MergeOutcome {
  const store = WriteStore.open(path);
  try {
    const r = mergeBranch(store, branch, { signer });
    return { branch, revision: r.revision, heads: branchHeads(store, branch).length, conflicts: r.conflicts };
  } finally {
    store.close();
  }
}

export function showItem(path: string, ref: string, trusted: SignerTrust): ItemView {
  return withReadStore(path, (store) => {
    const found = store.findByHexPrefix(ref);
    if (found === 'ambiguous') fail('usage', `"${ref}" matches more than one item; give more digits`);
    if (!found) fail('not-found', `no item with id ${ref}`);
    const id = toHex(found);
    const item = decodeItem(store.get(found)!.data);
    const signer = (key: Buffer) => store.key(key)?.name ?? '?';
    const certs = () =>
      store
        .certsOn(found)
        .map((c) => ({ name: c.name, value: c.value.toString('utf8'), signer: signer(c.key), signerKey: toHex(c.key), trusted: trusted(toHex(c.key)) }));
    // A revision or a tree node shows as the manifest view does: its paths (the app's "manifest tree").
    const view = (e: TreeEntry & { path: string }) => ({
      path: e.path,
      type: e.type === EntryType.Dir ? ('dir' as const) : e.type === EntryType.Executable ? ('exec' as const) : ('file' as const),
      ...(e.id && e.type !== EntryType.Dir ? { file: toHex(e.id), size: store.meta(e.id)?.size ?? 0 } : {}),
    });
    const read = (i: Buffer) => store.get(i)?.data ?? null;
    switch (item.kind) {
      case Kind.Manifest:
        return {
          kind: 'manifest',
          id,
          entries: item.entries.map((e) => view({ path: e.path, name: e.path, type: e.type, ...(e.file ? { id: e.file } : {}) })),
          certs: certs(),
        };
      case Kind.Revision:
        return { kind: 'manifest', id, entries: [...treeWalk(read, item.tree)].map(view), certs: certs() };
      case Kind.Tree:
        return { kind: 'manifest', id, entries: [...folderEntries(read, found)].map((e) => view({ ...e, path: e.name })), certs: [] };
      case Kind.File:
        return { kind: 'file', id, size: item.size, chunks: item.layout === 'chunked' ? item.chunks.length : 0 };
      case Kind.Chunk:
        return { kind: 'chunk', id, size: item.size };
      case Kind.Cert: {
        const signerKey = toHex(item.key);
        return {
          kind: 'cert',
          id,
          manifest: toHex(item.manifest),
          name: item.name,
          value: item.value.toString('utf8'),
          signer: signer(item.key),
          signerKey,
          trusted: trusted(signerKey),
        };
      }
      case Kind.Key:
        return { kind: 'key', id, name: item.name, publicKey: item.publicKey.toString('base64') };
    }
  });
}

export function checkoutTo(path: string, target: string, dir: string): CheckoutSummary {
  absoluteFolder(dir, 'check out into');
  return withReadStore(path, (store) => {
    const manifest = resolveManifest(store, target);
    const r = checkoutManifest(store, manifest, dir);
    return { manifest: toHex(manifest), dir, files: r.files, dirs: r.dirs, bytes: r.bytes };
  });
}

/** How many heads `branch` has (0 when there is no such branch). */
export function headCount(path: string, branch: string): number {
  return withReadStore(path, (store) => (store.branchId(branch) === null ? 0 : branchHeads(store, branch).length));
}

/** A folder the engine reads or writes: absolute, since a relative one would be read wherever the host process runs. */
function absoluteFolder(dir: string, doing: string): void {
  if (!isAbsolute(dir)) fail('usage', `${doing} an absolute folder path, not "${dir}"`);
}

/** The head a commit is compared with: the single head, or the newest of several (by `date` cert). */
function newestHead(store: ReadStore, heads: readonly Buffer[]): Buffer | null {
  let best: { id: Buffer; date: string } | null = null;
  for (const id of heads) {
    const date = describeManifest(store, id).date ?? '';
    if (!best || date > best.date) best = { id, date };
  }
  return best?.id ?? null;
}

export function previewCommit(path: string, dir: string, branch: string): CommitPreview {
  absoluteFolder(dir, 'commit');
  return withReadStore(path, (store) => {
    const heads = store.branchId(branch) === null ? [] : branchHeads(store, branch);
    const baseId = newestHead(store, heads);
    const base = new Map<string, BaseEntry>();
    if (baseId) {
      const item = decodeItem(store.get(baseId)!.data);
      // A head is a revision (format v4: its tree's entries, walked) or a manifest of format v3.
      const entries: ManifestEntry[] =
        item.kind === Kind.Revision
          ? [...treeWalk((id) => store.get(id)?.data ?? null, item.tree)].map((e) => ({ path: e.path, type: e.type, ...(e.id ? { file: e.id } : {}) }))
          : item.kind === Kind.Manifest
            ? item.entries
            : fail('db-corrupt', `the head of ${branch} is neither a revision nor a manifest`);
      for (const entry of entries) base.set(entry.path, { entry, size: entry.file && entry.type !== EntryType.Dir ? (store.meta(entry.file)?.size ?? 0) : 0 });
    }
    const c = previewFolder(dir, base);
    return {
      dir,
      branch,
      base: baseId ? toHex(baseId) : null,
      heads: heads.length,
      counts: { added: c.added.length, changed: c.changed.length, removed: c.removed.length, unchanged: c.unchanged },
      added: c.added.slice(0, PREVIEW_LIST_MAX),
      changed: c.changed.slice(0, PREVIEW_LIST_MAX),
      removed: c.removed.slice(0, PREVIEW_LIST_MAX),
      files: c.files,
      bytes: c.bytes,
    };
  });
}

/** Commits `dir` as the new head of `branch`, as `netsync commit` does (workspace/commit.ts). */
export async function commitFolder(path: string, dir: string, branch: string, message: string, signer: Identity): Promise<CommitSummary> {
  absoluteFolder(dir, 'commit');
  const store = WriteStore.open(path);
  try {
    // A folder the window never checked out (no workspace record) is committed onto the head its
    // preview was compared with, as `commit --parent` would; one with a record names its own parent.
    const parent = readRecord(dir, store.path) || store.branchId(branch) === null ? null : newestHead(store, branchHeads(store, branch));
    const r = await commitDirectory(store, dir, {
      branch,
      ...(message ? { message } : {}),
      ...(parent ? { parent } : {}),
      signer: { name: signer.name, pair: signer.keyPair },
    });
    return { manifest: r.manifest, branch, files: r.files, bytes: r.bytes, changed: r.changed, signer: signer.name };
  } finally {
    store.close();
  }
}
