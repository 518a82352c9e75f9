/**
 * Every sentence an ApiError carries says what happened and, after "; ",
 * what to do. The place that fails knows best and says both when it can
 * ("nothing is listening at h:1 (connection refused); is the peer's server
 * running?"); otherwise its code's advice below completes it. A Record, so
 * a code added to ApiErrorCode does not compile until it has its advice.
 */
import type { ApiErrorCode } from './api.js';

export const WHAT_TO_DO: Record<ApiErrorCode, string> = {
  'bad-request': 'correct it and try again',
  forbidden: 'use Netsync from its own window',
  'engine-unavailable': 'try again, and restart Netsync if it keeps failing',
  usage: 'correct it and try again',
  busy: 'wait until it ends, or cancel it first',
  'not-found': 'check the name or id, and reload the list if it may be stale',
  cancelled: 'start it again when you want (what arrived so far was kept)',
  internal: 'try again, and if it happens again, report it with the log (the command line shows more with --verbose)',
  'db-missing': 'open or create a database first',
  'db-newer': 'open it with the newer Netsync that wrote it',
  'db-corrupt': 'run "netsync db check" to see what is damaged, then "netsync db rebuild-index" (the index is rebuilt from the items)',
  io: 'check that the disk has room and the files can be written, then try again',
  'bad-item': 'nothing of it was kept; ask the peer\'s owner to run "netsync db check" on their database',
  'bad-signature': 'nothing of it was kept; ask the peer\'s owner to run "netsync db check" on their database',
  'missing-reference': 'nothing of it was kept; ask the peer\'s owner to run "netsync db check" on their database',
  'too-large': 'nothing of it was kept; such items must be split (a commit chunks big files by itself)',
  key: 'check the keys on the Identity screen: make one, choose another, or import the right one',
  'key-locked': 'enter its passphrase when asked',
  'bad-passphrase': 'type the passphrase again (letters are case-sensitive)',
  'identity-required': 'choose a key (or Anonymous) on the Identity screen',
  unreachable: "check the address, and that the peer's server is running",
  timeout: "check the network and that the peer's server is running, then try again",
  protocol: 'check that the address is that of a Netsync server of a compatible version, then try again',
  permission: "ask the server's owner for a rule for your key, or check who may use the file or address",
  'server-refused': "connect again to be asked again, and accept once the server's owner has read you its fingerprint",
  'server-key-changed': 'check the new fingerprint with its owner before you trust it',
  'address-in-use': 'choose another port (0 lets the system pick a free one), or stop the other program',
  'address-unavailable': 'choose an address of this machine: 0.0.0.0 for every network, 127.0.0.1 for this machine only',
  'bad-permissions': 'correct the lines named and save again',
};

/** Whether a sentence already says what to do: a clause after "; ", or a question ("is the peer's server running?"). */
export function saysWhatToDo(sentence: string): boolean {
  return /; \S/.test(sentence) || sentence.endsWith('?');
}

/**
 * `text` as the one sentence shown: on one line, capitalised (unless it
 * starts with the value it is about, an address or a path, which stays as
 * typed), ending in a full stop, with the code's advice when it gives none.
 */
export function withWhatToDo(code: ApiErrorCode, text: string): string {
  const t = text.trim().replace(/\s+/g, ' ').replace(/\.+$/, '');
  const what = t === '' ? 'Something went wrong' : /^[a-z]+[ ,]/.test(t) ? t[0]!.toUpperCase() + t.slice(1) : t;
  if (!saysWhatToDo(what)) return `${what}; ${WHAT_TO_DO[code]}.`;
  return /[.!?]$/.test(what) ? what : `${what}.`;
}
