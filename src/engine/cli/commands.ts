/**
 * Every command of `netsync`, as data: its name, arguments, options and help.
 * program.ts builds the parser and the help from this table; a command's code
 * is loaded only when it runs, so `netsync --version` or `--help` never loads
 * the store. Adding a command is one entry here and one function; adding an
 * option is one line here and one read of it in the function.
 *
 * Names may grow, never change (the contract in docs: PRODUCT "Command line").
 */
import type { Command } from './local-commands.js';

/** One option: commander's flags (`-b, --branch <B>`, `--json`) and a line of help. */
export interface OptionSpec {
  flags: string;
  help: string;
  required?: boolean;
  /** May be given more than once: the command gets every value, in order. */
  repeatable?: boolean;
  /** Long names (without dashes) of options this one cannot be given with. */
  conflicts?: string[];
}

export type Section = 'database' | 'keys' | 'network';

export interface CommandSpec {
  /** `pull`, or `db init` for a command of a group. */
  name: string;
  /** In order: `DIR` required, `[NAME]` optional, `PATTERN...` one or more, `[PATTERN...]` any number. */
  args?: string[];
  options?: OptionSpec[];
  /** One line, for the list of commands. */
  summary: string;
  /** The command's own help, below its usage (the summary when absent). */
  description?: string;
  examples?: string[];
  section: Section;
  load: () => Promise<Command>;
}

export const SECTIONS: Record<Section, string> = {
  database: 'The local database',
  keys: 'Keys and whose signatures you trust',
  network: 'Network (TLS 1.3; default port 4691)',
};

/** The commands that are words of a group (`db init`), and what the group is for. */
export const GROUPS: Record<string, string> = {
  db: 'Create, verify and repair the local database.',
  key: 'Make, list, share and trust signing keys.',
};

type CommandsOf<M> = { [K in keyof M]: M[K] extends Command ? K : never }[keyof M];
const local = (name: CommandsOf<typeof import('./local-commands.js')>) => async () => (await import('./local-commands.js'))[name] as Command;
const security = (name: CommandsOf<typeof import('./security-commands.js')>) => async () => (await import('./security-commands.js'))[name] as Command;
const net = (name: CommandsOf<typeof import('./net-commands.js')>) => async () => (await import('./net-commands.js'))[name] as Command;
const watchCommand = async () => (await import('./watch-command.js')).watch;

