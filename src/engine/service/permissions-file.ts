/**
 * The server's permissions file (docs/SECURITY.md §4) as the app edits it:
 * `<config>/permissions`, the file the engine's server reads again at every
 * session start, so a saved change applies from the next session on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LineProblem, PermissionsFile } from '../../shared/api.js';
import { PERMISSIONS_FILE, Permissions } from '../security/permissions.js';
import { refuse } from './errors.js';
import { writePrivateFile } from './files.js';

export function permissionsPath(configDir: string): string {
  return join(configDir, PERMISSIONS_FILE);
}

export function readPermissions(configDir: string): PermissionsFile {
  const path = permissionsPath(configDir);
  if (!existsSync(path)) return { path, text: '', exists: false, rules: 0 };
  const text = readFileSync(path, 'utf8');
  const problems = Permissions.problems(text);
  // A file broken outside the app is still shown, so it can be fixed here; the engine serves it as "no rule".
  return { path, text, exists: true, rules: problems.length > 0 ? 0 : Permissions.parse(text, path).ruleCount };
}

/** Saves `text` when every line is right; otherwise refuses with every wrong line and writes nothing. */
export function writePermissions(configDir: string, text: string): PermissionsFile {
  const problems = Permissions.problems(text);
  if (problems.length > 0) refuse('bad-permissions', `the permissions were not saved: ${describeProblems(problems)}`, { lines: problems });
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  writePrivateFile(permissionsPath(configDir), body);
  return readPermissions(configDir);
}

function describeProblems(problems: LineProblem[]): string {
  const first = problems[0]!;
  const more = problems.length - 1;
  return `line ${first.line}: ${first.message}${more > 0 ? ` (and ${more} more line${more === 1 ? '' : 's'})` : ''}`;
}
