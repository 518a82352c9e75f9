/**
 * Reads the small files of a commit in a worker thread, one batch ahead of
 * the thread that hashes, verifies and stores them.
 *
 * Committing many small files is half system calls (open, read, close) and
 * half hashing and SQLite; on one thread they add up, on two they overlap
 * (docs/PERFORMANCE.md has the figures). The worker only reads: it never
 * touches the database, and what it returns is checked on the main thread
 * exactly as a file read there would be. It holds at most one batch beyond
 * the one being stored, so memory stays bounded by the commit's batch limits.
 *
 * The worker's code is a plain script given inline (no file to locate in the
 * CLI bundle, the Electron build or the tests).
 */
import { Worker } from 'node:worker_threads';
import { fail } from '../errors.js';

/** One file of a batch as the worker read it. */
export type ReadResult =
  | { ok: true; content: Buffer }
  /** The file is now larger than the limit it was read with (it grew since the walk). */
  | { ok: false; grew: true }
  | { ok: false; grew: false; code: string };

interface BatchReply {
  id: number;
  buffer: ArrayBuffer;
  /** Per file: its length in `buffer`, -1 when it grew past the limit, -2 when it could not be read. */
  lengths: number[];
  codes: (string | null)[];
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
parentPort.on('message', ({ id, joined, sizes, max }) => {
  const paths = joined.split('\\0');
  let capacity = 0;
  for (const s of sizes) capacity += Math.min(s, max);
  let out = Buffer.allocUnsafeSlow(Math.max(capacity + 65536, 1));
  const scratch = Buffer.allocUnsafe(max + 1);
  let at = 0;
  const lengths = [];
  const codes = [];
  for (const path of paths) {
    let fd = -1;
    try {
      fd = openSync(path, 'r');
      let n = 0;
      for (;;) {
        const got = readSync(fd, scratch, n, scratch.length - n, null);
        if (got === 0) break;
        n += got;
        if (n > max) break;
      }
      if (n > max) { lengths.push(-1); codes.push(null); continue; }
      if (at + n > out.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, at + n));
        out.copy(bigger, 0, 0, at);
        out = bigger;
      }
      scratch.copy(out, at, 0, n);
      at += n;
      lengths.push(n);
      codes.push(null);
    } catch (e) {
      lengths.push(-2);
      codes.push(e.code || String(e.message));
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
  parentPort.postMessage({ id, buffer: out.buffer, lengths, codes }, [out.buffer]);
});
`;

export class FileReader {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: BatchReply) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  /** `max`: the largest content to return; a longer file reads as `grew`. */
  constructor(private readonly max: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('message', (reply: BatchReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiter?.resolve(reply);
    });
    this.worker.on('error', (e) => this.abort(e));
    this.worker.on('exit', (code) => this.abort(new Error(`the file reader stopped (exit code ${code})`)));
  }

  /** Starts reading the files; the promise gives their contents in order. */
  read(files: readonly { abs: string; size: number }[]): Promise<ReadResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (files.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    const reply = new Promise<BatchReply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // One string and one typed array: cloning 2,000 strings one by one cost more than reading them.
    const sizes = Float64Array.from(files, (f) => f.size);
    this.worker.postMessage({ id, joined: files.map((f) => f.abs).join('\0'), sizes, max: this.max }, [sizes.buffer]);
    return reply.then(({ buffer, lengths, codes }) => {
      const all = Buffer.from(buffer);
      let at = 0;
      return lengths.map((n, i): ReadResult => {
        if (n === -1) return { ok: false, grew: true };
        if (n === -2) return { ok: false, grew: false, code: codes[i] ?? 'unknown error' };
        const content = all.subarray(at, at + n);
        at += n;
        return { ok: true, content };
      });
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private abort(e: Error): void {
    this.failure ??= e;
    for (const w of this.pending.values()) w.reject(e);
    this.pending.clear();
  }
}

/** The content a ReadResult stands for, or the commit's one-line error. */
export function contentOf(r: ReadResult, abs: string): Buffer | null {
  if (r.ok) return r.content;
  if (r.grew) return null;
  return fail('io', `cannot read ${abs}: ${r.code}`);
}