const KEY: OptionSpec = { flags: '--key <NAME>', help: 'the key to connect as (default: $NETSYNC_KEY, else your only key)', conflicts: ['anonymous'] };
const ANONYMOUS: OptionSpec = { flags: '--anonymous', help: 'connect without a key, even when you have one' };
const JSON_LINE: OptionSpec = { flags: '--json', help: 'end with a JSON summary line on stdout (itemsSent, itemsReceived, bytes, roundTrips, ms, ...)' };
const DRY_RUN: OptionSpec = { flags: '--dry-run', help: 'find and print the difference both ways; move nothing' };
const SESSION_ARGS = ['HOST[:PORT]', 'PATTERN...'];
const PATTERNS = 'PATTERN is a branch glob (org.example.*); a leading ! excludes (!org.example.secret*).';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'db init',
    section: 'database',
    summary: 'create an empty database',
    description: 'Create an empty database at --db PATH (default: $NETSYNC_DB, else the app-data folder).',
    load: local('dbInit'),
  },
  {
    name: 'db check',
    section: 'database',
    summary: 'verify every item and the index',
    description:
      'Re-verify every stored item (its bytes hash to its id, its signatures verify) and compare the index with a fresh rebuild. ' +
      'Prints each problem; fails when there is any.',
    load: local('dbCheck'),
  },
  {
    name: 'db rebuild-index',
    section: 'database',
    summary: 'regenerate the index from the items',
    description: 'Regenerate the index (branch members, the Merkle tries) from the stored items: the index is disposable, the items are the truth.',
    load: local('dbRebuildIndex'),
  },
  {
    name: 'commit',
    section: 'database',
    args: ['DIR'],
    options: [
      { flags: '-b, --branch <B>', help: 'the branch whose new head this is', required: true },
      { flags: '-m, --message <M>', help: 'the changelog' },
      { flags: '--key <NAME>', help: 'the key to sign with (default: $NETSYNC_KEY, else your only key)' },
      { flags: '--rehash', help: "read every file again, ignoring the folder's stat cache in DIR/.netsync" },
      {
        flags: '--exclude <PATTERN>',
        help: 'leave out paths matching PATTERN (.gitignore syntax, as in a .netsyncignore at the root of DIR); may be repeated',
        repeatable: true,
      },
      {
        flags: '--parent <ID|head>',
        help: "the version DIR starts from, for a folder without a workspace record committed onto an existing branch: an id, or 'head' (the branch's only head)",
      },
    ],
    summary: 'record a folder as the new head of a branch',
    description:
      'Record the folder DIR (files, folders, executable bits) as a new revision of branch B, signed with your key. Its parent is the revision DIR came from (its workspace record DIR/.netsync, written by checkout and commit), so a commit never swallows another head: when that parent is no longer the only head, the branch gets one more. ' +
      'A folder without a record starts a new branch freely; onto an existing branch it needs --parent ID|head, and the commit first prints what it adds (A), changes (M) and removes (D) relative to that parent (without it: refused, exit 10). ' +
      'Files whose size, time and inode are unchanged since the record are not read again. ' +
      'Symbolic links are recorded as links (their targets as data, never followed). A .netsyncignore file in any folder leaves out the paths below it that match its patterns (.gitignore syntax); --exclude adds patterns; DIR/.netsync is never recorded. ' +
      'Entries that cannot be recorded (unreadable, a FIFO, a socket, a device) are each named, and nothing is committed (exit 10).',
    examples: ['netsync commit ./project --branch org.example.web -m "first import"', 'netsync commit ./export --branch org.example.web --parent head'],
    load: local('commit'),
  },
  { name: 'branches', section: 'database', summary: 'list the branches, their item counts and heads', load: local('branches') },
  {
    name: 'heads',
    section: 'database',
    args: ['BRANCH'],
    summary: "list a branch's heads",
    description:
      'List the heads of BRANCH, newest first: each version no other version of the branch names as a parent, with its date and author. Two or more mean concurrent commits; `netsync merge BRANCH` joins them.',
    load: local('heads'),
  },
  {
    name: 'merge',
    section: 'database',
    args: ['BRANCH'],
    options: [
      { flags: '--into <DIR>', help: 'write the merged tree (conflict markers and all) into DIR, a new or empty folder, instead of committing it' },
      { flags: '-m, --message <M>', help: 'the changelog (default: "merge of A and B")' },
      { flags: '--key <NAME>', help: 'the key to sign with (default: $NETSYNC_KEY, else your only key)' },
    ],
    summary: 'join two heads of a branch',
    description:
      'Join two heads of BRANCH by a three-way merge against their common ancestor, text files line by line, and record the result as a revision with both heads as parents, signed with your key. ' +
      'A conflict (the same lines changed differently, modify/delete, file/folder, executable bits, link targets, a binary file changed on both sides) commits nothing: each is listed and the exit code is 12. ' +
      'With --into DIR the merged tree is written with conflict markers; `netsync commit DIR` then records both heads as parents. More than two heads: the two newest are merged; run it again.',
    examples: ['netsync merge org.example.web', 'netsync merge org.example.web --into ./merged'],
    load: local('merge'),
  },
  {
    name: 'log',
    section: 'database',
    args: ['BRANCH'],
    options: [{ flags: '--graph', help: 'draw the revision graph, one line a version, heads marked (as git log --graph)' }],
    summary: "show a branch's history",
    description:
      "Show a branch's history: each revision (or older manifest) with its date, author, parents, who signed it (keys you do not trust are marked) and changelog; heads are marked (head).",
    load: local('log'),
  },
  {
    name: 'show',
    section: 'database',
    args: ['ID'],
    summary: 'show a stored item',
    description:
      "Show a stored item by its id or a unique prefix (6+ hex digits): a revision's tree, parents and certs, a tree node's entries, a manifest's entries and certs, a file's chunks, a cert, a key.",
    load: local('show'),
  },
  {
    name: 'checkout',
    section: 'database',
    args: ['BRANCH|ID', 'DIR'],
    summary: "write a branch's head into a new folder",
    description:
      'Write the head of BRANCH, or the revision or manifest ID, into DIR (a new or empty folder), with a workspace record DIR/.netsync that the next commit of DIR names as its parent. A branch with several heads is refused; check out one by its id.',
    load: local('checkout'),
  },
  {
    name: 'key generate',
    section: 'keys',
    args: ['NAME'],
    options: [{ flags: '--passphrase', help: 'protect the private half with a passphrase (asked on the terminal, or $NETSYNC_PASSPHRASE)' }],
    summary: 'make a signing key',
    description:
      'Make an Ed25519 signing key named NAME (an email address, say). The private half stays in the config folder (mode 0600), never in the database; ' +
      'the public half is added to the database when there is one.',
    load: local('keyGenerate'),
  },
  { name: 'key list', section: 'keys', summary: "list keys: yours, and the database's", load: local('keyList') },
  { name: 'key export', section: 'keys', args: ['NAME'], summary: "print a key's public half, to give to others", load: local('keyExport') },
  {
    name: 'key import',
    section: 'keys',
    args: ['FILE|-'],
    summary: 'add a public key to the database (- reads stdin)',
    load: local('keyImport'),
  },
  {
    name: 'key fingerprint',
    section: 'keys',
    args: ['[NAME|ID]'],
    summary: 'print the fingerprint a key is known by',
    description: 'Print the fingerprint of a key (yours when you have just one): what a permissions file names, and what you compare with a peer.',
    load: security('keyFingerprint'),
  },
  { name: 'key trust', section: 'keys', args: ['NAME|ID'], summary: 'show its signatures as trusted in log', load: security('keyTrust') },
  { name: 'key untrust', section: 'keys', args: ['NAME|ID'], summary: 'stop trusting a key (your own keys stay trusted)', load: security('keyUntrust') },
  {
    name: 'serve',
    section: 'network',
    args: ['[PATTERN...]'],
    options: [
      { flags: '--bind <HOST:PORT>', help: 'where to listen (default: every address, port 4691; port 0 picks a free one)' },
      { flags: '--key <NAME>', help: 'the key the server proves itself with (default: $NETSYNC_KEY, else your only key)' },
      { flags: '--permissions <FILE>', help: 'who may read and write what (default: the config folder\'s "permissions"; read again at every session)' },
      {
        flags: '--mirror <HOST[:PORT]>',
        help: "another server to keep this one's patterns in sync with, on every change here and every minute (repeatable)",
        repeatable: true,
      },
    ],
    summary: 'serve the database to peers',
    description:
      `Serve the branches matching PATTERN (all when none) to peers, until SIGINT or SIGTERM. ${PATTERNS} Who may read and write: docs/SECURITY.md. ` +
      "Each --mirror server is kept in sync with this one (these patterns, both ways, as this server's key) as `netsync watch` does: " +
      'servers that mirror each other serve one collection, each taking writes (docs/ARCHITECTURE.md, "Mirrors").',
    examples: ["netsync serve --bind 0.0.0.0:4691 'org.example.*'", 'netsync serve --mirror b.example.org --mirror c.example.org'],
    load: net('serve'),
  },
  {
    name: 'sync',
    section: 'network',
    args: SESSION_ARGS,
    options: [DRY_RUN, JSON_LINE, KEY, ANONYMOUS],
    summary: 'exchange both ways: both end with the union',
    description: `Exchange the branches matching PATTERN with the server at HOST both ways: both end with the union. ${PATTERNS}`,
    examples: ["netsync sync host.example.org 'org.example.*'"],
    load: net('sync'),
  },
  {
    name: 'push',
    section: 'network',
    args: SESSION_ARGS,
    options: [DRY_RUN, JSON_LINE, KEY, ANONYMOUS],
    summary: 'send what the server lacks; nothing comes back',
    description: `Send the server what it lacks of the branches matching PATTERN; nothing comes back. ${PATTERNS}`,
    load: net('push'),
  },
  {
    name: 'pull',
    section: 'network',
    args: SESSION_ARGS,
    options: [DRY_RUN, JSON_LINE, KEY, ANONYMOUS],
    summary: 'receive what we lack; nothing goes out',
    description: `Receive what this database lacks of the branches matching PATTERN; nothing goes out. ${PATTERNS}`,
    examples: ['netsync pull host.example.org org.example.web --json'],
    load: net('pull'),
  },
  {
    name: 'diff',
    section: 'network',
    args: SESSION_ARGS,
    options: [JSON_LINE, KEY, ANONYMOUS],
    summary: 'what each side lacks; nothing moves',
    description: `The missing-item diff: what each side lacks of the branches matching PATTERN, grouped by branch and kind, then item by item; nothing moves. ${PATTERNS}`,
    load: net('diff'),
  },
  {
    name: 'watch',
    section: 'network',
    args: ['HOST[:PORT]', '[PATTERN...]'],
    options: [{ flags: '--interval <S>', help: 'seconds between checks when nothing changes (default 60)' }, KEY, ANONYMOUS],
    summary: 'keep in sync with a server until stopped',
    description:
      `Keep the branches matching PATTERN (all the server offers when none) in sync with the server at HOST, both ways, until SIGINT or SIGTERM: ` +
      `a sync at once, soon after every local change, and every --interval seconds; while the server cannot be reached, ` +
      `each try waits twice as long as the last (from 2 s up to 5 minutes). A problem no retry can mend (a key, a permission) ends it. ${PATTERNS}`,
    examples: ["netsync watch host.example.org 'org.example.*' --interval 30"],
    load: watchCommand,
  },
  {
    name: 'trust',
    section: 'network',
    args: ['HOST[:PORT]', 'FINGERPRINT...'],
    summary: "accept a server's (new) key deliberately",
    description:
      'Pin the server at HOST to the key with this fingerprint (64 hex digits, spaces allowed): before first contact, or after its owner replaced the key ' +
      '(a sync refuses a changed key and names the new fingerprint).',
    load: net('trust'),
  },
];
