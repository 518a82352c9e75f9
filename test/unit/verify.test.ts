/**
 * What `WriteStore.put` accepts: bytes that hash to the claimed id, decode
 * canonically, name only stored items of the right kind, and (certs) carry a
 * signature that verifies. Whatever it refuses leaves no trace: not an item
 * row, not an index row.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { sha256 } from '../../src/engine/hash.js';
import { signBytes } from '../../src/engine/keys/ed25519.js';
import {
  EntryType,
  certSignedBytes,
  encodeCert,
  encodeChunk,
  encodeChunkedFile,
  encodeInlineFile,
  encodeManifest,
  itemId,
} from '../../src/engine/items/format.js';
import { checkDatabase } from '../../src/engine/store/maintenance.js';
import type { WriteStore } from '../../src/engine/store/store.js';
import { INDEX_TABLES } from '../../src/engine/store/index-tables.js';
import { countRows, fixedSigner, keyIdOf, keyItemOf, newStore, newStoreWithKey, putCert, putInlineFile, putManifest, signedCert } from '../helpers/store.js';

const open: WriteStore[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function track<T extends { store: WriteStore }>(s: T): T {
  open.push(s.store);
  return s;
}

/** Row counts of items and every index table: what "nothing was stored" compares. */
function footprint(store: WriteStore): Record<string, number> {
  const out: Record<string, number> = { items: countRows(store, 'items') };
  for (const t of INDEX_TABLES) out[t] = countRows(store, t);
  return out;
}

/** `fn` must throw a NetsyncError with `code` and change nothing in the database. */
function expectRefusedPut(store: WriteStore, code: string, fn: () => unknown, message?: RegExp): void {
  const before = footprint(store);
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(NetsyncError);
  expect((caught as NetsyncError).code).toBe(code);
  if (message) expect((caught as NetsyncError).message).toMatch(message);
  expect(footprint(store)).toEqual(before);
}

describe('hashing', () => {
  it('an item is stored under SHA-256 of its bytes, and put says so', () => {
    const { store } = track(newStore());
    const bytes = encodeInlineFile(Buffer.from('content'));
    const r = store.put(bytes);
    expect(r.id).toEqual(sha256(bytes));
    expect(r.inserted).toBe(true);
    expect(store.get(r.id)!.data).toEqual(bytes);
    expect(store.put(bytes, r.id)).toMatchObject({ inserted: false });
    expect(countRows(store, 'items')).toBe(1);
  });

  it('tampered bytes under the original id are refused as bad-item', () => {
    const { store } = track(newStore());
    const bytes = encodeInlineFile(Buffer.from('the original content'));
    const id = itemId(bytes);
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0x01;
    expectRefusedPut(store, 'bad-item', () => store.put(tampered, id), /hash to .* not to the claimed id/);
    expectRefusedPut(store, 'bad-item', () => store.put(bytes, Buffer.alloc(32)));
    expect(store.has(id)).toBe(false);
    store.put(bytes, id);
    expect(store.has(id)).toBe(true);
  });

  it('undecodable bytes are refused before anything is written', () => {
    const { store } = track(newStore());
    expectRefusedPut(store, 'bad-item', () => store.put(Buffer.of(9, 9, 9)));
    expectRefusedPut(store, 'too-large', () => store.put(Buffer.alloc((8 << 20) + 1, 2)));
  });
});

