/**
 * Helpers of the reliability suite (test/reliability, docs/RELIABILITY.md):
 * big collections built fast and deterministically, pristine database copies,
 * real `netsync` processes with a key, and measurements of a process (RSS,
 * open file descriptors).
 *
 * Sizes: CI by default; `NETSYNC_RELIABILITY=full` for the larger settings.
 */
import { copyFileSync, existsSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { toHex } from '../../src/engine/hash.js';
import { EntryType, type ManifestEntry, encodeInlineFile, encodeKey, encodeManifest } from '../../src/engine/items/format.js';
import type { Identity } from '../../src/engine/protocol/api.js';
import { keyStoreIn } from '../../src/engine/security/identity.js';
import { ReadStore, type WriteStore } from '../../src/engine/store/store.js';
import { type Signer, signCert } from '../../src/engine/workspace/commit.js';
import { OPEN_PERMISSIONS, memberIds } from '../helpers/net.js';
import { SeededRandom } from '../helpers/random.js';
import { tempDir } from '../helpers/temp.js';

/** `NETSYNC_RELIABILITY=full`: the larger settings of docs/RELIABILITY.md. */
export const FULL = process.env.NETSYNC_RELIABILITY === 'full';

/** A number from the environment (for one-off larger runs), else the CI or full default. */
export function envNumber(name: string, ci: number, full: number): number {
  const v = process.env[name];
  if (v !== undefined && v !== '' && Number.isFinite(Number(v))) return Number(v);
  return FULL ? full : ci;
}

/** The seed of a test: $NETSYNC_SEED when set (to replay a failure), else `fallback`. */
export function seedOf(fallback: number): number {
  const v = process.env.NETSYNC_SEED;
  return v !== undefined && v !== '' ? Number(v) >>> 0 : fallback;
}

// ------------------------------------------------------------------ collections

export interface RevisionSpec {
  branch: string;
  /** Index of the revision: it alone decides the revision's content, so two databases built with the same index hold the same items. */
  index: number;
  files: number;
  fileBytes: number;
  seed: number;
}

/**
 * One revision through the engine (every item verified by `put`): a manifest
 * of `files` small inline files, with date, author and branch certs. Its
 * items depend only on the spec and the signer, never on what else the
 * database holds. Returns the number of new items.
 */
export function putRevision(store: WriteStore, signer: Signer, spec: RevisionSpec): number {
  const rnd = new SeededRandom((spec.seed * 1_000_003 + spec.index) >>> 0);
  let n = 0;
  store.batch(() => {
    if (store.put(encodeKey(signer.name, signer.pair.publicKey)).inserted) n++;
    const entries: ManifestEntry[] = [];
    for (let f = 0; f < spec.files; f++) {
      const content = Buffer.concat([Buffer.from(`${spec.branch}/${spec.seed}/${spec.index}/${f}\n`), rnd.bytes(spec.fileBytes)]);
      const r = store.put(encodeInlineFile(content));
      if (r.inserted) n++;
      entries.push({ path: `r${spec.index}/f${f}`, type: EntryType.File, file: r.id });
    }
    entries.push({ path: `r${spec.index}`, type: EntryType.Dir });
    const manifest = store.put(encodeManifest(entries));
    if (manifest.inserted) n++;
    const before = store.itemCount();
    signCert(store, signer, manifest.id, 'date', new Date(Date.UTC(2024, 0, 1) + spec.index * 60_000).toISOString());
    signCert(store, signer, manifest.id, 'author', signer.name);
    signCert(store, signer, manifest.id, 'branch', spec.branch);
    n += store.itemCount() - before;
  });
  return n;
}

/** Revisions `indices` of one branch; returns the number of new items. */
export function putRevisions(
  store: WriteStore,
  signer: Signer,
  branch: string,
  indices: Iterable<number>,
  files: number,
  fileBytes: number,
  seed: number,
): number {
  let n = 0;
  for (const index of indices) n += putRevision(store, signer, { branch, index, files, fileBytes, seed });
  return n;
}

export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

// ------------------------------------------------------------------ databases

/**
 * Copies a closed database file to `to`: a pristine starting state, in
 * milliseconds. Its write-ahead log must be empty (a read-only handle leaves
 * an empty one behind), so the main file holds everything.
 */
export function copyDb(from: string, to: string): void {
  if (existsSync(`${from}-wal`) && statSync(`${from}-wal`).size > 0) throw new Error(`${from}-wal is not empty: close every writer before copying`);
  copyFileSync(from, to);
}

/** Every stored item's id (hex), read without the items' bytes. */
export function itemIdSet(path: string): Set<string> {
  const s = ReadStore.open(path);
  try {
    const out = new Set<string>();
    for (const row of s.db.prepare<[], { id: Buffer }>('SELECT id FROM items').iterate()) out.add(toHex(row.id));
    return out;
  } finally {
    s.close();
  }
}

/** A branch's members as the index holds them (hex ids). */
export function membersOf(path: string, branch: string): Set<string> {
  const s = ReadStore.open(path);
  try {
    return memberIds(s, branch);
  } finally {
    s.close();
  }
}

export function setEquals(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Elements of `a` missing from `b` (at most `limit`, for messages). */
export function missingFrom(a: Iterable<string>, b: ReadonlySet<string>, limit = 5): string[] {
  const out: string[] = [];
  for (const x of a) {
    if (!b.has(x)) out.push(x);
    if (out.length >= limit) break;
  }
  return out;
}

// ------------------------------------------------------------------ keys and config folders

/**
 * A config folder holding one key (made with the KeyStore API, as `key
 * generate` does) and open permissions. A client using the same folder is
 * the server's own key: it may read and write everything.
 */
export function keyedConfig(name = 'server@example.org'): { dir: string; identity: Identity } {
  const dir = tempDir('netsync-rel-cfg-');
  const keyPair = keyStoreIn(dir).generate(name);
  writeFileSync(join(dir, 'permissions'), OPEN_PERMISSIONS);
  return { dir, identity: { name, keyPair } };
}

// ------------------------------------------------------------------ process measurements

/** Resident set size and its peak (VmHWM) of a process, in bytes; null once it is gone. */
export function processMemory(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Open file descriptors of a process (sockets, the database and its WAL, pipes); null once it is gone. */
export function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Open sockets among a process's descriptors. */
export function openSockets(pid: number): number | null {
  try {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
      } catch {
        // closed while we looked
      }
    }
    return n;
  } catch {
    return null;
  }
}

/** A garbage collection, when it can be had (v8 flag set at run time: vitest's workers are not started with --expose-gc). */
let gcFn: (() => void) | null = null;
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

/** Heap in use after a full collection, in bytes. */
export function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

export const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(1)} MiB`;
