/**
 * Every error code of the API has one sentence that says what happened and
 * what to do, with the value the user typed where there is one, and no stack
 * trace or library dump (issue #19). Each code is raised here the way a user
 * meets it, through the service, the hosts or the engine's own functions; the
 * table is a Record over ApiErrorCode, so a new code does not compile until
 * it is raised here too.
 */
import Database from 'better-sqlite3';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { join } from 'node:path';
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { afterAll, describe, expect, it } from 'vitest';
import { NetsyncError } from '../../src/engine/errors.js';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import { INLINE_MAX, decodeItem, encodeInlineFile } from '../../src/engine/items/format.js';
import { ServerKeyChangedError } from '../../src/engine/security/known-servers.js';
import { toApiError } from '../../src/engine/service/errors.js';
import { createServiceWorkerClient } from '../../src/engine/service/worker-client.js';
import { registerApiHandlers } from '../../src/main/ipc.js';
import { apiFromInvoker } from '../../src/shared/api-calls.js';
import { checkArgs } from '../../src/shared/api-validate.js';
import { type ApiError, type ApiErrorCode, type Result, ok } from '../../src/shared/api.js';
import { WHAT_TO_DO, saysWhatToDo, withWhatToDo } from '../../src/shared/error-advice.js';
import type { WriteStore } from '../../src/engine/store/store.js';
import { ipcChannel } from '../../src/shared/ipc.js';
import type { ClientOptions } from '../../src/engine/protocol/api.js';
import { progress, setupService, summary } from '../helpers/service.js';
import { fixedSigner, keyItemOf, newStoreWithKey, putInlineFile, putManifest, signedCert } from '../helpers/store.js';
import { tempDir } from '../helpers/temp.js';

/** What a producer raised, and what the user typed that the sentence must repeat. */
interface Raised {
  error: ApiError;
  typed?: string;
}

