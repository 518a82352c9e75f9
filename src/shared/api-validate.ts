/**
 * The runtime check of every NetsyncApi call's arguments. Both hosts run it
 * on whatever crosses their boundary before it reaches the engine; the
 * engine's worker runs it again, so no host can forget.
 */
import { readAddress } from './address.js';
import { type ApiArgs, type ApiMethod, type Result, err, ok } from './api.js';
import { withWhatToDo } from './error-advice.js';
import { parseFingerprint } from './fingerprint.js';
import { type Schema, args, array, boolean, integer, named, object, oneOf, optional, string, union } from './schema.js';

const MAX_PATTERNS = 64;

const PATTERN_CHARS = 'letters, digits, . _ + - and the globs * ?';
/** Branch globs as the engine accepts them (src/engine/security/patterns.ts), without the '!' prefix. */
const pattern = named(
  'the pattern',
  string({ min: 1, max: 255, pattern: /^[A-Za-z0-9_.+*?-]+$/, expect: 'a branch pattern', fix: `use ${PATTERN_CHARS}, and separate patterns with spaces` }),
);
const patterns = array(pattern, MAX_PATTERNS);
const path = string({ min: 1, max: 4096, check: (p) => (p.includes('\0') ? 'contains a NUL character' : null) });
const id = string({ min: 1, max: 128, pattern: /^[A-Za-z0-9_-]+$/, expect: 'an id (letters, digits, _ and -)' });
const itemRef = string({ min: 6, max: 64, pattern: /^[0-9a-fA-F]+$/, expect: '6 to 64 hex digits', fix: 'give at least 6 hex digits of the id' });
const branch = string({ min: 1, max: 255, pattern: /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, expect: 'a branch name' });
const target = string({ min: 1, max: 255, pattern: /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, expect: 'a branch name or a manifest id' });
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const peerName = string({ min: 1, max: 64, check: (s) => (/[\u0000-\u001f]/.test(s) ? 'contains control characters' : null), fix: 'type a name on one line' });
/** Why `text` is not an address to connect to (or to bind, with port 0), as the command line says it (shared/address.ts). */
const notAnAddress = (use: 'connect' | 'bind') => (text: string) => {
  const read = readAddress(text, use);
  if (read.ok) return null;
  // The whole text as the host: said once, not quoted twice.
  const whole = `"${text}" `;
  return read.problem.startsWith(whole) ? read.problem.slice(whole.length) : `is not an address: ${read.problem}`;
};
const address = string({ min: 1, max: 300, check: notAnAddress('connect'), fix: 'type HOST or HOST:PORT (port 4691 when none is given)' });
const bind = string({
  min: 1,
  max: 300,
  check: notAnAddress('bind'),
  fix: 'type HOST:PORT, such as 0.0.0.0:4691 for every network or 127.0.0.1:4691 for this machine only',
});
const keyName = string({
  min: 1,
  max: 255,
  pattern: /^[A-Za-z0-9][A-Za-z0-9@._+-]*$/,
  expect: 'a key name',
  fix: 'use letters, digits and @ . _ + -, such as alice@example.org',
});
const passphrase = string({ min: 1, max: 1024, secret: true });
const identityChoice = union(
  '{ kind: "key", name } or { kind: "anonymous" }',
  object({ kind: oneOf('key'), name: keyName }),
  object({ kind: oneOf('anonymous') }),
);
/** 64 hex digits, grouped or not (spaces, ':' or '-' between them), as fingerprints are shown and pasted. */
const fingerprint = string({
  min: 64,
  max: 200,
  check: (s) => (parseFingerprint(s) ? null : 'is not a fingerprint (64 hex digits)'),
  fix: 'paste all 16 groups of 4 hex digits',
});
/** A key item's id, as certs name their signer and `listKeys` gives it. */
const keyId = string({ min: 1, max: 200, check: (s) => (/^[0-9a-fA-F]{64}$/.test(s) ? null : 'is not a key id (64 hex digits)') });
const publicKeyText = string({ min: 1, max: 2000 });
/** A changelog: a line or a few paragraphs (a cert value may hold 1 MiB; a message box needs far less). */
const message = string({ min: 0, max: 64 * 1024, check: (s) => (s.includes('\0') ? 'contains a NUL character' : null) });
/** Below the web host's 1 MiB message limit with room for JSON escapes. */
const permissionsText = string({ min: 0, max: 256 * 1024, check: (s) => (s.includes('\0') ? 'contains a NUL character' : null) });
const peerFields = { name: named('the peer name', peerName), address: named('the address', address) };
/** A kept peer's interval: an up-to-date check is one round trip, so even every 5 s is cheap; a day is the longest. */
export const MIN_INTERVAL_S = 5;
export const MAX_INTERVAL_S = 86_400;
/** What one diffItems call may return: a screenful or two of rows, never the whole list. */
export const MAX_DIFF_PAGE = 1000;

