/**
 * Terminal output: results on stdout; messages, errors and the progress bar
 * on stderr. The bar is drawn only on a TTY; a pipe or a file gets plain
 * lines and no escape codes.
 */
import { ProgressBar, type ProgressUpdate } from './progress-bar.js';

export interface Output {
  /** A line of the result, on stdout. */
  out(line: string): void;
  /** A message on stderr (a note, a warning, the error line); a progress bar showing is redrawn below it. */
  note(line: string): void;
  /** Progress of a long command: a bar on a TTY, nothing elsewhere. */
  progress(update: ProgressUpdate): void;
  /** Removes the bar, if one shows. */
  clearProgress(): void;
}

/**
 * Thrown by `out` once stdout's reader has gone (`netsync log B | head -1`):
 * the command stops writing and exits 0, as a command whose reader stopped
 * reading does (main.ts).
 */
export class ReaderGone extends Error {
  constructor() {
    super('the reader of stdout has gone');
    this.name = 'ReaderGone';
  }
}

/** The two streams as terminalOutput uses them (fakes in tests). */
export interface Streams {
  stdout: Pick<NodeJS.WriteStream, 'write' | 'on' | 'errored' | 'destroyed'>;
  stderr: Pick<NodeJS.WriteStream, 'write' | 'on' | 'isTTY' | 'columns'>;
}

export function terminalOutput({ stdout, stderr }: Streams = process, env: NodeJS.ProcessEnv = process.env): Output {
  // A closed pipe is reported as an 'error' event; unheard, it would end the process with a stack trace.
  stdout.on('error', () => {});
  stderr.on('error', () => {});
  const bar = stderr.isTTY === true && env.TERM !== 'dumb' ? new ProgressBar(stderr) : null;
  return {
    out(line) {
      // A failed write to a pipe marks the stream at once (its 'error' event comes later).
      if (stdout.errored || stdout.destroyed) throw new ReaderGone();
      stdout.write(`${line}\n`);
    },
    note(line) {
      if (bar) bar.note(line);
      else stderr.write(`${line}\n`);
    },
    progress(update) {
      bar?.update(update);
    },
    clearProgress() {
      bar?.clear();
    },
  };
}

/** What the user is told before a database indexed by an older Netsync is indexed again (WriteStore.open's `onReindex`). */
export function reindexNote(io: Output): (path: string) => void {
  return (path) => io.note(`netsync: ${path} was indexed by an older Netsync; indexing it again, once (about 3 s per million items)`);
}
