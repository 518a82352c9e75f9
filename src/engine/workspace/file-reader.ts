/**
 * Reads the files of a commit: for each path its mode and size, and the
 * content of those small enough to be stored inline. A large commit does this
 * in a worker thread, one batch ahead of the thread that hashes, verifies and
 * stores: committing many small files is half system calls (open, fstat,
 * read, close) and half hashing and SQLite, and on two cores they overlap
 * (docs/PERFORMANCE.md has the figures). The worker only reads; it never
 * touches the database, and what it returns is checked on the main thread.
 *
 * `readBatch` is the one implementation: a small commit calls it on its own
 * thread, and the worker runs the same function, given to it as source text
 * (no file to locate in the CLI bundle, the Electron build or the tests).
 * So it must stay self-contained: no imports, only its parameters.
 */
import * as fs from 'node:fs';
import type { Worker } from 'node:worker_threads';

/** What one path turned out to be. */
export const enum Found {
  /** A regular file of at most `max` bytes: its content is in the batch's buffer. */
  Small = 0,
  /** A regular file larger than `max`: not read (the caller streams it through the chunker). */
  Large = 1,
  /** It could not be opened or read: `codes` has the reason (ENOENT, EACCES...). */
  Unreadable = 2,
  /** No longer a regular file (a folder, a symbolic link...): `codes` says what. */
  NotAFile = 3,
}

/** The result of reading a batch: plain arrays and one buffer, so it crosses threads as is. */
export interface BatchRead {
  /** Per path read, in order; fewer than asked when the byte budget ran out. */
  found: Found[];
  modes: number[];
  sizes: number[];
  codes: (string | null)[];
  /** The Small files, one after another, each as the prefix asked for and then its content. */
  buffer: ArrayBuffer;
}

type Fs = Pick<typeof fs, 'openSync' | 'fstatSync' | 'readSync' | 'closeSync' | 'constants'>;

/**
 * Reads `paths` in order until `budget` content bytes are read (at least one
 * path is always read). Each Small file's content lands in the buffer after
 * `prefix` (a commit asks for the inline file item's header, so the buffer
 * already holds whole items and the storing thread copies nothing). Opens without following a symbolic link and without
 * blocking on a FIFO, so a path swapped since the folder was listed is
 * reported, never followed or waited on.
 */
export function readBatch(io: Fs, paths: readonly string[], max: number, budget: number, prefix: Uint8Array = new Uint8Array(0)): BatchRead {
  const flags = io.constants.O_RDONLY | (io.constants.O_NOFOLLOW ?? 0) | (io.constants.O_NONBLOCK ?? 0);
  const found: Found[] = [];
  const modes: number[] = [];
  const sizes: number[] = [];
  const codes: (string | null)[] = [];
  let out = Buffer.allocUnsafeSlow(Math.min(budget, 1 << 20));
  const scratch = Buffer.allocUnsafe(max + 1);
  let at = 0;
  let contentBytes = 0;
  const note = (f: Found, mode: number, size: number, code: string | null) => {
    found.push(f);
    modes.push(mode);
    sizes.push(size);
    codes.push(code);
  };
  for (const path of paths) {
    if (contentBytes >= budget && found.length > 0) break;
    let fd = -1;
    try {
      fd = io.openSync(path, flags);
      const st = io.fstatSync(fd);
      if (!st.isFile()) {
        note(Found.NotAFile, st.mode, 0, st.isDirectory() ? 'a folder' : 'not a regular file');
        continue;
      }
      if (st.size > max) {
        note(Found.Large, st.mode, st.size, null);
        continue;
      }
      let n = 0;
      for (;;) {
        const got = io.readSync(fd, scratch, n, scratch.length - n, null);
        if (got === 0) break;
        n += got;
        if (n > max) break;
      }
      if (n > max) {
        note(Found.Large, st.mode, n, null); // it grew since fstat
        continue;
      }
      if (at + prefix.length + n > out.length) {
        const bigger = Buffer.allocUnsafeSlow(Math.max(2 * out.length, at + prefix.length + n));
        out.copy(bigger, 0, 0, at);
        out = bigger;
      }
      out.set(prefix, at);
      scratch.copy(out, at + prefix.length, 0, n);
      at += prefix.length + n;
      contentBytes += n;
      note(Found.Small, st.mode, n, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      note(code === 'ELOOP' ? Found.NotAFile : Found.Unreadable, 0, 0, code === 'ELOOP' ? 'a symbolic link' : (code ?? String(e)));
    } finally {
      if (fd >= 0) io.closeSync(fd);
    }
  }
  return { found, modes, sizes, codes, buffer: out.buffer as ArrayBuffer };
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const Found = { Small: 0, Large: 1, Unreadable: 2, NotAFile: 3 };
const readBatch = ${readBatch.toString()};
parentPort.on('message', ({ id, joined, max, budget, prefix }) => {
  const r = readBatch(fs, joined.split('\\0'), max, budget, prefix);
  parentPort.postMessage({ id, ...r }, [r.buffer]);
});
`;

/** Reads batches in a worker thread; several may be asked for ahead, they come back in order. */
export class FileReader {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: BatchRead) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  /** Starts the worker (worker_threads is loaded here, not by every command that loads this module). */
  static async start(max: number, budget: number, prefix: Uint8Array = new Uint8Array(0)): Promise<FileReader> {
    const { Worker } = await import('node:worker_threads');
    return new FileReader(new Worker(WORKER_SOURCE, { eval: true }), max, budget, prefix);
  }

  private constructor(
    worker: Worker,
    private readonly max: number,
    private readonly budget: number,
    private readonly prefix: Uint8Array,
  ) {
    this.worker = worker;
    this.worker.on('message', (reply: BatchRead & { id: number }) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      waiter?.resolve(reply);
    });
    this.worker.on('error', (e) => this.abort(e));
    this.worker.on('exit', (code) => this.abort(new Error(`the file reader stopped (exit code ${code})`)));
  }

  read(paths: readonly string[]): Promise<BatchRead> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<BatchRead>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // One string: cloning 2,000 strings one by one cost more than reading the files.
    this.worker.postMessage({ id, joined: paths.join('\0'), max: this.max, budget: this.budget, prefix: this.prefix });
    return reply;
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

/** Reads on the calling thread (a small commit: starting a worker would cost more). */
export function readHere(paths: readonly string[], max: number, budget: number, prefix?: Uint8Array): Promise<BatchRead> {
  return Promise.resolve(readBatch(fs, paths, max, budget, prefix));
}
