/**
 * Building folder trees from a compact description, and comparing two trees
 * byte for byte (contents, kinds, executable bits).
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * One entry of a tree, keyed by its '/'-separated path relative to the root:
 * a string or bytes is a file (mode 0644); `{ content, mode }` a file with a
 * mode; `{ dir: true }` a folder (parents of any path are created anyway, so
 * this is for empty folders); `{ symlink: target }` a symbolic link.
 */
export type TreeEntry = string | Uint8Array | { content: string | Uint8Array; mode?: number } | { dir: true; mode?: number } | { symlink: string };

export type TreeSpec = Record<string, TreeEntry>;

export function makeTree(root: string, spec: TreeSpec): void {
  mkdirSync(root, { recursive: true });
  // Folder modes last: a 0500 folder made early would refuse its own children.
  const dirModes: [string, number][] = [];
  for (const [rel, entry] of Object.entries(spec)) {
    const abs = join(root, ...rel.split('/'));
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof entry === 'string' || entry instanceof Uint8Array) {
      writeFile(abs, entry, 0o644);
    } else if ('symlink' in entry) {
      symlinkSync(entry.symlink, abs);
    } else if ('dir' in entry) {
      mkdirSync(abs, { recursive: true });
      if (entry.mode !== undefined) dirModes.push([abs, entry.mode]);
    } else {
      writeFile(abs, entry.content, entry.mode ?? 0o644);
    }
  }
  for (const [abs, mode] of dirModes) chmodSync(abs, mode);
}

function writeFile(abs: string, content: string | Uint8Array, mode: number): void {
  writeFileSync(abs, content);
  chmodSync(abs, mode); // explicit, whatever the umask
}

export interface TreeNodeInfo {
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits (mode & 0o777); for symlinks 0. */
  mode: number;
  size: number;
  /** SHA-256 hex of the content (files) or the link target (symlinks). */
  sha256: string;
}

/** Every path under `root` ('/'-separated, sorted) with what it is, the workspace record `.netsync` aside. */
export function snapshotTree(root: string): Map<string, TreeNodeInfo> {
  const out = new Map<string, TreeNodeInfo>();
  const visit = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      // The workspace record (src/engine/workspace/record.ts) is not part of the tree.
      if (!rel && name === '.netsync') continue;
      const childAbs = join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const st = lstatSync(childAbs);
      if (st.isSymbolicLink()) {
        out.set(childRel, { type: 'symlink', mode: 0, size: 0, sha256: hash(Buffer.from(readlinkSync(childAbs))) });
      } else if (st.isDirectory()) {
        out.set(childRel, { type: 'dir', mode: st.mode & 0o777, size: 0, sha256: '' });
        visit(childAbs, childRel);
      } else {
        out.set(childRel, { type: 'file', mode: st.mode & 0o777, size: st.size, sha256: hash(readFileSync(childAbs)) });
      }
    }
  };
  visit(root, '');
  return out;
}

function hash(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface CompareOptions {
  /** Compare only the executable bit of files (default), or all permission bits. */
  modes?: 'exec' | 'all' | 'none';
  /** Compare folder modes too (default false: checkout makes folders with the umask). */
  dirModes?: boolean;
}

/**
 * The differences between two trees as readable lines; [] when they match.
 * Content is compared by SHA-256, which is byte-for-byte for this purpose.
 */
export function compareTrees(expectedRoot: string, actualRoot: string, options: CompareOptions = {}): string[] {
  const modes = options.modes ?? 'exec';
  const a = snapshotTree(expectedRoot);
  const b = snapshotTree(actualRoot);
  const problems: string[] = [];
  for (const [path, x] of a) {
    const y = b.get(path);
    if (!y) {
      problems.push(`missing: ${path}`);
      continue;
    }
    if (x.type !== y.type) problems.push(`${path}: ${x.type} became ${y.type}`);
    else if (x.sha256 !== y.sha256) problems.push(`${path}: content differs (${x.size} vs ${y.size} bytes)`);
    if (x.type === 'file' && y.type === 'file') {
      if (modes === 'all' && x.mode !== y.mode) problems.push(`${path}: mode ${octal(x.mode)} became ${octal(y.mode)}`);
      if (modes === 'exec' && ((x.mode & 0o111) !== 0) !== ((y.mode & 0o111) !== 0)) {
        problems.push(`${path}: executable bit ${octal(x.mode)} became ${octal(y.mode)}`);
      }
    }
    if (options.dirModes && x.type === 'dir' && y.type === 'dir' && x.mode !== y.mode) {
      problems.push(`${path}: folder mode ${octal(x.mode)} became ${octal(y.mode)}`);
    }
  }
  for (const path of b.keys()) if (!a.has(path)) problems.push(`unexpected: ${path}`);
  return problems;
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
