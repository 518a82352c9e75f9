/**
 * The runtime check of every NetsyncApi call's arguments. Both hosts run it
 * on whatever crosses their boundary before it reaches the engine; the
 * engine's worker runs it again, so no host can forget.
 */
import { parseAddress } from './address.js';
import { type ApiArgs, type ApiMethod, type Result, err, ok } from './api.js';
import { type Schema, args, array, boolean, integer, object, oneOf, optional, string, union } from './schema.js';

const MAX_PATTERNS = 64;

/** Branch globs as the engine accepts them (src/engine/security/patterns.ts), without the '!' prefix. */
const pattern = string({ min: 1, max: 255, pattern: /^[A-Za-z0-9_.+*?-]+$/, expect: 'a branch pattern (letters, digits, . _ + - and the globs * ?)' });
const patterns = array(pattern, MAX_PATTERNS);
const path = string({ min: 1, max: 4096, check: (p) => (p.includes('\0') ? 'contains a NUL character' : null) });
const id = string({ min: 1, max: 128, pattern: /^[A-Za-z0-9_-]+$/, expect: 'an id (letters, digits, _ and -)' });
const itemRef = string({ min: 6, max: 64, pattern: /^[0-9a-fA-F]+$/, expect: '6 to 64 hex digits' });
const branch = string({ min: 1, max: 255, pattern: /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, expect: 'a branch name' });
const target = string({ min: 1, max: 255, pattern: /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, expect: 'a branch name or a manifest id' });
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const peerName = string({ min: 1, max: 64, check: (s) => (/[\u0000-\u001f]/.test(s) ? 'contains control characters' : null) });
const address = string({ min: 1, max: 300, check: (s) => (parseAddress(s) ? null : 'is not HOST or HOST:PORT') });
const bind = string({ min: 1, max: 300, check: (s) => (parseAddress(s, undefined, true) ? null : 'is not HOST:PORT') });
const keyName = string({ min: 1, max: 255, pattern: /^[A-Za-z0-9][A-Za-z0-9@._+-]*$/, expect: 'a key name (letters, digits, @ . _ + -)' });
const passphrase = string({ min: 1, max: 1024 });
const identityChoice = union(
  '{ kind: "key", name } or { kind: "anonymous" }',
  object({ kind: oneOf('key'), name: keyName }),
  object({ kind: oneOf('anonymous') }),
);
/** 64 hex digits, grouped or not (spaces, ':' or '-' between them), as fingerprints are shown and pasted. */
const fingerprint = string({
  min: 64,
  max: 200,
  check: (s) => (/^[0-9a-fA-F]{64}$/.test(s.replace(/[\s:-]/g, '')) ? null : 'is not a fingerprint (64 hex digits)'),
});
/** A key item's id, as certs name their signer and `listKeys` gives it. */
const keyId = string({ min: 1, max: 200, check: (s) => (/^[0-9a-fA-F]{64}$/.test(s) ? null : 'is not a key id (64 hex digits)') });
const publicKeyText = string({ min: 1, max: 2000 });
/** Below the web host's 1 MiB message limit with room for JSON escapes. */
const permissionsText = string({ min: 0, max: 256 * 1024, check: (s) => (s.includes('\0') ? 'contains a NUL character' : null) });
/** What one diffItems call may return: a screenful or two of rows, never the whole list. */
export const MAX_DIFF_PAGE = 1000;

/**
 * One schema per call of NetsyncApi, and no other (checked by the compiler
 * below): the runtime list of calls is this object's keys (api-calls.ts).
 */
export const argSchemas = {
  openDatabase: args(optional(path)),
  getStatus: args(),
  listBranches: args(),
  log: args(branch),
  show: args(itemRef),
  checkout: args(target, path),
  listPeers: args(),
  addPeer: args(object({ name: peerName, address })),
  updatePeer: args(
    id,
    object({
      name: optional(peerName),
      address: optional(address),
      direction: optional(oneOf('sync', 'push', 'pull')),
      include: optional(patterns),
      exclude: optional(patterns),
    }),
  ),
  removePeer: args(id),
  diff: args(id),
  sync: args(id),
  cancel: args(id),
  startServer: args(object({ bind, patterns })),
  stopServer: args(),
  serverStatus: args(),
  listKeys: args(),
  generateKey: args(keyName, optional(passphrase)),
  importKey: args(publicKeyText),
  getIdentity: args(),
  setIdentity: args(identityChoice),
  unlockKey: args(keyName, passphrase),
  answerServerPrompt: args(id, boolean()),
  trustServer: args(address, fingerprint),
  trustKey: args(keyId),
  untrustKey: args(keyId),
  diffItems: args(id, oneOf('weLack', 'theyLack'), integer(0, 100_000_000), integer(1, MAX_DIFF_PAGE), optional(branch)),
  getPermissions: args(),
  setPermissions: args(permissionsText),
} satisfies { [M in ApiMethod]: Schema<ApiArgs<M>> };

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.hasOwn(argSchemas, name);
}

/** The arguments, typed, or a 'bad-request' error with one sentence. */
export function checkArgs<M extends ApiMethod>(method: M, values: unknown): Result<ApiArgs<M>> {
  const schema: Schema<unknown> = argSchemas[method];
  const problem = schema.problem(values, 'the call');
  if (problem) return err('bad-request', `Refused ${method}: ${problem}.`);
  return ok(values as ApiArgs<M>);
}

/** Checks a whole request whose method name is not trusted yet. */
export function checkRequest(method: unknown, values: unknown): Result<{ method: ApiMethod; args: unknown[] }> {
  if (!isApiMethod(method)) return err('bad-request', `Refused an unknown call "${String(method).slice(0, 40)}".`);
  const checked = checkArgs(method, values);
  return checked.ok ? ok({ method, args: checked.value as unknown[] }) : checked;
}
