/** Small private files of the config folder (peers, identity choice, permissions). */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes `text` to a temporary file and renames it over `path`, so a crash
 * never leaves half a file; mode 0600 in a 0700 folder, as the config folder's
 * files are (docs/SECURITY.md).
 */
export function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}
