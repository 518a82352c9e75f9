/**
 * The canonical item encodings, byte for byte (docs/FORMAT.md "Worked
 * examples"), and the decoder's refusals. The fixtures are frozen: if one of
 * these hex strings has to change, every stored id changes with it, which
 * is a format break, not a refactor.
 */
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { sha256 } from '../../src/engine/hash.js';
import {
  CERT_VALUE_MAX,
  CHUNK_MAX,
  EntryType,
  INLINE_MAX,
  ITEM_MAX,
  Kind,
  PATH_MAX,
  certSignedBytes,
  decodeItem,
  encodeCert,
  encodeChunk,
  encodeChunkedFile,
  encodeInlineFile,
  encodeKey,
  encodeManifest,
  encodeRevision,
  encodeTreeIndex,
  encodeTreeListing,
  itemId,
  offeredSize,
  type ManifestEntry,
  manifestFileIds,
  pathProblem,
} from '../../src/engine/items/format.js';
import { signBytes } from '../../src/engine/keys/ed25519.js';
import { SeededRandom } from '../helpers/random.js';
import { newStore, RFC8032_PUBLIC, RFC8032_SEED } from '../helpers/store.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => Buffer.from(h, 'hex');

// ---------------------------------------------------------------- fixtures (docs/FORMAT.md §8)

const FX = {
  hello: {
    hex: '010068656c6c6f0a',
    id: '73dbaba4ae88c14ccdd3d8bb8802bd861c0eae4e29d66fcdc1b7f2a337ebd72d',
  },
  empty: {
    hex: '0100',
    id: '47dc540c94ceb704a23875c11273e16bb0b8a87aed84de911f2133568115f254',
  },
  chunk: {
    hex: '026368756e6b',
    id: '1f6482bdd4a340739ec81aeb108c1547b485bb211707ce8568f8d7edd1b4ea04',
  },
  /** ids of the chunks 600000 x 'a' and 600000 x 'b'. */
  chunkA: '649f01eff9c33faeb77f234e424c2bd307c0ce11ec48e178931298730eed56fd',
  chunkB: 'dc29dbe59573052becce0ccc79bc0f1356c7df765dc960eb0ddefe774c6eac25',
  chunked: {
    hex:
      '0101' +
      '0000000000124f80' +
      '00000002' +
      '649f01eff9c33faeb77f234e424c2bd307c0ce11ec48e178931298730eed56fd' +
      '000927c0' +
      'dc29dbe59573052becce0ccc79bc0f1356c7df765dc960eb0ddefe774c6eac25' +
      '000927c0',
    id: 'd1bbd71cded0d92204702388bdfb0586eae8fab1d036166d46149177c3356e2a',
  },
  manifest: {
    hex:
      '03' +
      '00000003' +
      '0001' +
      '61' +
      '02' +
      '000b' +
      '612f68656c6c6f2e747874' +
      '00' +
      '73dbaba4ae88c14ccdd3d8bb8802bd861c0eae4e29d66fcdc1b7f2a337ebd72d' +
      '0006' +
      '72756e2e7368' +
      '01' +
      '47dc540c94ceb704a23875c11273e16bb0b8a87aed84de911f2133568115f254',
    id: '608aba08eba54cffde36a6013caadbca4902d375efe43742dd1029c71612cd28',
  },
  key: {
    hex: '05' + '11' + '616c696365406578616d706c652e6f7267' + 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    id: '73740f5163bde03cb0a0fa4cf97d6fdd3c6bc7b15d9cb3b18f50cf0acf1d2eb4',
  },
  cert: {
    hex:
      '04' +
      '608aba08eba54cffde36a6013caadbca4902d375efe43742dd1029c71612cd28' +
      '73740f5163bde03cb0a0fa4cf97d6fdd3c6bc7b15d9cb3b18f50cf0acf1d2eb4' +
      '06' +
      '6272616e6368' +
      '00000010' +
      '6f72672e6578616d706c652e64656d6f' +
      '89d21ce0b451d32a90dd6033d6c7fcee144f1abc25f050e93a0e00dbaefdaef6' +
      '06ea0bde411831c30ce54c4e98c5227e986fb492193e70f083df7c5305f2110f',
    id: '819c0e2e042b960960be1655ce3b5d088099982e4f576ac366bf3773cc814477',
  },
};

