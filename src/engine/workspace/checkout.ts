/**
 * `checkout (BRANCH|ID) DIR`: writes a manifest's tree into a new or empty
 * folder, streaming chunked files, restoring executable bits.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { EntryType, Kind, decodeItem } from '../items/format.js';
import type { ReadStore } from '../store/store.js';

export interface CheckoutResult {
  files: number;
  dirs: number;
  bytes: number;
}

export function checkoutManifest(
  store: ReadStore,
  manifestId: Buffer,
  dir: string,
  onProgress?: (p: { files: number; totalFiles: number }) => void,
): CheckoutResult {
  const item = decodeItem(store.get(manifestId)!.data);
  if (item.kind !== Kind.Manifest) fail('usage', `${toHex(manifestId)} is not a manifest`);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) fail('usage', `${dir} is a file; check out into a new or empty folder`);
    if (readdirSync(dir).length > 0) fail('usage', `${dir} is not empty; check out into a new or empty folder`);
  }
  mkdirSync(dir, { recursive: true });
  const totalFiles = item.entries.filter((e) => e.type !== EntryType.Dir).length;
  const result: CheckoutResult = { files: 0, dirs: 0, bytes: 0 };
  for (const e of item.entries) {
    const target = join(dir, ...e.path.split('/'));
    if (e.type === EntryType.Dir) {
      mkdirSync(target);
      result.dirs++;
      continue;
    }
    result.bytes += writeFileItem(store, e.file!, target, e.type === EntryType.Executable ? 0o755 : 0o644);
    result.files++;
    if (result.files % 500 === 0) onProgress?.({ files: result.files, totalFiles });
  }
  onProgress?.({ files: result.files, totalFiles });
  return result;
}

/** Writes one file item's content to `target`, a chunk at a time. */
export function writeFileItem(store: ReadStore, fileId: Buffer, target: string, mode: number): number {
  const file = decodeItem(store.get(fileId)!.data);
  if (file.kind !== Kind.File) fail('db-corrupt', `${toHex(fileId)} should be a file`);
  const fd = openSync(target, 'wx', mode);
  try {
    if (file.layout === 'inline') {
      writeAll(fd, file.content);
    } else {
      for (const c of file.chunks) {
        const chunk = store.get(c.id);
        if (!chunk) fail('db-corrupt', `chunk ${toHex(c.id)} of ${target} is missing`);
        writeAll(fd, chunk.data.subarray(1));
      }
    }
  } finally {
    closeSync(fd);
  }
  chmodSync(target, mode); // the umask must not strip what was committed
  return file.size;
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}
