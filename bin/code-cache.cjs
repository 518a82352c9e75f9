// Runs a CommonJS bundle through V8's code cache, kept beside it in
// `<bundle>.cache`. Node 20 has no module.enableCompileCache, so every
// command parsed and compiled the whole bundle again at its start; with the
// cache, V8 reads the compiled code of the top level and of every function
// the run that wrote the cache used (docs/PERFORMANCE.md, "Code cache of the
// command line"). The cache is only ever an optimisation: missing, stale,
// damaged, refused by V8 or not writable, the bundle runs as a plain require
// would run it.
//
// The bundle must not use import(): in a script read from a code cache Node
// 20 finds no loader for it (scripts/build-cli.mjs turns each into a require).
//
// V8 compiles a function when it first runs, and the cache holds what was
// compiled when it was written: so a command not yet among those that wrote
// it (the first word of its arguments: sync, commit, ...) writes it again as
// it exits, with what this run compiled added to what it read. After a few
// different commands the cache stops changing.
//
// File layout: SHA-256 of the bundle's source (a cache of another build is
// never used: V8 itself checks only the source's length), SHA-256 of the
// rest (a damaged file is never handed to V8), the length of the list of
// commands (u16) and the list (UTF-8, one per line), then V8's cached data.
'use strict';
const { createHash } = require('node:crypto');
const { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

const HASH = 32;
/** Commands after which the cache is no longer rewritten, whatever runs. */
const MAX_COMMANDS = 16;

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest();
}

/** The first word of a command's arguments (`--db x sync ...` gives sync), or '' for none. */
function commandWord(args) {
  return args.find((a) => /^[a-z][a-z-]*$/.test(a)) ?? '';
}

/** The cache for `sourceHash` in `file`: V8's data and the commands that wrote it; or null. */
function readCache(file, sourceHash) {
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    return null;
  }
  if (bytes.length <= 2 * HASH + 2 || !bytes.subarray(0, HASH).equals(sourceHash)) return null;
  const rest = bytes.subarray(2 * HASH);
  if (!sha256(rest).equals(bytes.subarray(HASH, 2 * HASH))) return null;
  const listEnd = 2 + rest.readUInt16BE(0);
  if (listEnd >= rest.length) return null;
  return { commands: rest.subarray(2, listEnd).toString('utf8').split('\n'), data: rest.subarray(listEnd) };
}

/** Whether this process may write in `dir`: a read-only install would otherwise make the cache at every exit for nothing. */
function writable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Writes the cache whole or not at all (a rename), and never fails the command. */
function writeCache(file, sourceHash, commands, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const list = Buffer.from(commands.join('\n'), 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(list.length);
    const rest = Buffer.concat([length, list, data]);
    writeFileSync(tmp, Buffer.concat([sourceHash, sha256(rest), rest]), { mode: 0o644 });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/**
 * Runs `file` as the module `parent` requires would, through the code cache.
 * Without a usable cache, or for a command new to it, the cache is written
 * as the process exits, so that it holds the functions this run compiled.
 */
function runWithCodeCache(file, parent) {
  const source = readFileSync(file, 'utf8');
  const cacheFile = `${file}.cache`;
  const sourceHash = sha256(source);
  const cache = readCache(cacheFile, sourceHash);
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    cachedData: cache?.data,
  });
  const command = commandWord(process.argv.slice(2));
  const known = cache && !script.cachedDataRejected ? cache.commands : [];
  if (!known.includes(command) && known.length < MAX_COMMANDS && writable(dirname(cacheFile))) {
    process.once('exit', () => writeCache(cacheFile, sourceHash, [...known, command], script.createCachedData()));
  }
  const mod = new Module(file, parent);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  mod.loaded = true;
  const run = script.runInThisContext();
  run.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
}

module.exports = { runWithCodeCache };
