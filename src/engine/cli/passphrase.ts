/**
 * Passphrases come from NETSYNC_PASSPHRASE (scripts, tests) or a hidden
 * prompt on a TTY. `node:readline` is loaded only to prompt: most commands
 * never do, and loading it would add to every command's start-up
 * (docs/PERFORMANCE.md, "`node:readline` only to prompt").
 */
import { Writable } from 'node:stream';

export async function readPassphrase(prompt: string): Promise<string | undefined> {
  if (process.env.NETSYNC_PASSPHRASE !== undefined) return process.env.NETSYNC_PASSPHRASE;
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const { createInterface } = await import('node:readline');
  let muted = false;
  const sink = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: sink, terminal: true });
  process.stderr.write(prompt);
  muted = true;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    muted = false;
    process.stderr.write('\n');
    rl.close();
  }
}
