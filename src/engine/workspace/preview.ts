/**
 * What a commit of a folder would change, before it is made: the folder's
 * files and folders against a stored manifest (the branch's head), as
 * added, changed (content or executable bit) and removed, with sizes.
 * Nothing is written. A file's content is compared through the id its file
 * item would have, computed with the encoders commit.ts stores with (inline
 * up to INLINE_MAX, chunked above): equal ids, equal content. The test
 * "a preview right after a commit shows nothing to commit" holds the two
 * together.
 */
import { closeSync, constants, type Dirent, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_DIR } from './record.js';
import { fail } from '../errors.js';
import { Chunker } from '../items/chunker.js';
import {
  type ChunkRef,
  EntryType,
  INLINE_MAX,
  type ManifestEntry,
  encodeChunk,
  encodeChunkedFile,
  encodeInlineFile,
  itemId,
  pathProblem,
} from '../items/format.js';

export type PreviewEntryType = 'file' | 'exec' | 'dir';

export interface PreviewEntry {
  /** '/'-separated, relative to the folder, as the manifest records it. */
  path: string;
  type: PreviewEntryType;
  /** Bytes now (removed: bytes in the base); 0 for a folder. */
  size: number;
  /** Bytes in the base, for a changed file. */
  before?: number;
}

export interface FolderChanges {
  added: PreviewEntry[];
  changed: PreviewEntry[];
  removed: PreviewEntry[];
  /** Entries the same in the folder and the base. */
  unchanged: number;
  /** The folder's files and their bytes. */
  files: number;
  bytes: number;
}

/** What the base manifest says of a path: its entry and, for a file, its size. */
export interface BaseEntry {
  entry: ManifestEntry;
  size: number;
}

const READ_BLOCK = 1 << 20;

const typeName = (t: EntryType): PreviewEntryType => (t === EntryType.Dir ? 'dir' : t === EntryType.Executable ? 'exec' : 'file');

/** The id the file item of the file at `abs` would have (commit.ts: inline up to INLINE_MAX, else chunked). */
export function fileItemIdOf(abs: string, size: number): Buffer {
  if (size <= INLINE_MAX) return itemId(encodeInlineFile(readFileSync(abs)));
  const chunker = new Chunker();
  const refs: ChunkRef[] = [];
  const add = (chunks: Buffer[]) => {
    for (const c of chunks) refs.push({ id: itemId(encodeChunk(c)), length: c.length });
  };
  const fd = openSync(abs, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const block = Buffer.alloc(READ_BLOCK);
    for (;;) {
      const n = readSync(fd, block, 0, READ_BLOCK, null);
      if (n === 0) break;
      add(chunker.push(block.subarray(0, n)));
    }
    add(chunker.end());
  } finally {
    closeSync(fd);
  }
  return itemId(encodeChunkedFile(refs));
}

/**
 * Compares the folder `dir` with `base` (path → entry; empty for a new
 * branch). Refuses, as a commit would, a symbolic link or a special file.
 */
export function previewFolder(dir: string, base: ReadonlyMap<string, BaseEntry>): FolderChanges {
  const out: FolderChanges = { added: [], changed: [], removed: [], unchanged: 0, files: 0, bytes: 0 };
  const seen = new Set<string>();
  const visit = (abs: string, rel: string) => {
    let names: Dirent[];
    try {
      names = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      return fail('io', `cannot read directory ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of names) {
      if (!rel && d.name === RECORD_DIR) continue; // the workspace record is never committed
      const path = rel ? `${rel}/${d.name}` : d.name;
      const problem = pathProblem(path);
      if (problem) fail('usage', `cannot commit ${join(abs, d.name)}: ${problem}`);
      if (d.isSymbolicLink()) fail('usage', `${join(abs, d.name)} is a symbolic link; Netsync records regular files and folders only`);
      seen.add(path);
      const old = base.get(path);
      if (d.isDirectory()) {
        if (!old) out.added.push({ path, type: 'dir', size: 0 });
        else if (old.entry.type !== EntryType.Dir) out.changed.push({ path, type: 'dir', size: 0, before: old.size });
        else out.unchanged++;
        visit(join(abs, d.name), path);
        continue;
      }
      if (!d.isFile()) fail('usage', `${join(abs, d.name)} is not a regular file or folder`);
      const st = lstatSync(join(abs, d.name));
      const type: PreviewEntryType = (st.mode & 0o111) !== 0 ? 'exec' : 'file';
      out.files++;
      out.bytes += st.size;
      if (!old) {
        out.added.push({ path, type, size: st.size });
        continue;
      }
      const same =
        old.entry.file !== undefined &&
        typeName(old.entry.type) === type &&
        old.size === st.size &&
        fileItemIdOf(join(abs, d.name), st.size).equals(old.entry.file);
      if (same) out.unchanged++;
      else out.changed.push({ path, type, size: st.size, before: old.size });
    }
  };
  visit(dir, '');
  for (const [path, old] of base) {
    if (!seen.has(path)) out.removed.push({ path, type: typeName(old.entry.type), size: old.size });
  }
  return out;
}