describe('verification', () => {
  it('a cert with a bad signature is refused (bad-signature)', () => {
    const { store, signer } = track(newStoreWithKey());
    const manifest = putManifest(store, { 'a.txt': putInlineFile(store, 'a') });
    const good = signedCert(signer, manifest, 'branch', 'org.example.a');
    const bad = Buffer.from(good);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x80; // flip a signature bit
    expectRefusedPut(store, 'bad-signature', () => store.put(bad), /does not verify against key "alice@example.org"/);
    // A signature over a different value does not transfer.
    const other = signedCert(signer, manifest, 'branch', 'org.example.b');
    const spliced = Buffer.concat([good.subarray(0, good.length - 64), other.subarray(other.length - 64)]);
    expectRefusedPut(store, 'bad-signature', () => store.put(spliced));
    store.put(good);
  });

  it('a signature made without the domain tag is refused', () => {
    const { store, signer, keyId } = track(newStoreWithKey());
    const manifest = putManifest(store, { 'a.txt': putInlineFile(store, 'a') });
    const value = Buffer.from('org.example.a');
    const untagged = certSignedBytes(manifest, keyId, 'branch', value).subarray('netsync/cert/v1\0'.length);
    const cert = encodeCert(manifest, keyId, 'branch', value, signBytes(signer.pair.seed, untagged));
    expectRefusedPut(store, 'bad-signature', () => store.put(cert));
  });

  it('a cert signed by another key than the one it names is refused', () => {
    const { store, signer } = track(newStoreWithKey());
    const mallory = fixedSigner('mallory@example.org');
    store.put(keyItemOf(mallory));
    const manifest = putManifest(store, { 'a.txt': putInlineFile(store, 'a') });
    const value = Buffer.from('org.example.a');
    const claimed = keyIdOf(signer);
    const sig = signBytes(mallory.pair.seed, certSignedBytes(manifest, claimed, 'branch', value));
    expectRefusedPut(store, 'bad-signature', () => store.put(encodeCert(manifest, claimed, 'branch', value, sig)));
  });

  it('a cert whose key is not stored is refused (missing-reference)', () => {
    const { store } = track(newStore());
    const manifest = putManifest(store, { 'a.txt': putInlineFile(store, 'a') });
    const cert = signedCert(fixedSigner(), manifest, 'branch', 'org.example.a');
    expectRefusedPut(store, 'missing-reference', () => store.put(cert), /names key [0-9a-f]{64}, which is not stored/);
  });

  it('a cert whose manifest is not stored is refused (missing-reference)', () => {
    const { store, signer } = track(newStoreWithKey());
    const cert = signedCert(signer, Buffer.alloc(32, 7), 'branch', 'org.example.a');
    expectRefusedPut(store, 'missing-reference', () => store.put(cert), /names revision or manifest/);
  });

  it('a manifest naming a file that is not stored is refused', () => {
    const { store } = track(newStore());
    const present = putInlineFile(store, 'here');
    const absent = itemId(encodeInlineFile(Buffer.from('not here')));
    const bytes = encodeManifest([
      { path: 'here.txt', type: EntryType.File, file: present },
      { path: 'not-here.txt', type: EntryType.File, file: absent },
    ]);
    expectRefusedPut(store, 'missing-reference', () => store.put(bytes), /names file/);
  });

  it('a chunked file naming a chunk that is not stored is refused', () => {
    const { store } = track(newStore());
    const a = Buffer.alloc(700_000, 1);
    const b = Buffer.alloc(700_000, 2);
    const idA = store.put(encodeChunk(a)).id;
    const file = encodeChunkedFile([
      { id: idA, length: a.length },
      { id: itemId(encodeChunk(b)), length: b.length },
    ]);
    expectRefusedPut(store, 'missing-reference', () => store.put(file), /names chunk/);
    store.put(encodeChunk(b));
    store.put(file);
  });

  it('references of the wrong kind or length are refused (bad-item)', () => {
    const { store, signer } = track(newStoreWithKey());
    const chunk = Buffer.alloc(600_000, 3);
    const chunkId = store.put(encodeChunk(chunk)).id;
    // A manifest that names a chunk as a file.
    expectRefusedPut(store, 'bad-item', () => store.put(encodeManifest([{ path: 'x', type: EntryType.File, file: chunkId }])), /as a file, but it is a chunk/);
    // A chunked file that misstates a chunk's length.
    const other = store.put(encodeChunk(Buffer.alloc(600_000, 4))).id;
    expectRefusedPut(
      store,
      'bad-item',
      () =>
        store.put(
          encodeChunkedFile([
            { id: chunkId, length: 600_001 },
            { id: other, length: 599_999 },
          ]),
        ),
      /length/,
    );
    // A cert on something that is not a revision or a manifest.
    const file = putInlineFile(store, 'f');
    expectRefusedPut(store, 'bad-item', () => store.put(signedCert(signer, file, 'branch', 'org.example.a')), /as a revision or manifest/);
  });

  it('a refused item inside a batch rolls the batch back', () => {
    const { store, signer } = track(newStoreWithKey());
    const manifest = putManifest(store, { 'a.txt': putInlineFile(store, 'a') });
    const bad = Buffer.from(signedCert(signer, manifest, 'branch', 'org.example.a'));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    expectRefusedPut(store, 'bad-signature', () =>
      store.batch(() => {
        putInlineFile(store, 'written before the bad cert');
        putCert(store, signer, manifest, 'date', '2004-01-01T00:00:00.000Z');
        store.put(bad);
      }),
    );
    // The store is still usable and consistent afterwards.
    putCert(store, signer, manifest, 'branch', 'org.example.a');
    expect(checkDatabase(store).problems).toEqual([]);
    expect(store.branches().map((b) => [b.name, b.items])).toEqual([['org.example.a', 4]]);
  });

  it('a file inserted in a batch that rolled back no longer satisfies a reference (the store forgets what it had just put)', () => {
    const { store } = track(newStore());
    const content = encodeInlineFile(Buffer.from('gone with the batch'));
    expect(() =>
      store.batch(() => {
        store.put(content);
        throw new Error('abort the batch');
      }),
    ).toThrow('abort the batch');
    const manifest = encodeManifest([{ path: 'gone.txt', type: EntryType.File, file: itemId(content) }]);
    expectRefusedPut(store, 'missing-reference', () => store.put(manifest), /names file [0-9a-f]{64}, which is not stored/);
    store.put(content);
    expect(store.put(manifest).inserted).toBe(true);
  });
});
