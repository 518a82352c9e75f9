/**
 * Lists and reads the tree of a commit: its folders and files in order, for
 * each file its mode and size, and the content of those small enough to be
 * stored inline. A large commit does this in a worker thread, a step ahead
 * of the thread that hashes, verifies and stores: committing many small
 * files is half system calls (readdir, open, fstat, read, close) and half
 * hashing and SQLite, and on two cores they overlap (docs/PERFORMANCE.md has
 * the figures). The worker only lists and reads; it never touches the
 * database, and what it returns is checked on the main thread.
 *
 * `walkAndRead` and `readBatch` are the one implementation: a small commit
 * runs them on its own thread, and the worker runs the same functions, given
 * to it as source text (no file to locate in the CLI bundle, the Electron
 * build or the tests). So they must stay self-contained: no imports, only
 * their parameters.
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
  /** Its size, mtime and inode match the workspace record's entry: not read (the record has its file id). */
  Cached = 4,
}

/** The result of reading a batch: plain arrays and one buffer, so it crosses threads as is. */
export interface BatchRead {
  /** Per path read, in order; fewer than asked when the byte budget ran out. */
  found: Found[];
  modes: number[];
  sizes: number[];
  /** Each file's mtime and inode as fstat (or, for Cached, lstat) saw them before it was read: for the workspace record. */
  mtimes: number[];
  inos: number[];
  codes: (string | null)[];
  /** The Small files, one after another, each as the prefix asked for and then its content. */
  buffer: ArrayBuffer;
}

type Fs = Pick<typeof fs, 'openSync' | 'fstatSync' | 'readSync' | 'closeSync' | 'constants' | 'lstatSync'>;

/** Whether a file whose lstat gave these need not be read (the workspace record has it); only on the calling thread. */
export type KnownFile = (path: string, size: number, mtimeMs: number, ino: number, mode: number) => boolean;

/**
 * Reads `paths` in order until `budget` content bytes are read (at least one
 * path is always read). Each Small file's content lands in the buffer after
 * `prefix` (a commit asks for the inline file item's header, so the buffer
 * already holds whole items and the storing thread copies nothing). Opens without following a symbolic link and without
 * blocking on a FIFO, so a path swapped since the folder was listed is
 * reported, never followed or waited on.
 */