function buildFixtures() {
  const hello = encodeInlineFile(Buffer.from('hello\n'));
  const empty = encodeInlineFile(Buffer.alloc(0));
  const chunk = encodeChunk(Buffer.from('chunk'));
  const chunkA = encodeChunk(Buffer.alloc(600_000, 0x61));
  const chunkB = encodeChunk(Buffer.alloc(600_000, 0x62));
  const chunked = encodeChunkedFile([
    { id: itemId(chunkA), length: 600_000 },
    { id: itemId(chunkB), length: 600_000 },
  ]);
  // Given out of order on purpose: the encoder sorts.
  const manifest = encodeManifest([
    { path: 'run.sh', type: EntryType.Executable, file: itemId(empty) },
    { path: 'a/hello.txt', type: EntryType.File, file: itemId(hello) },
    { path: 'a', type: EntryType.Dir },
  ]);
  const key = encodeKey('alice@example.org', RFC8032_PUBLIC);
  const value = Buffer.from('org.example.demo');
  const signature = signBytes(RFC8032_SEED, certSignedBytes(itemId(manifest), itemId(key), 'branch', value));
  const cert = encodeCert(itemId(manifest), itemId(key), 'branch', value, signature);
  return { hello, empty, chunk, chunkA, chunkB, chunked, manifest, key, cert };
}

