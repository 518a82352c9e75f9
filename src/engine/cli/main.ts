/**
 * The command line: `netsync [--db PATH] [--verbose] COMMAND ...`. Exit 0 on
 * success; otherwise one line on stderr and the exit code of the failure's
 * class (exit-codes.ts; README, "Exit codes"). A stack trace is printed only
 * when asked for, with --verbose.
 */
import { NetsyncError } from '../errors.js';
import { defaultDatabasePath } from '../paths.js';
import { exitClassOf, exitCode } from './exit-codes.js';
import { printable } from '../security/printable.js';
import { describeSystemError } from '../system-errors.js';
import { VERSION } from '../version.js';
import { type Output, ReaderGone, terminalOutput } from './output.js';
import { parseCommandLine } from './program.js';

export async function run(argv: string[], io: Output = terminalOutput()): Promise<number> {
  let db = '';
  let verbose = argv.includes('--verbose');
  try {
    const invocation = parseCommandLine(argv, io, { version: `netsync ${VERSION}`, defaultDb: defaultDatabasePath() });
    if (invocation.kind === 'done') return invocation.code;
    db = invocation.globals.db ?? defaultDatabasePath();
    verbose = invocation.globals.verbose === true;
    const command = await invocation.spec.load();
    return await command({ db, io }, invocation.input);
  } catch (e) {
    io.clearProgress();
    if (e instanceof ReaderGone) return exitCode('ok');
    // The message may quote a peer (a server's ERROR): escaped, so it cannot drive the terminal.
    io.note(`netsync: ${printable(await failureMessage(e, db, verbose))}`);
    if (verbose) io.note(causeChain(e));
    return exitCode(exitClassOf(e));
  }
}

/** One sentence for the user: the engine's own, or one for what SQLite and the system report. */
async function failureMessage(e: unknown, db: string, verbose: boolean): Promise<string> {
  if (e instanceof NetsyncError) return e.message;
  const known = describeSystemError(e, { database: db || undefined });
  if (known?.code === 'db-corrupt') {
    const { truncation } = await import('../store/store.js');
    return (db && truncation(db)) || `${known.text}; run "netsync db check" to see what`;
  }
  if (known) return known.text;
  const message = e instanceof Error ? e.message : String(e);
  return verbose ? message : `${message} (run again with --verbose for the details)`;
}

/** The stack of the error and of every cause under it, for --verbose. */
function causeChain(e: unknown): string {
  const lines: string[] = [];
  for (let c = e, depth = 0; c !== undefined && c !== null && depth < 8; c = (c as Error).cause, depth++) {
    lines.push(`${depth === 0 ? '' : 'caused by: '}${c instanceof Error ? (c.stack ?? c.message) : String(c)}`);
  }
  return lines.join('\n');
}