function failure(r: Result<unknown>): ApiError {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

const errno = (code: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(`${code}: raw`), { code, ...fields });

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A service with a database open, a key for serving, and a peer at `address`. */
async function serviceWithPeer(address = '127.0.0.1:1', engine: Parameters<typeof setupService>[0] = {}) {
  const env = setupService(engine);
  await env.service.openDatabase();
  const peer = await env.service.addPeer({ name: 'lab', address });
  if (!peer.ok) throw new Error(peer.error.message);
  await env.service.updatePeer(peer.value.id, { include: ['org.example.*'] });
  return { ...env, peerId: peer.value.id };
}

/** A store whose `put` fails for the item `make` builds on top of a key. */
function putFailure(make: (signer: ReturnType<typeof fixedSigner>, store: WriteStore) => Buffer): ApiError {
  const { store, signer } = newStoreWithKey();
  try {
    return toApiError(caught(() => store.put(make(signer, store))));
  } finally {
    store.close();
  }
}

const PRODUCERS: Record<ApiErrorCode, () => Promise<Raised>> = {
  'bad-request': async () => ({ error: failure(checkArgs('addPeer', [{ name: 'lab', address: 'exa mple' }])), typed: 'exa mple' }),
  forbidden: async () => {
    const handlers = new Map<string, (e: IpcMainInvokeEvent, ...a: unknown[]) => Promise<Result<unknown>>>();
    const ipcMain = { handle: (c: string, h: never) => handlers.set(c, h), removeHandler: () => undefined } as unknown as IpcMain;
    registerApiHandlers(
      ipcMain,
      apiFromInvoker(async () => ok(null)),
      () => false,
    );
    return { error: failure(await handlers.get(ipcChannel('listBranches'))!({} as IpcMainInvokeEvent)) };
  },
  'engine-unavailable': async () => {
    const client = createServiceWorkerClient(() => {
      throw new Error('Cannot find module service-worker.cjs');
    });
    return { error: failure(await client.getStatus()) };
  },
  usage: async () => {
    const { service } = setupService();
    await service.openDatabase();
    return { error: failure(await service.checkout('org.example.demo', 'relative/dir')), typed: 'relative/dir' };
  },
  busy: async () => {
    const { service, peerId } = await serviceWithPeer('127.0.0.1:9', {
      runClientSession: (opts: ClientOptions) => new Promise((_, reject) => opts.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    const running = service.diff(peerId);
    const second = await service.sync(peerId);
    const status = await service.getStatus();
    if (status.ok) for (const s of status.value.sessions) await service.cancel(s.sessionId);
    await running;
    return { error: failure(second), typed: 'lab' };
  },
  'not-found': async () => {
    const { service } = setupService();
    await service.openDatabase();
    return { error: failure(await service.log('org.example.nope')), typed: 'org.example.nope' };
  },
  cancelled: async () => {
    const { service, peerId, events } = await serviceWithPeer('127.0.0.1:9', {
      runClientSession: (opts: ClientOptions) => new Promise((_, reject) => opts.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    const running = service.sync(peerId);
    const sessionId = await new Promise<string>((resolve) => {
      const look = () => {
        const e = events.find((x) => x.type === 'session-started');
        if (e?.type === 'session-started') resolve(e.session.sessionId);
        else setTimeout(look, 10);
      };
      look();
    });
    await service.cancel(sessionId);
    return { error: failure(await running), typed: 'lab' };
  },
  internal: async () => ({ error: toApiError(new TypeError("Cannot read properties of undefined (reading 'root')")) }),
  'db-missing': async () => ({ error: failure(await setupService().service.listBranches()) }),
  'db-newer': async () => {
    const { path } = newStoreWithKey();
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    return { error: failure(await setupService().service.openDatabase(path)), typed: path };
  },
  'db-corrupt': async () => {
    const path = join(tempDir(), 'not-a-database.db');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'this is a text file, not SQLite'.repeat(200));
    return { error: failure(await setupService().service.openDatabase(path)), typed: path };
  },
  io: async () => {
    const env = setupService();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(env.configDir, { recursive: true });
    writeFileSync(join(env.configDir, 'peers.json'), '{ not json');
    return { error: failure(await env.service.listPeers()), typed: join(env.configDir, 'peers.json') };
  },
  'bad-item': async () => ({ error: toApiError(caught(() => decodeItem(Buffer.of(0x7f, 0, 0)))) }),
  'bad-signature': async () => ({
    error: putFailure((signer, store) => {
      const manifest = putManifest(store, { README: putInlineFile(store, 'hello\n') });
      const cert = signedCert(signer, manifest, 'branch', 'org.example.a');
      cert[cert.length - 1]! ^= 1;
      return cert;
    }),
  }),
  'missing-reference': async () => ({ error: putFailure((signer) => signedCert(signer, Buffer.alloc(32, 1), 'branch', 'org.example.a')) }),
  'too-large': async () => ({ error: toApiError(caught(() => encodeInlineFile(Buffer.alloc(INLINE_MAX + 1)))) }),
  key: async () => {
    const { service } = setupService();
    await service.openDatabase();
    return { error: failure(await service.startServer({ bind: '127.0.0.1:0', patterns: [] })) };
  },
  'key-locked': async () => {
    const env = await serviceWithPeer();
    new KeyStore(join(env.configDir, 'keys')).generate('sealed@example.org', 'a passphrase');
    return { error: failure(await env.service.diff(env.peerId)), typed: 'sealed@example.org' };
  },
  'bad-passphrase': async () => {
    const env = setupService();
    new KeyStore(join(env.configDir, 'keys')).generate('sealed@example.org', 'a passphrase');
    return { error: failure(await env.service.unlockKey('sealed@example.org', 'not it')), typed: 'sealed@example.org' };
  },
  'identity-required': async () => {
    const env = await serviceWithPeer();
    await env.service.generateKey('alice@example.org');
    await env.service.generateKey('bob@example.org');
    return { error: failure(await env.service.diff(env.peerId)) };
  },
  unreachable: async () => {
    const { service, peerId } = await serviceWithPeer('127.0.0.1:1');
    return { error: failure(await service.diff(peerId)), typed: '127.0.0.1:1' };
  },
  timeout: async () => ({ error: toApiError(errno('ETIMEDOUT'), 'lab.example.org:4691'), typed: 'lab.example.org:4691' }),
  protocol: async () => {
    // Not a Netsync server: a web server answers the TLS hello in plain HTTP.
    const port = await listening(createHttpServer((_, res) => res.end('hello')) as unknown as Server);
    const { service, peerId } = await serviceWithPeer(`127.0.0.1:${port}`);
    return { error: failure(await service.diff(peerId)), typed: `127.0.0.1:${port}` };
  },
  permission: async () => ({ error: toApiError(errno('EACCES', { path: '/srv/netsync.db' })), typed: '/srv/netsync.db' }),
  'server-refused': async () => {
    const env = await serviceWithPeer('127.0.0.1:9999', {
      runClientSession: async (opts: ClientOptions) => {
        opts.onProgress?.(progress(1, 'connecting'));
        if (!(await opts.onNewServer!('ab'.repeat(32), '127.0.0.1:9999'))) throw new NetsyncError('key', 'not accepted');
        return summary(opts);
      },
    });
    const running = env.service.diff(env.peerId);
    const asked = await new Promise<string>((resolve) => {
      const look = () => {
        const e = env.events.find((x) => x.type === 'confirm-server');
        if (e?.type === 'confirm-server') resolve(e.prompt.id);
        else setTimeout(look, 10);
      };
      look();
    });
    await env.service.answerServerPrompt(asked, false);
    return { error: failure(await running), typed: '127.0.0.1:9999' };
  },
  'server-key-changed': async () => ({ error: toApiError(new ServerKeyChangedError('lab.example.org:4691', 'ab'.repeat(32), 'cd'.repeat(32))) }),
  'address-in-use': async () => {
    const port = await listening(createServer());
    const env = setupService();
    await env.service.openDatabase();
    await env.service.generateKey('srv@example.org');
    return { error: failure(await env.service.startServer({ bind: `127.0.0.1:${port}`, patterns: [] })), typed: `127.0.0.1:${port}` };
  },
  'address-unavailable': async () => {
    const env = setupService();
    await env.service.openDatabase();
    await env.service.generateKey('srv@example.org');
    // TEST-NET-1 (RFC 5737): never an address of this machine.
    return { error: failure(await env.service.startServer({ bind: '192.0.2.1:4691', patterns: [] })), typed: '192.0.2.1:4691' };
  },
  'bad-permissions': async () => {
    const { service } = setupService();
    return { error: failure(await service.setPermissions('read * org.*\nwirte * org.*')), typed: 'wirte' };
  },
};

/** What a stack trace (more than one line) or a library's dump looks like in a message. */
const DUMP = /\n|node:internal|SSL routines|:error:[0-9A-F]+|\.c:\d+|^(Type)?Error: /;
/** A sentence starts with a capital, or with the value it is about (a path, an address, an id). */
const STARTS = /^([A-Z]|[/"'[]|[^\s]*[0-9.:/][^\s]* )/;

describe('every error code has a sentence that says what happened and what to do', () => {
  it('has advice for every code (what to do when the failing place says nothing more precise)', () => {
    for (const [code, advice] of Object.entries(WHAT_TO_DO)) {
      expect(advice, code).toMatch(/^[a-z]/);
      expect(advice, code).not.toMatch(/[.;]$/);
    }
    // The same sentence rule for a message with advice and one without.
    expect(withWhatToDo('busy', 'a session with lab is already running')).toBe(
      'A session with lab is already running; wait until it ends, or cancel it first.',
    );
    expect(withWhatToDo('unreachable', "nothing is listening at h:1; is the peer's server running?")).toBe(
      "Nothing is listening at h:1; is the peer's server running?",
    );
  });

  for (const code of Object.keys(PRODUCERS) as ApiErrorCode[]) {
    it(code, async () => {
      const { error, typed } = await PRODUCERS[code]();
      expect(error.code).toBe(code);
      const sentence = error.message;
      expect(sentence, sentence).toMatch(STARTS);
      expect(sentence, sentence).toMatch(/[.?]$/);
      // What happened, then what to do.
      expect(saysWhatToDo(sentence), sentence).toBe(true);
      const [happened] = sentence.split('; ');
      expect(happened!.length, sentence).toBeGreaterThan(10);
      expect(sentence, sentence).not.toMatch(DUMP);
      if (typed) expect(sentence, sentence).toContain(typed);
    }, 30_000);
  }
});

describe('the sentences the issue named', () => {
  it("connection refused asks whether the peer's server runs", async () => {
    const { error } = await PRODUCERS.unreachable();
    expect(error.message).toBe("Nothing is listening at 127.0.0.1:1 (connection refused); is the peer's server running?");
  });

  it('a bad address in Add peer names the field in words and what was typed, not the call', async () => {
    const { error } = await PRODUCERS['bad-request']();
    expect(error.message).toBe(
      'The address "exa mple" is not a host name or an IPv4 address (an IPv6 address goes in brackets); type HOST or HOST:PORT (port 4691 when none is given).',
    );
  });

  it('a host that is not a Netsync server is said so, without OpenSSL', async () => {
    const { error, typed } = await PRODUCERS.protocol();
    expect(error.message).toBe(`${typed} does not answer in TLS (wrong version number); is it a Netsync server?`);
  });

  it('an address in use for the server says which, and what to do', async () => {
    const { error, typed } = await PRODUCERS['address-in-use']();
    expect(error.message).toBe(
      `Another program already listens on ${typed}; choose another port (0 lets the system pick a free one), or stop the other program.`,
    );
  });

  it("an OpenSSL dump is cut to its reason (node:tls's message for a TLS alert)", () => {
    const e = new NetsyncError(
      'protocol',
      'no secure connection with 127.0.0.1:39571 (is it a Netsync server of this version?): 808CE4E1477F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n',
    );
    expect(toApiError(e).message).toBe(
      'No secure connection with 127.0.0.1:39571 (is it a Netsync server of this version?): sslv3 alert handshake failure; check that the address is that of a Netsync server of a compatible version, then try again.',
    );
  });

  it('a key item refused on arrival is named by what failed, and nothing of it is kept', () => {
    const bad = putFailure(() => keyItemOf(fixedSigner('x')).subarray(0, 5));
    expect(bad.code).toBe('bad-item');
    expect(bad.message).toMatch(/; nothing of it was kept; ask the peer's owner/);
  });
});