describe('encodings: byte-exact fixtures', () => {
  const built = buildFixtures();

  it.each(['hello', 'empty', 'chunk', 'chunked', 'manifest', 'key', 'cert'] as const)('%s encodes to its frozen bytes and id', (name) => {
    expect(hex(built[name])).toBe(FX[name].hex);
    expect(hex(itemId(built[name]))).toBe(FX[name].id);
  });

  it('chunk ids used by the chunked fixture', () => {
    expect(hex(itemId(built.chunkA))).toBe(FX.chunkA);
    expect(hex(itemId(built.chunkB))).toBe(FX.chunkB);
  });

  it('id is SHA-256 of the whole encoding, kind byte included', () => {
    for (const b of Object.values(built)) expect(itemId(b)).toEqual(sha256(b));
    // Same content as file and as chunk: different kind byte, different id.
    expect(itemId(encodeInlineFile(Buffer.from('x')))).not.toEqual(itemId(encodeChunk(Buffer.from('x'))));
  });

  it('decodes each fixture to its fields and re-encodes it identically', () => {
    const hello = decodeItem(fromHex(FX.hello.hex));
    expect(hello).toMatchObject({ kind: Kind.File, layout: 'inline', size: 6 });
    const empty = decodeItem(fromHex(FX.empty.hex));
    expect(empty).toMatchObject({ kind: Kind.File, layout: 'inline', size: 0 });
    expect(decodeItem(fromHex(FX.chunk.hex))).toMatchObject({ kind: Kind.Chunk, size: 5 });

    const chunked = decodeItem(fromHex(FX.chunked.hex));
    if (chunked.kind !== Kind.File || chunked.layout !== 'chunked') throw new Error('not a chunked file');
    expect(chunked.size).toBe(1_200_000);
    expect(chunked.chunks.map((c) => [hex(c.id), c.length])).toEqual([
      [FX.chunkA, 600_000],
      [FX.chunkB, 600_000],
    ]);
    expect(hex(encodeChunkedFile(chunked.chunks))).toBe(FX.chunked.hex);

    const manifest = decodeItem(fromHex(FX.manifest.hex));
    if (manifest.kind !== Kind.Manifest) throw new Error('not a manifest');
    expect(manifest.entries.map((e) => [e.path, e.type, e.file ? hex(e.file) : null])).toEqual([
      ['a', EntryType.Dir, null],
      ['a/hello.txt', EntryType.File, FX.hello.id],
      ['run.sh', EntryType.Executable, FX.empty.id],
    ]);
    expect(hex(encodeManifest(manifest.entries))).toBe(FX.manifest.hex);

    const key = decodeItem(fromHex(FX.key.hex));
    expect(key).toEqual({ kind: Kind.Key, name: 'alice@example.org', publicKey: RFC8032_PUBLIC });

    const cert = decodeItem(fromHex(FX.cert.hex));
    if (cert.kind !== Kind.Cert) throw new Error('not a cert');
    expect(hex(cert.manifest)).toBe(FX.manifest.id);
    expect(hex(cert.key)).toBe(FX.key.id);
    expect(cert.name).toBe('branch');
    expect(cert.value.toString()).toBe('org.example.demo');
    expect(hex(encodeCert(cert.manifest, cert.key, cert.name, cert.value, cert.signature))).toBe(FX.cert.hex);
  });

  it('the cert signature covers "netsync/cert/v1\\0" || the cert bytes between kind and signature (RFC 8032 Ed25519)', () => {
    const bytes = fromHex(FX.cert.hex);
    const signed = Buffer.concat([Buffer.from('netsync/cert/v1\0', 'latin1'), bytes.subarray(1, bytes.length - 64)]);
    const cert = decodeItem(bytes);
    if (cert.kind !== Kind.Cert) throw new Error('not a cert');
    expect(certSignedBytes(cert.manifest, cert.key, cert.name, cert.value)).toEqual(signed);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), RFC8032_PUBLIC]);
    const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(verify(null, signed, publicKey, bytes.subarray(bytes.length - 64))).toBe(true);
    // Without the domain tag the same signature does not verify.
    expect(verify(null, bytes.subarray(1, bytes.length - 64), publicKey, bytes.subarray(bytes.length - 64))).toBe(false);
  });

  it('the fixtures form a collection whose trie root is frozen too', () => {
    const { store } = newStore();
    try {
      for (const name of ['hello', 'empty', 'manifest', 'key', 'cert'] as const) store.put(built[name]);
      const root = store.root('org.example.demo');
      expect(root.count).toBe(5);
      expect(hex(root.hash)).toBe('4b512401f3a02e3ff1923cc8b4033cf4516588f94ef0082db1b5a060b3adfcff');
      const ids = (['hello', 'empty', 'manifest', 'key', 'cert'] as const).map((n) => fromHex(FX[n].id)).sort(Buffer.compare);
      expect(root.hash).toEqual(sha256(Buffer.of(0), ...ids)); // five ids: the root is a leaf
    } finally {
      store.close();
    }
  });

  it('the RFC 8032 test seed gives the RFC public key (fixtures are checkable by anyone)', async () => {
    const { publicKeyFromSeed } = await import('../../src/engine/keys/ed25519.js');
    expect(hex(publicKeyFromSeed(RFC8032_SEED))).toBe(hex(RFC8032_PUBLIC));
  });

  it('manifest order is by UTF-8 bytes, not by UTF-16 code units or tree walk', () => {
    const f = itemId(encodeInlineFile(Buffer.alloc(0)));
    // U+FF5E (ef bd 9e) sorts before U+1F600 (f0 9f 98 80) in UTF-8 bytes,
    // but after it in UTF-16 code units (0xff5e > 0xd83d). '-' (2d) < '/' (2f).
    const entries = [
      { path: '\u{1F600}', type: EntryType.File, file: f },
      { path: '\uFF5E', type: EntryType.File, file: f },
      { path: 'a/b', type: EntryType.File, file: f },
      { path: 'a-c', type: EntryType.File, file: f },
      { path: 'a', type: EntryType.Dir },
    ];
    const decoded = decodeItem(encodeManifest(entries));
    if (decoded.kind !== Kind.Manifest) throw new Error('not a manifest');
    expect(decoded.entries.map((e) => e.path)).toEqual(['a', 'a-c', 'a/b', '\uFF5E', '\u{1F600}']);
  });
});

// ---------------------------------------------------------------- refusals

