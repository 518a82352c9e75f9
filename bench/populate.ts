/**
 * Builds benchmark databases through the real engine (every item verified and
 * indexed as in normal use), fast enough to make a million items.
 */
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '../src/engine/keys/ed25519.js';
import { EntryType, type ManifestEntry, encodeInlineFile, encodeKey, encodeManifest } from '../src/engine/items/format.js';
import type { WriteStore } from '../src/engine/store/store.js';
import { type Signer, signCert } from '../src/engine/workspace/commit.js';

export function benchSigner(): Signer {
  return { name: 'bench@example.org', pair: generateKeyPair() };
}

export interface PopulateOptions {
  branch: string;
  manifests: number;
  filesPerManifest: number;
  fileBytes: number;
  signer: Signer;
  /** Content of file j of manifest i; random by default (incompressible). */
  content?: (i: number, j: number) => Buffer;
  onProgress?: (items: number) => void;
}

/** Returns the number of items the branch's collection gained. */
export function populate(store: WriteStore, o: PopulateOptions): number {
  let items = 0;
  store.batch(() => {
    if (store.put(encodeKey(o.signer.name, o.signer.pair.publicKey)).inserted) items++;
  });
  const content = o.content ?? (() => randomBytes(o.fileBytes));
  for (let i = 0; i < o.manifests; i++) {
    store.batch(() => {
      const entries: ManifestEntry[] = [];
      for (let j = 0; j < o.filesPerManifest; j++) {
        const r = store.put(encodeInlineFile(content(i, j)));
        if (r.inserted) items++;
        entries.push({ path: `d${i}/f${j}`, type: EntryType.File, file: r.id });
      }
      entries.push({ path: `d${i}`, type: EntryType.Dir });
      const manifest = store.put(encodeManifest(entries));
      if (manifest.inserted) items++;
      for (const [name, value] of [
        ['date', new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()],
        ['author', o.signer.name],
        ['changelog', `bench commit ${i}`],
        ['branch', o.branch],
      ] as const) {
        signCert(store, o.signer, manifest.id, name, value);
        items++;
      }
    });
    o.onProgress?.(items);
  }
  return items;
}

/** Adds `n` items to a branch: `tag` certs on its manifests (each one new item, nothing else). */
export function addTags(store: WriteStore, branch: string, signer: Signer, n: number, salt: string): void {
  const manifests = store.manifestsIn(branch);
  store.batch(() => {
    for (let i = 0; i < n; i++) signCert(store, signer, manifests[i % manifests.length]!, 'tag', `${salt}-${i}`);
  });
}