export function readBatch(io: Fs, paths: readonly string[], max: number, budget: number, prefix: Uint8Array = new Uint8Array(0), known?: KnownFile): BatchRead {
  const flags = io.constants.O_RDONLY | (io.constants.O_NOFOLLOW ?? 0) | (io.constants.O_NONBLOCK ?? 0);
  const found: Found[] = [];
  const modes: number[] = [];
  const sizes: number[] = [];
  const mtimes: number[] = [];
  const inos: number[] = [];
  const codes: (string | null)[] = [];
  let out = Buffer.allocUnsafeSlow(Math.min(budget, 1 << 20));
  const scratch = Buffer.allocUnsafe(max + 1);
  let at = 0;
  let contentBytes = 0;
  const note = (f: Found, mode: number, size: number, code: string | null, st?: { mtimeMs: number; ino: number }) => {
    found.push(f);
    modes.push(mode);
    sizes.push(size);
    mtimes.push(st ? st.mtimeMs : 0);
    inos.push(st ? st.ino : 0);
    codes.push(code);
  };
  for (const path of paths) {
    if (contentBytes >= budget && found.length > 0) break;
    if (known) {
      // One lstat instead of open, fstat, read and close: the record knows this file.
      const st = io.lstatSync(path, { throwIfNoEntry: false });
      if (st?.isFile() && known(path, st.size, st.mtimeMs, st.ino, st.mode)) {
        note(Found.Cached, st.mode, st.size, null, st);
        continue;
      }
    }
    let fd = -1;
    try {
      fd = io.openSync(path, flags);
      const st = io.fstatSync(fd);
      if (!st.isFile()) {
        note(Found.NotAFile, st.mode, 0, st.isDirectory() ? 'a folder' : 'not a regular file');
        continue;
      }
      if (st.size > max) {
        note(Found.Large, st.mode, st.size, null, st);
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
        note(Found.Large, st.mode, n, null, st); // it grew since fstat
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
      note(Found.Small, st.mode, n, null, st);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      note(code === 'ELOOP' ? Found.NotAFile : Found.Unreadable, 0, 0, code === 'ELOOP' ? 'a symbolic link' : (code ?? String(e)));
    } finally {
      if (fd >= 0) io.closeSync(fd);
    }
  }
  return { found, modes, sizes, mtimes, inos, codes, buffer: out.buffer as ArrayBuffer };
}

/** What readdir says a listed path is. */
export const enum Listed {
  Dir = 0,
  File = 1,
  SymbolicLink = 2,
  /** A FIFO, a socket, a device. */
  Other = 3,
}

/** One step of a walk: what was listed since the step before, and the files read since. */
export interface WalkStep extends BatchRead {
  /** The paths listed, relative to the root and '/'-separated, in walk order, joined by '\0' ('' for none). */
  paths: string;
  types: Listed[];
  /** The root folder could not be listed: the walk ends there. */
  failed: { abs: string; code: string } | null;
  /** Folders below the root that could not be listed since the step before (the walk goes on past them). */
  unlisted: { rel: string; code: string }[];
  /** The walk is over and every file listed has been read. */
  done: boolean;
}

export interface WalkOptions {
  /** The platform's path separator (the worker has no node:path). */
  sep: string;
  /** Files listed before the first step: few, so that the storing thread starts early. */
  firstFiles: number;
  /** Files listed before each later step. */
  batchFiles: number;
  max: number;
  budget: number;
  prefix: Uint8Array;
  /** Files the workspace record knows (walkHere only: a function does not cross to the worker). */
  known?: KnownFile;
  /** Paths left out, and folders not entered (walkHere only): ignore rules (workspace/ignore-rules.ts). */
  ignored?: (rel: string, isDir: boolean) => boolean;
}

type WalkFs = Fs & Pick<typeof fs, 'readdirSync'>;

/**
 * Lists the tree under `root` depth first, each folder's names in sorted
 * order (what a commit records), and reads its files as it goes: each step
 * holds the paths listed since the last one and the contents read since
 * (`read` stops at the byte budget; files listed but not read yet are read
 * in the next step). Runs in the commit's worker, so listing a large tree
 * overlaps with storing it, and on the calling thread for a small one. Like
 * readBatch it must stay self-contained: it is given to the worker as source
 * text, with readBatch as `read`.
 */
export function* walkAndRead(io: WalkFs, root: string, o: WalkOptions, read: typeof readBatch): Generator<WalkStep, void, void> {
  let paths: string[] = [];
  let types: number[] = [];
  let unread: string[] = [];
  let unlisted: { rel: string; code: string }[] = [];
  let target = o.firstFiles;
  const step = (failed: WalkStep['failed'], last: boolean): WalkStep => {
    const r =
      unread.length > 0
        ? read(io, unread, o.max, o.budget, o.prefix, o.known)
        : { found: [], modes: [], sizes: [], mtimes: [], inos: [], codes: [], buffer: new ArrayBuffer(0) };
    unread = unread.slice(r.found.length);
    const out: WalkStep = {
      found: r.found,
      modes: r.modes,
      sizes: r.sizes,
      mtimes: r.mtimes,
      inos: r.inos,
      codes: r.codes,
      buffer: r.buffer,
      paths: paths.join('\0'),
      types,
      failed,
      unlisted,
      done: failed !== null || (last && unread.length === 0),
    };
    paths = [];
    types = [];
    unlisted = [];
    target = o.batchFiles;
    return out;
  };
  type Frame = { abs: string; rel: string; names: fs.Dirent[]; next: number };
  const frames: Frame[] = [];
  const list = (abs: string, rel: string): string | null => {
    try {
      const names = io.readdirSync(abs, { withFileTypes: true });
      names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      frames.push({ abs, rel, names, next: 0 });
      return null;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? String(e);
    }
  };
  const rootFailure = list(root, '');
  if (rootFailure !== null) {
    yield step({ abs: root, code: rootFailure }, true);
    return;
  }
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!;
    if (top.next === top.names.length) {
      frames.pop();
      continue;
    }
    const d = top.names[top.next++]!;
    // The workspace record (workspace/record.ts) is never committed.
    if (top.rel === '' && d.name === '.netsync') continue;
    const rel = top.rel ? `${top.rel}/${d.name}` : d.name;
    const abs = top.abs + o.sep + d.name;
    // 0 folder, 1 file, 2 symbolic link, 3 anything else (Listed; numbers, since this runs from source text).
    const type = d.isDirectory() ? 0 : d.isFile() ? 1 : d.isSymbolicLink() ? 2 : 3;
    if (o.ignored?.(rel, type === 0)) continue;
    paths.push(rel);
    types.push(type);
    if (type === 0) {
      const failure = list(abs, rel);
      if (failure !== null) unlisted.push({ rel, code: failure });
    } else if (type === 1) {
      unread.push(abs);
      if (unread.length >= target) yield step(null, false);
    }
  }
  for (;;) {
    const last = step(null, true);
    yield last;
    if (last.done) return;
  }
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const Found = { Small: 0, Large: 1, Unreadable: 2, NotAFile: 3, Cached: 4 };
const readBatch = ${readBatch.toString()};
const walkAndRead = ${walkAndRead.toString()};
let walk = null;
parentPort.on('message', (m) => {
  if (m.root !== undefined) walk = walkAndRead(fs, m.root, m.options, readBatch);
  const next = walk.next();
  const step = next.done ? { found: [], modes: [], sizes: [], mtimes: [], inos: [], codes: [], buffer: new ArrayBuffer(0), paths: '', types: [], failed: null, unlisted: [], done: true } : next.value;
  parentPort.postMessage(step, [step.buffer]);
});
`;

/**
 * The steps of a walk, one at a time; `next` may be called again before the
 * last step has come, and after the walk is over (it then gives an empty step
 * that is `done`).
 */
export interface WalkSteps {
  next(): Promise<WalkStep>;
  close(): Promise<void>;
}

/** Walks and reads in a worker thread; steps come back in the order they were asked for. */
export class TreeReader implements WalkSteps {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (r: WalkStep) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private started = false;

  /** Starts the worker (worker_threads is loaded here, not by every command that loads this module). */
  static async start(root: string, options: WalkOptions): Promise<TreeReader> {
    const { Worker } = await import('node:worker_threads');
    return new TreeReader(new Worker(WORKER_SOURCE, { eval: true }), root, options);
  }

  private constructor(
    worker: Worker,
    private readonly root: string,
    private readonly options: WalkOptions,
  ) {
    this.worker = worker;
    this.worker.on('message', (step: WalkStep) => this.waiting.shift()?.resolve(step));
    this.worker.on('error', (e) => this.abort(e));
    this.worker.on('exit', (code) => this.abort(new Error(`the file reader stopped (exit code ${code})`)));
  }

  next(): Promise<WalkStep> {
    if (this.failure) return Promise.reject(this.failure);
    const step = new Promise<WalkStep>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.worker.postMessage(this.started ? {} : { root: this.root, options: this.options });
    this.started = true;
    return step;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private abort(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting) w.reject(e);
    this.waiting.length = 0;
  }
}

/** What `next` gives once the walk is over (the worker says the same). */
const OVER: WalkStep = Object.freeze({
  found: [],
  modes: [],
  sizes: [],
  mtimes: [],
  inos: [],
  codes: [],
  buffer: new ArrayBuffer(0),
  paths: '',
  types: [],
  failed: null,
  unlisted: [],
  done: true,
});

/** Walks and reads on the calling thread (a small tree: starting a worker would cost more). */
export function walkHere(root: string, options: WalkOptions): WalkSteps {
  const walk = walkAndRead(fs, root, options, readBatch);
  return {
    next: () => {
      const step = walk.next();
      return Promise.resolve(step.done ? OVER : step.value);
    },
    close: async () => {},
  };
}