/**
 * One schema per call of NetsyncApi, and no other (checked by the compiler
 * below): the runtime list of calls is this object's keys (api-calls.ts).
 */
export const argSchemas = {
  openDatabase: args(optional(named('the database path', path))),
  getStatus: args(),
  listBranches: args(),
  log: args(named('the branch', branch)),
  show: args(named('the item id', itemRef)),
  merge: args(named('the branch', branch)),
  checkout: args(named('what to check out', target), named('the folder', path)),
  previewCommit: args(named('the folder', path), named('the branch', branch)),
  commitFolder: args(named('the folder', path), named('the branch', branch), named('the message', message), optional(named('the key name', keyName))),
  pickFolder: args(named('the title', string({ min: 1, max: 200 }))),
  listPeers: args(),
  addPeer: args(object(peerFields)),
  updatePeer: args(
    named('the peer id', id),
    object({
      name: optional(peerFields.name),
      address: optional(peerFields.address),
      direction: optional(named('the direction', oneOf('sync', 'push', 'pull'))),
      include: optional(named('the branches to include', patterns)),
      exclude: optional(named('the branches to exclude', patterns)),
      keepInSync: optional(named('keep in sync', boolean())),
      intervalSeconds: optional(named('the interval in seconds', integer(MIN_INTERVAL_S, MAX_INTERVAL_S))),
    }),
  ),
  removePeer: args(named('the peer id', id)),
  diff: args(named('the peer id', id)),
  sync: args(named('the peer id', id)),
  cancel: args(named('the session id', id)),
  startServer: args(object({ bind: named('the address to listen on', bind), patterns: named('the branches offered', patterns) })),
  stopServer: args(),
  serverStatus: args(),
  listKeys: args(),
  generateKey: args(named('the key name', keyName), optional(named('the passphrase', passphrase))),
  importKey: args(named('the pasted key', publicKeyText)),
  getIdentity: args(),
  setIdentity: args(named('the identity', identityChoice)),
  unlockKey: args(named('the key name', keyName), named('the passphrase', passphrase)),
  answerServerPrompt: args(named('the question id', id), named('the answer', boolean())),
  trustServer: args(named('the server address', address), named('the fingerprint', fingerprint)),
  trustKey: args(named('the key id', keyId)),
  untrustKey: args(named('the key id', keyId)),
  diffItems: args(
    named('the session id', id),
    named('the side', oneOf('weLack', 'theyLack')),
    named('the offset', integer(0, 100_000_000)),
    named('the page size', integer(1, MAX_DIFF_PAGE)),
    optional(named('the branch', branch)),
  ),
  getPermissions: args(),
  setPermissions: args(named('the permissions text', permissionsText)),
  listKnownKeys: args(),
  listTransfers: args(),
  setAutoSyncPaused: args(named('paused', boolean())),
  syncAllNow: args(),
} satisfies { [M in ApiMethod]: Schema<ApiArgs<M>> };

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.hasOwn(argSchemas, name);
}

/** The arguments, typed, or a 'bad-request' error with one sentence. */
export function checkArgs<M extends ApiMethod>(method: M, values: unknown): Result<ApiArgs<M>> {
  const schema: Schema<unknown> = argSchemas[method];
  const problem = schema.problem(values, 'the call');
  if (problem) return err('bad-request', withWhatToDo('bad-request', problem));
  return ok(values as ApiArgs<M>);
}

/** Checks a whole request whose method name is not trusted yet. */
export function checkRequest(method: unknown, values: unknown): Result<{ method: ApiMethod; args: unknown[] }> {
  if (!isApiMethod(method)) return err('bad-request', withWhatToDo('bad-request', `Netsync has no call named ${JSON.stringify(String(method).slice(0, 40))}`));
  const checked = checkArgs(method, values);
  return checked.ok ? ok({ method, args: checked.value as unknown[] }) : checked;
}
