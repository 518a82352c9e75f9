/**
 * Who may read and write which branches on a server (docs/SECURITY.md
 * §Permissions). The file, by default `<config>/permissions`, has one rule
 * per line:
 *
 *     read   WHO  PATTERN...
 *     write  WHO  PATTERN...
 *
 * WHO is a key fingerprint (64 hex digits, or the 16 groups of 4 as
 * `netsync key fingerprint` prints them), `anonymous` (a client that
 * presents no key) or `*` (any client that presents a key). PATTERNs are
 * branch globs as on the command line; a leading `!` excludes within that
 * rule. `#` starts a comment. Rules only grant: a client may read a branch
 * when some read rule for it selects the branch, and write a branch when
 * some write rule selects it AND it may read it (finding what the server
 * lacks shows what it holds, so writing without reading cannot be offered).
 * The server's own key may read and write everything; nobody else may do
 * anything that is not granted.
 */
import { readFileSync, statSync } from 'node:fs';
import { NetsyncError, fail } from '../errors.js';
import { branchFilter, type BranchFilter } from './patterns.js';
import { fingerprintHex, parseFingerprint } from './fingerprint.js';

export const PERMISSIONS_FILE = 'permissions';
const MAX_FILE = 1 << 20;

type Who = { kind: 'key'; fingerprint: string } | { kind: 'anonymous' } | { kind: 'any-key' };

interface Rule {
  access: 'read' | 'write';
  who: Who;
  branches: BranchFilter;
  line: number;
}

/** What one client may do in one session. */
export interface Access {
  /** Fingerprint (canonical hex) of the client's key, or null for an anonymous client. */
  readonly client: string | null;
  /** True for the server's own key. */
  readonly owner: boolean;
  mayRead(branch: string): boolean;
  mayWrite(branch: string): boolean;
}

export class Permissions {
  private constructor(
    private readonly rules: Rule[],
    readonly source: string,
  ) {}

  /** No rule at all: only the server's own key may read or write. */
  static none(source = '(no permissions file)'): Permissions {
    return new Permissions([], source);
  }

  /** Parses a permissions file's text; throws NetsyncError('usage') naming the line of the first mistake. */
  static parse(text: string, source = 'permissions'): Permissions {
    const rules = text.split('\n').flatMap((raw, i) => parseRule(raw, i + 1, source) ?? []);
    return new Permissions(rules, source);
  }

  /** Every wrong line of a permissions text, for an editor to show at once (empty: the text parses). */
  static problems(text: string): { line: number; message: string }[] {
    const problems: { line: number; message: string }[] = [];
    text.split('\n').forEach((raw, i) => {
      try {
        parseRule(raw, i + 1, null);
      } catch (e) {
        if (!(e instanceof NetsyncError)) throw e;
        problems.push({ line: i + 1, message: e.message });
      }
    });
    return problems;
  }

  /** Reads and parses a file; a missing file grants nothing (only the server's own key may act). */
  static load(path: string): Permissions {
    let size: number;
    try {
      size = statSync(path).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Permissions.none(path);
      return fail('io', `cannot read the permissions file ${path}: ${(e as Error).message}`);
    }
    if (size > MAX_FILE) fail('usage', `the permissions file ${path} is larger than ${MAX_FILE} bytes`);
    return Permissions.parse(readFileSync(path, 'utf8'), path);
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  /**
   * The access of a client that proved it holds `clientKey` (raw Ed25519
   * public key), or of an anonymous client (null). `serverKey` is this
   * server's own key, which may do everything.
   */
  accessFor(clientKey: Buffer | null, serverKey: Buffer): Access {
    const client = clientKey ? fingerprintHex(clientKey) : null;
    const owner = clientKey?.equals(serverKey) === true;
    const applies = (who: Who) => (who.kind === 'anonymous' ? client === null : who.kind === 'any-key' ? client !== null : client === who.fingerprint);
    const reads = this.rules.filter((r) => r.access === 'read' && applies(r.who)).map((r) => r.branches);
    const writes = this.rules.filter((r) => r.access === 'write' && applies(r.who)).map((r) => r.branches);
    const mayRead = (branch: string) => owner || reads.some((f) => f.matches(branch));
    return {
      client,
      owner,
      mayRead,
      mayWrite: (branch) => owner || (mayRead(branch) && writes.some((f) => f.matches(branch))),
    };
  }
}

/**
 * One line's rule, null for a blank or comment line. A mistake throws a
 * message that starts with `source:line: ` (nothing when `source` is null:
 * the caller shows the line number its own way).
 */
function parseRule(raw: string, line: number, source: string | null): Rule | null {
  const words = raw.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const where = source === null ? '' : `${source}:${line}: `;
  const [access, ...rest] = words;
  if (access !== 'read' && access !== 'write') fail('usage', `${where}a rule starts with "read" or "write", not "${access}"`);
  const { who, patterns } = parseWho(rest, where);
  if (patterns.length === 0) fail('usage', `${where}no branch pattern after who the rule is for`);
  try {
    return { access, who, branches: branchFilter(patterns), line };
  } catch (e) {
    return fail('usage', `${where}${(e as Error).message}`);
  }
}

/** WHO: `anonymous`, `*`, a 64-digit fingerprint, or one written as 16 groups of 4 hex digits. */
function parseWho(words: string[], where: string): { who: Who; patterns: string[] } {
  const [first, ...rest] = words;
  if (first === undefined) return fail('usage', `${where}missing who the rule is for (a key fingerprint, "anonymous" or "*")`);
  if (first === 'anonymous') return { who: { kind: 'anonymous' }, patterns: rest };
  if (first === '*') return { who: { kind: 'any-key' }, patterns: rest };
  if (/^[0-9a-fA-F]{4}$/.test(first)) {
    const groups = words.slice(0, 16);
    const fp = groups.length === 16 && groups.every((g) => /^[0-9a-fA-F]{4}$/.test(g)) ? parseFingerprint(groups.join('')) : null;
    if (!fp) fail('usage', `${where}"${groups.join(' ')}" is not a whole fingerprint (16 groups of 4 hex digits)`);
    return { who: { kind: 'key', fingerprint: fp }, patterns: words.slice(16) };
  }
  const fp = parseFingerprint(first);
  if (!fp) fail('usage', `${where}"${first}" is not a key fingerprint, "anonymous" or "*"`);
  return { who: { kind: 'key', fingerprint: fp }, patterns: rest };
}
