/**
 * What a commit leaves out, with `.gitignore` semantics through the `ignore`
 * package: a `.netsyncignore` file in any folder holds patterns for the
 * paths below that folder (relative to it), a deeper file's rules coming
 * after its parents' (so `!pattern` there takes a path back), and
 * `commit --exclude PATTERN` adds patterns of the root's, applied last. A
 * folder left out is not entered, so nothing below it can be taken back, as
 * with git. `.netsyncignore` files themselves are committed like any file
 * (unless a pattern says otherwise); the workspace record `.netsync/` never is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { fail } from '../errors.js';

export const IGNORE_FILE = '.netsyncignore';

/** Whether a path ('/'-separated, relative to the committed folder) is left out; `isDir` for a folder. */
export type IgnoredPath = (rel: string, isDir: boolean) => boolean;

/** The rules of the folder `root`: its `.netsyncignore` files, read as the walk reaches each folder, and `excludes`. */
export function ignoreRules(root: string, excludes: readonly string[]): IgnoredPath {
  const command = excludes.length > 0 ? ignore().add([...excludes]) : null;
  /** Per folder ('' the root): its file's rules, or null when it has none. */
  const byFolder = new Map<string, Ignore | null>();
  const rulesOf = (folder: string): Ignore | null => {
    let rules = byFolder.get(folder);
    if (rules !== undefined) return rules;
    let text: string | null = null;
    try {
      text = readFileSync(join(root, ...(folder ? folder.split('/') : []), IGNORE_FILE), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR')
        fail('io', `cannot read ${join(root, folder, IGNORE_FILE)}: ${code ?? (e as Error).message}`);
    }
    rules = text === null ? null : ignore().add(text);
    byFolder.set(folder, rules);
    return rules;
  };
  return (rel, isDir) => {
    const asked = isDir ? `${rel}/` : rel;
    let ignored = false;
    // Each folder above the path, the root first: a deeper file's rules come later and win.
    for (let at = -1; at !== rel.length; ) {
      const folder = at < 0 ? '' : rel.slice(0, at);
      const rules = rulesOf(folder);
      if (rules) {
        const r = rules.test(at < 0 ? asked : asked.slice(at + 1));
        if (r.ignored) ignored = true;
        else if (r.unignored) ignored = false;
      }
      const next = rel.indexOf('/', at + 1);
      at = next < 0 ? rel.length : next;
    }
    if (command) {
      const r = command.test(asked);
      if (r.ignored) ignored = true;
    }
    return ignored;
  };
}
