/**
 * The sender's compression choice (WireEncoder): compressible items are sent
 * deflated; a run of incompressible content stops the trying for a while, the
 * pause grows while probes keep missing, and one compressible item resumes
 * trying every item. Observable without spying: an item inside a pause goes
 * raw even when it would compress.
 */
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Kind, encodeInlineFile } from '../../src/engine/items/format.js';
import { WireEncoder } from '../../src/engine/protocol/exchange.js';
import { ItemEncoding } from '../../src/engine/protocol/frames.js';
import { pseudoRandomBytes } from '../helpers/random.js';

let n = 0;
const random = () => encodeInlineFile(pseudoRandomBytes(1024, `enc/${n++}`));
const text = () => encodeInlineFile(Buffer.from('netsync '.repeat(128) + n++));

describe('WireEncoder', () => {
  it('deflates what compresses, byte for byte recoverable, and leaves small or random items raw', () => {
    const enc = new WireEncoder();
    const item = text();
    const out = enc.encode(Kind.File, item);
    expect(out.encoding).toBe(ItemEncoding.DeflateRaw);
    expect(inflateRawSync(out.data).equals(item)).toBe(true);
    expect(enc.encode(Kind.File, random()).encoding).toBe(ItemEncoding.Raw);
    expect(enc.encode(Kind.File, encodeInlineFile(Buffer.alloc(100))).encoding).toBe(ItemEncoding.Raw); // under 512 B
  });

  it('pauses after 16 misses for 256 items, then probes once and pauses twice as long; a hit resumes trying', () => {
    const enc = new WireEncoder();
    for (let i = 0; i < 16; i++) expect(enc.encode(Kind.File, random()).encoding).toBe(ItemEncoding.Raw);
    // Paused: 256 items go raw untried, a compressible one too.
    expect(enc.encode(Kind.File, text()).encoding).toBe(ItemEncoding.Raw);
    for (let i = 1; i < 256; i++) enc.encode(Kind.File, random());
    // One probe misses: the next pause is 512 items.
    expect(enc.encode(Kind.File, random()).encoding).toBe(ItemEncoding.Raw);
    for (let i = 0; i < 511; i++) enc.encode(Kind.File, random());
    expect(enc.encode(Kind.File, text()).encoding).toBe(ItemEncoding.Raw); // the 512th: still paused
    // The probe after the pause hits: every item is tried again.
    expect(enc.encode(Kind.File, text()).encoding).toBe(ItemEncoding.DeflateRaw);
    expect(enc.encode(Kind.File, random()).encoding).toBe(ItemEncoding.Raw);
    expect(enc.encode(Kind.File, text()).encoding).toBe(ItemEncoding.DeflateRaw);
  });

  it('always tries manifests and certs, whatever the content did', () => {
    const enc = new WireEncoder();
    for (let i = 0; i < 16; i++) enc.encode(Kind.File, random());
    const manifestLike = Buffer.concat([Buffer.of(Kind.Manifest), Buffer.from('d0/f1 '.repeat(200))]);
    expect(enc.encode(Kind.Manifest, manifestLike).encoding).toBe(ItemEncoding.DeflateRaw);
  });
});
