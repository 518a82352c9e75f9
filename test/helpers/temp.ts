/**
 * Temporary folders for tests, removed when the test process ends (vitest's
 * forks pool runs each file in its own process), so a failing test still
 * cleans up after itself, and its files stay in place while it runs. Set
 * NETSYNC_KEEP_TEMP=1 to keep them for a post-mortem.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];
let hooked = false;

/** A new empty folder under the OS temp folder. */
export function tempDir(prefix = 'netsync-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeTempDirs);
    // vitest ends its forked workers with SIGTERM, which skips 'exit': clean
    // up, then let the signal do what it would have done.
    process.once('SIGTERM', () => {
      removeTempDirs();
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  }
  return dir;
}

/** Removes every folder made by `tempDir` so far (also runs on exit). */
export function removeTempDirs(): void {
  if (process.env.NETSYNC_KEEP_TEMP) return;
  for (const dir of created.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A folder a test made unreadable, say; the OS temp cleaner gets it.
    }
  }
}
