/**
 * `namesOf`: the ids an item names, with the kind each must have, per kind
 * of item. Verification, the indexer and a sender that withholds damaged
 * items all ask it, so a change here shows in each of them.
 */
import { describe, expect, it } from 'vitest';
import { EntryType, Kind, decodeItem, encodeChunk, encodeChunkedFile, encodeInlineFile, encodeManifest, itemId } from '../../src/engine/items/format.js';
import { namesOf } from '../../src/engine/items/names.js';
import { fixedSigner, keyIdOf, keyItemOf, signedCert } from '../helpers/store.js';

const id = (n: number) => Buffer.alloc(32, n);

describe('namesOf', () => {
  it('an inline file, a chunk and a key name nothing', () => {
    expect(namesOf(decodeItem(encodeInlineFile(Buffer.from('hello'))))).toEqual([]);
    expect(namesOf(decodeItem(encodeChunk(Buffer.from('a chunk'))))).toEqual([]);
    expect(namesOf(decodeItem(keyItemOf(fixedSigner())))).toEqual([]);
  });

  it('a chunked file names its chunks in order, each with the length it gives', () => {
    const file = encodeChunkedFile([
      { id: id(2), length: 700_000 },
      { id: id(1), length: 600_000 },
    ]);
    expect(namesOf(decodeItem(file))).toEqual([
      { id: id(2), kind: Kind.Chunk, size: 700_000 },
      { id: id(1), kind: Kind.Chunk, size: 600_000 },
    ]);
  });

  it('a manifest names the file of each file and executable entry, in path order; folders name nothing', () => {
    const manifest = encodeManifest([
      { path: 'src', type: EntryType.Dir },
      { path: 'src/b.sh', type: EntryType.Executable, file: id(7) },
      { path: 'a.txt', type: EntryType.File, file: id(9) },
      { path: 'empty', type: EntryType.Dir },
    ]);
    expect(namesOf(decodeItem(manifest))).toEqual([
      { id: id(9), kind: Kind.File },
      { id: id(7), kind: Kind.File },
    ]);
  });

  it('a cert names its manifest, then the key that signed it', () => {
    const signer = fixedSigner();
    const manifest = itemId(encodeManifest([]));
    const cert = signedCert(signer, manifest, 'branch', 'org.example.names');
    expect(namesOf(decodeItem(cert))).toEqual([
      { id: manifest, kind: Kind.Revision, or: Kind.Manifest },
      { id: keyIdOf(signer), kind: Kind.Key },
    ]);
  });
});
