/**
 * One phrase per system error (src/engine/system-errors.ts), the same for
 * the command line, the service and a session that cannot store: errno codes
 * from Node, SQLite's codes from better-sqlite3 and OpenSSL's messages from
 * node:tls, each raised for real where a test can, and as Node shapes them.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { toApiError } from '../../src/engine/service/errors.js';
import { describeSystemError } from '../../src/engine/system-errors.js';
import { tempDir } from '../helpers/temp.js';

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

/** The error a socket emits, for real. */
function socketError(open: () => NodeJS.EventEmitter): Promise<Error> {
  return new Promise((resolve) => open().once('error', resolve));
}

const errno = (code: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(`${code}: raw`), { code, ...fields });

describe('describeSystemError', () => {
  it("a file that is not there names the path (the caller's word for it first)", () => {
    const path = join(tempDir(), 'absent.txt');
    const e = caught(() => readFileSync(path));
    expect(describeSystemError(e)).toEqual({ code: 'not-found', text: `${path} does not exist` });
    expect(describeSystemError(e, { where: 'the folder to check out' })).toEqual({ code: 'not-found', text: 'the folder to check out does not exist' });
  });

  it('errno codes: a full disk, a refused path, an address in use or not ours', () => {
    expect(describeSystemError(errno('ENOSPC'))).toEqual({ code: 'disk-full', text: 'the disk is full' });
    expect(describeSystemError(errno('EACCES', { path: '/etc/x' }))).toEqual({ code: 'permission', text: 'this user may not use /etc/x' });
    expect(describeSystemError(errno('EADDRINUSE'), { where: '0.0.0.0:4691' })).toEqual({
      code: 'address-in-use',
      text: 'another program already listens on 0.0.0.0:4691',
    });
    expect(describeSystemError(errno('EADDRNOTAVAIL', { address: '::2', port: 9 }))).toEqual({
      code: 'address-unavailable',
      text: '[::2]:9 is not an address of this machine',
    });
    expect(describeSystemError(errno('ETIMEDOUT'), { where: 'lab.example.org:4691' })).toEqual({
      code: 'timeout',
      text: 'lab.example.org:4691 did not answer in time',
    });
  });

  it('a refused connection, raised by a real socket, names the address', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const e = await socketError(() => tcpConnect(port, '127.0.0.1'));
    expect(describeSystemError(e)).toEqual({
      code: 'unreachable',
      text: `nothing is listening at 127.0.0.1:${port} (connection refused); is the peer's server running?`,
    });
  });

  it('an address already in use, raised by a real listen', async () => {
    const first = createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const { port } = first.address() as AddressInfo;
    try {
      const e = await socketError(() => createServer().listen(port, '127.0.0.1'));
      expect(describeSystemError(e)?.text).toBe(`another program already listens on 127.0.0.1:${port}`);
    } finally {
      first.close();
    }
  });

  it('SQLite: a full database and a read-only one say nothing was changed; a damaged one names the database', () => {
    const path = join(tempDir(), 'sqlite.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (x BLOB)');
    db.pragma('max_page_count = 3');
    const full = caught(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(64 << 10)));
    expect((full as { code: string }).code).toBe('SQLITE_FULL');
    expect(describeSystemError(full)).toEqual({ code: 'disk-full', text: 'the disk is full (the database is unchanged by the step that failed)' });
    db.close();

    const readOnly = new Database(path, { readonly: true });
    const e = caught(() => readOnly.exec('INSERT INTO t VALUES (1)'));
    readOnly.close();
    expect((e as { code: string }).code).toBe('SQLITE_READONLY');
    expect(describeSystemError(e, { database: path })).toEqual({
      code: 'db-unwritable',
      text: `the database ${path} is read-only: its file or folder cannot be written (nothing was changed)`,
    });
    // Extended codes read as their primary one.
    expect(describeSystemError(errno('SQLITE_READONLY_DBMOVED'))?.text).toMatch(/^the database is read-only/);
    expect(describeSystemError(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }), { database: path })).toEqual({
      code: 'db-corrupt',
      text: `the database ${path} is damaged (database disk image is malformed)`,
    });
  });

  it('OpenSSL: a peer that does not answer in TLS (wrong version number), raised by a real handshake', async () => {
    const plain = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const { port } = plain.address() as AddressInfo;
    try {
      const e = await socketError(() => tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }));
      expect(e.message).toMatch(/wrong version number/);
      expect(describeSystemError(e, { where: `127.0.0.1:${port}` })).toEqual({
        code: 'protocol',
        text: `127.0.0.1:${port} does not answer in TLS (wrong version number); is it a Netsync server?`,
      });
    } finally {
      plain.close();
    }
  });

  it('anything else is not a system error: its own message is the best there is', () => {
    expect(describeSystemError(new NetsyncError('usage', 'no'))).toBeNull();
    expect(describeSystemError(new TypeError('x is undefined'))).toBeNull();
    expect(describeSystemError(errno('EWHATEVER'))).toBeNull();
    expect(describeSystemError('a string')).toBeNull();
    expect(describeSystemError(null)).toBeNull();
  });
});

describe('the service shows the same phrase as a sentence, with the code', () => {
  it('errno and SQLite errors become ApiErrors; the place is the one the user typed', () => {
    expect(toApiError(errno('ECONNREFUSED', { address: '10.0.0.2', port: 4691 }), 'lab.example.org:4691')).toEqual({
      code: 'unreachable',
      message: "Nothing is listening at lab.example.org:4691 (connection refused); is the peer's server running?",
    });
    expect(toApiError(errno('SQLITE_FULL'))).toEqual({
      code: 'io',
      message:
        'The disk is full (the database is unchanged by the step that failed); check that the disk has room and the files can be written, then try again.',
    });
    expect(toApiError(new Error('something else'))).toEqual({
      code: 'internal',
      message: 'Something else; try again, and if it happens again, report it with the log (the command line shows more with --verbose).',
    });
  });
});
