import { createHash, hash } from 'node:crypto';

/**
 * The one hash function of the format: SHA-256 through node:crypto (OpenSSL),
 * native code that uses SHA-NI where the CPU has it, where a JavaScript
 * implementation is many times slower for bulk hashing (docs/ARCHITECTURE.md
 * and docs/PERFORMANCE.md, "Hash function").
 */
export const ID_BYTES = 32;

/** Up to this many bytes in several parts are joined and hashed in one call. */
const JOIN_MAX = 64 << 10;

export function sha256(...parts: Uint8Array[]): Buffer {
  // One part (every item id): the one-shot API, which spares creating a Hash object per call.
  if (parts.length === 1) return hash('sha256', parts[0]!, 'buffer');
  // A few small parts (trie nodes: a tag and 1-16 hashes, tens of thousands in a large trie):
  // a Hash object costs more than hashing them joined (docs/PERFORMANCE.md, "Trie node hashes in one call").
  let size = 0;
  for (const p of parts) size += p.length;
  if (size <= JOIN_MAX) return hash('sha256', Buffer.concat(parts, size), 'buffer');
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function toHex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

export function fromHex(hex: string): Buffer | null {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return null;
  return Buffer.from(hex, 'hex');
}

export function compareIds(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * murmur3's 32-bit finaliser: a fast, well-spread mix of 32 bits. Hashing,
 * not cryptography: the IBLT's cell positions (docs/protocol-recon.md §6)
 * and the salted positions of the engine's open-addressing tables use it.
 */
export function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