function expectRefused(bytes: Buffer, code: 'bad-item' | 'too-large' = 'bad-item', message?: RegExp): void {
  let caught: unknown;
  try {
    decodeItem(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught, `decoding ${hex(bytes.subarray(0, 40))}... should fail`).toBeInstanceOf(NetsyncError);
  expect((caught as NetsyncError).code).toBe(code);
  if (message) expect((caught as NetsyncError).message).toMatch(message);
  expect((caught as NetsyncError).message).not.toContain('\n');
}

const ZERO_ID = Buffer.alloc(32, 0x11);

/** A manifest written field by field, in the order given (no sorting, no checks). */
function rawManifest(entries: [path: Buffer | string, type: number][], count = entries.length): Buffer {
  const parts: Buffer[] = [Buffer.of(Kind.Manifest), u32(count)];
  for (const [path, type] of entries) {
    const p = typeof path === 'string' ? Buffer.from(path) : path;
    parts.push(u16(p.length), p, Buffer.of(type));
    if (type !== EntryType.Dir) parts.push(ZERO_ID);
  }
  return Buffer.concat(parts);
}

function rawCert(name: Buffer | string, value: Buffer, valueLength = value.length): Buffer {
  const n = typeof name === 'string' ? Buffer.from(name) : name;
  return Buffer.concat([Buffer.of(Kind.Cert), ZERO_ID, ZERO_ID, Buffer.of(n.length), n, u32(valueLength), value, Buffer.alloc(64)]);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}

describe('decoding refuses', () => {
  it('every truncation of a structured item', () => {
    for (const name of ['chunked', 'manifest', 'key', 'cert'] as const) {
      const full = fromHex(FX[name].hex);
      for (let n = 0; n < full.length; n++) expectRefused(full.subarray(0, n));
    }
    expectRefused(Buffer.alloc(0), 'bad-item', /truncated/);
    expectRefused(Buffer.of(Kind.File), 'bad-item', /truncated/); // no layout byte
    expectRefused(Buffer.of(Kind.Chunk), 'bad-item', /out of range/); // empty chunk
  });

  it('trailing bytes after a structured item', () => {
    for (const name of ['chunked', 'manifest', 'key', 'cert'] as const) {
      expectRefused(Buffer.concat([fromHex(FX[name].hex), Buffer.of(0)]));
    }
    expectRefused(Buffer.concat([fromHex(FX.manifest.hex), Buffer.of(0)]), 'bad-item', /trailing/);
  });

  it('manifest paths out of order or duplicated', () => {
    expectRefused(
      rawManifest([
        ['b', 0],
        ['a', 0],
      ]),
      'bad-item',
      /ascending/,
    );
    expectRefused(
      rawManifest([
        ['a', 0],
        ['a', 0],
      ]),
      'bad-item',
      /ascending/,
    );
    expectRefused(
      rawManifest([
        ['a', 2],
        ['a', 0],
      ]),
      'bad-item',
      /ascending/,
    );
    // Sorted by UTF-16 (JavaScript's default) instead of by bytes.
    expectRefused(
      rawManifest([
        ['\u{1F600}', 0],
        ['\uFF5E', 0],
      ]),
      'bad-item',
      /ascending/,
    );
    expect(() =>
      decodeItem(
        rawManifest([
          ['\uFF5E', 0],
          ['\u{1F600}', 0],
        ]),
      ),
    ).not.toThrow();
  });

  it('a manifest path without a directory entry for its parent', () => {
    expectRefused(rawManifest([['a/b', 0]]), 'bad-item', /no directory entry for "a"/);
    expectRefused(
      rawManifest([
        ['a', 2],
        ['a/b/c', 0],
      ]),
      'bad-item',
      /"a\/b"/,
    );
    // The parent must be a directory entry, not a file of that name.
    expectRefused(
      rawManifest([
        ['a', 0],
        ['a/b', 0],
      ]),
      'bad-item',
      /directory entry/,
    );
    expect(() =>
      decodeItem(
        rawManifest([
          ['a', 2],
          ['a/b', 2],
          ['a/b/c', 1],
        ]),
      ),
    ).not.toThrow();
  });

  it('pathProblem refuses exactly the empty, "." and ".." components', () => {
    for (const bad of ['', '.', '..', '/a', 'a/', 'a//b', 'a/./b', 'a/../b', './a', '../a', 'a/.', 'a/..', 'a\0b']) {
      expect(pathProblem(bad), JSON.stringify(bad)).not.toBeNull();
    }
    for (const good of ['a', '...', '.a', '..a', 'a.', 'a..', 'a/.b', 'a/..b/c', '.git/config', 'ü/名前.txt']) {
      expect(pathProblem(good), good).toBeNull();
    }
    expect(pathProblem('é'.repeat(2048))).toBeNull(); // 4,096 bytes: the limit
    expect(pathProblem('é'.repeat(2049))).toMatch(/longer than/);
    // Called what it is, not "not valid UTF-8": the name is valid UTF-8, holding the replacement character.
    expect(pathProblem('docs/a\uFFFDb.txt')).toBe(
      'path "docs/a\uFFFDb.txt" contains U+FFFD, the replacement character, which Netsync does not record (it cannot be told from a name that is not UTF-8); rename it',
    );
  });

  it('empty, "." and ".." components, NUL, and over-long paths', () => {
    for (const bad of ['..', '.', '', '/a', 'a/', 'a//b']) expectRefused(rawManifest([[bad, 0]]));
    expectRefused(
      rawManifest([
        ['a', 2],
        ['a/..', 0],
      ]),
      'bad-item',
      /component/,
    );
    expectRefused(
      rawManifest([
        ['a', 2],
        ['a/.', 0],
      ]),
      'bad-item',
      /component/,
    );
    expectRefused(rawManifest([['a\0b', 0]]), 'bad-item', /NUL/);
    expect(() => decodeItem(rawManifest([['x'.repeat(PATH_MAX), 0]]))).not.toThrow();
    expectRefused(rawManifest([['x'.repeat(PATH_MAX + 1), 0]]), 'bad-item', /longer/);
  });

  it('a manifest path that is not valid UTF-8 (or not in shortest form)', () => {
    expectRefused(rawManifest([[Buffer.of(0xff), 0]]), 'bad-item', /UTF-8/);
    expectRefused(rawManifest([[Buffer.of(0x61, 0xc3), 0]]), 'bad-item', /UTF-8/); // cut multi-byte sequence
    expectRefused(rawManifest([[Buffer.of(0xc0, 0xaf), 0]]), 'bad-item', /UTF-8/); // overlong '/'
    expectRefused(rawManifest([[Buffer.of(0xed, 0xa0, 0x80), 0]]), 'bad-item', /UTF-8/); // a lone surrogate
  });

  it('an unknown manifest entry type', () => {
    expectRefused(rawManifest([['a', 3]]), 'bad-item', /entry type 3/);
  });

  it('unknown kinds and layouts', () => {
    for (const kind of [0, 8, 0x7f, 0xff]) expectRefused(Buffer.of(kind, 0, 0, 0, 0), 'bad-item', new RegExp(`kind ${kind}`));
    expectRefused(Buffer.of(Kind.File, 2, 0), 'bad-item', /layout 2/);
  });

  it('items over their size limits', () => {
    expectRefused(Buffer.concat([Buffer.of(Kind.Chunk), Buffer.alloc(ITEM_MAX)]), 'too-large', /limit/);
    expectRefused(Buffer.concat([Buffer.of(Kind.File, 0), Buffer.alloc(INLINE_MAX + 1)]), 'bad-item', /inline/);
    expect(() => decodeItem(Buffer.concat([Buffer.of(Kind.File, 0), Buffer.alloc(INLINE_MAX)]))).not.toThrow();
    expectRefused(Buffer.concat([Buffer.of(Kind.Chunk), Buffer.alloc(CHUNK_MAX + 1)]), 'bad-item', /chunk/);
    expect(() => decodeItem(Buffer.concat([Buffer.of(Kind.Chunk), Buffer.alloc(CHUNK_MAX)]))).not.toThrow();
    expectRefused(rawCert('changelog', Buffer.alloc(CERT_VALUE_MAX + 1)), 'bad-item', /value longer/);
    expect(() => decodeItem(rawCert('changelog', Buffer.alloc(CERT_VALUE_MAX)))).not.toThrow();
    expect(() => encodeInlineFile(Buffer.alloc(INLINE_MAX + 1))).toThrow(/exceeds/);
  });

  it('a chunked file that should have been inline, or whose lengths do not add up', () => {
    const ref = (length: number) => Buffer.concat([ZERO_ID, u32(length)]);
    const chunked = (size: bigint, refs: Buffer[], count = refs.length) => Buffer.concat([Buffer.of(Kind.File, 1), u64(size), u32(count), ...refs]);
    expectRefused(chunked(BigInt(INLINE_MAX), [ref(INLINE_MAX)]), 'bad-item', /must be inline/);
    expectRefused(chunked(10n, [ref(4), ref(6)]), 'bad-item', /must be inline/);
    expect(() => decodeItem(chunked(BigInt(INLINE_MAX + 1), [ref(INLINE_MAX + 1)]))).not.toThrow();
    expectRefused(chunked(BigInt(INLINE_MAX + 2), [ref(INLINE_MAX + 1)]), 'bad-item', /sum/);
    expectRefused(chunked(0n, [], 0), 'bad-item', /count/);
    expectRefused(chunked(BigInt(2 * CHUNK_MAX), [ref(CHUNK_MAX), ref(0), ref(CHUNK_MAX)]), 'bad-item', /length 0/);
    expectRefused(chunked(BigInt(CHUNK_MAX + 1), [ref(CHUNK_MAX + 1)]), 'bad-item', /length/);
  });

  it('certs with invalid names, or invalid branch names in branch certs', () => {
    for (const name of ['', 'Branch', 'a b', '-x', '_x', 'x'.repeat(65), 'caf\u00e9', 'a/b']) {
      expectRefused(rawCert(name, Buffer.from('v')), 'bad-item', /invalid name/);
    }
    expectRefused(rawCert(Buffer.of(0xff), Buffer.from('v')), 'bad-item', /invalid name/);
    for (const name of ['branch', 'tag', 'x', 'a-b.c_d', '0', 'x'.repeat(64)]) {
      expect(() => decodeItem(rawCert(name, Buffer.from('org.example')))).not.toThrow();
    }
    for (const branch of ['', 'a..b', '.a', 'a b', 'a/b', 'x'.repeat(256)]) {
      expectRefused(rawCert('branch', Buffer.from(branch)), 'bad-item', /branch name/);
    }
  });

  it('keys with invalid names', () => {
    for (const name of ['', '-a', '.a', 'a b', 'a/b', 'a:b', 'caf\u00e9']) {
      const n = Buffer.from(name);
      expectRefused(Buffer.concat([Buffer.of(Kind.Key, n.length), n, RFC8032_PUBLIC]), 'bad-item');
    }
  });

  it('huge length fields, quickly and without allocating on their say-so', () => {
    const forged = [
      rawManifest([['a', 0]], 0xffffffff), // entry count
      Buffer.concat([Buffer.of(Kind.Manifest), u32(1), u16(0xffff), Buffer.from('a')]), // path length
      Buffer.concat([Buffer.of(Kind.File, 1), u64(0xffffffffffffffffn), u32(1), ZERO_ID, u32(5)]), // size
      Buffer.concat([Buffer.of(Kind.File, 1), u64(BigInt(INLINE_MAX + 1)), u32(0xffffffff), ZERO_ID, u32(5)]), // chunk count
      Buffer.concat([Buffer.of(Kind.File, 1), u64(BigInt(2 ** 52)), u32(1), ZERO_ID, u32(0xffffffff)]), // chunk length
      rawCert('x', Buffer.from('v'), 0xffffffff), // value length
      rawCert('x', Buffer.from('v'), CERT_VALUE_MAX), // value length within the limit, bytes absent
      Buffer.concat([Buffer.of(Kind.Key, 0xff), Buffer.from('a')]), // name length
    ];
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    for (const bytes of forged) expectRefused(bytes);
    expect(performance.now() - started).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 << 20);
  });

  it('seeded fuzz: mutated fixtures either decode to a canonical item or fail with a NetsyncError', () => {
    const rng = new SeededRandom(20041);
    const sources = [FX.chunked.hex, FX.manifest.hex, FX.key.hex, FX.cert.hex, FX.hello.hex].map(fromHex);
    let accepted = 0;
    for (let round = 0; round < 5000; round++) {
      const bytes = Buffer.from(sources[rng.int(sources.length)]!);
      const edits = rng.between(1, 3);
      let mutated: Buffer = bytes;
      for (let e = 0; e < edits; e++) {
        const at = rng.int(mutated.length);
        switch (rng.int(3)) {
          case 0:
            mutated[at] = rng.int(256);
            break;
          case 1:
            mutated = Buffer.concat([mutated.subarray(0, at), mutated.subarray(at + 1)]);
            break;
          default:
            mutated = Buffer.concat([mutated.subarray(0, at), Buffer.of(rng.int(256)), mutated.subarray(at)]);
        }
      }
      let item: ReturnType<typeof decodeItem>;
      try {
        item = decodeItem(mutated);
      } catch (e) {
        expect(e).toBeInstanceOf(NetsyncError);
        continue;
      }
      accepted++;
      // Whatever decodes is canonical: encoding it again gives the same bytes.
      const again =
        item.kind === Kind.File
          ? item.layout === 'inline'
            ? encodeInlineFile(item.content)
            : encodeChunkedFile(item.chunks)
          : item.kind === Kind.Chunk
            ? encodeChunk(item.content)
            : item.kind === Kind.Manifest
              ? encodeManifest(item.entries)
              : item.kind === Kind.Cert
                ? encodeCert(item.manifest, item.key, item.name, item.value, item.signature)
                : item.kind === Kind.Key
                  ? encodeKey(item.name, item.publicKey)
                  : item.kind === Kind.Revision
                    ? encodeRevision(item.tree, item.parents)
                    : item.level > 0
                      ? encodeTreeIndex(item.level, item.children)
                      : encodeTreeListing(item.entries.map((e) => ({ ...e, name: Buffer.from(e.name) })));
      expect(hex(again)).toBe(hex(mutated));
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('manifestFileIds (indexing stored manifests without validating them again)', () => {
  it('gives the file ids a full decode gives, in order, skipping folders; nothing for other kinds', () => {
    const rnd = new SeededRandom(9);
    const entries: ManifestEntry[] = [{ path: 'dir', type: EntryType.Dir }];
    for (let i = 0; i < 50; i++) entries.push({ path: `dir/f${i}`, type: i % 3 ? EntryType.File : EntryType.Executable, file: Buffer.from(rnd.bytes(32)) });
    const bytes = encodeManifest(entries);
    const decoded = decodeItem(bytes);
    if (decoded.kind !== Kind.Manifest) throw new Error('not a manifest');
    expect(manifestFileIds(bytes)).toEqual(decoded.entries.filter((e) => e.type !== EntryType.Dir).map((e) => e.file));
    expect(manifestFileIds(encodeInlineFile(Buffer.from('x')))).toEqual([]);
    expect(() => manifestFileIds(bytes.subarray(0, bytes.length - 5))).toThrow(NetsyncError);
  });
});

describe('offeredSize (the size counted for bytes not yet verified)', () => {
  it('reads an inline file, a chunk and a chunked file, and never reads past the bytes of a damaged one', () => {
    expect(offeredSize(encodeInlineFile(Buffer.from('hello')))).toBe(5);
    expect(offeredSize(encodeChunk(Buffer.alloc(100)))).toBe(100);
    const chunked = encodeChunkedFile([{ id: Buffer.alloc(32, 1), length: 2 << 20 }]);
    expect(offeredSize(chunked)).toBe(2 << 20);
    // A peer's ITEM is counted before it is verified: truncated or empty, it counts its length, it does not throw.
    for (const bytes of [chunked.subarray(0, 5), Buffer.of(1), Buffer.alloc(0)]) expect(offeredSize(bytes)).toBe(bytes.length);
  });
});
