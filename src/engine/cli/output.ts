/** Terminal output: results on stdout, one-line errors and progress on stderr. */

export interface Output {
  out(line: string): void;
  /** A transient progress line; shown only on a TTY, overwritten in place. */
  progress(line: string): void;
  /** Ends any progress line. */
  clearProgress(): void;
}

export function terminalOutput(): Output {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  let last = 0;
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    progress(line) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return; // ~10 redraws a second is plenty
      last = now;
      process.stderr.write(`\r\x1b[2K${line}`);
      shown = true;
    },
    clearProgress() {
      if (shown) process.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}

/** Said once, before a database indexed by an older Netsync is indexed again (WriteStore.open's `onReindex`). */
export function announceReindex(path: string): void {
  process.stderr.write(`netsync: ${path} was indexed by an older Netsync; indexing it again, once (about 3 s per million items)\n`);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}
