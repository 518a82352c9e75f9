import { printable } from '../security/printable.js';
import { run } from './main.js';

/**
 * Ends the process once stdout and stderr have taken everything written.
 * Exiting rather than letting the event loop run dry skips Node's teardown,
 * in which better-sqlite3 closes the databases still open: a sync leaves its
 * database open on purpose (ReadStore.closeAtExit), so that the last close
 * does not checkpoint the write-ahead log on the user's time.
 */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

run(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (e: unknown) => {
    // Messages may quote a peer (a server's ERROR): escaped, so it cannot drive the terminal.
    process.stderr.write(`netsync: ${printable((e as Error).message)}\n`);
    exitWhenFlushed(1);
  },
);
