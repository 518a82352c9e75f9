/**
 * Keep in sync (issue #20), end to end: the app's service keeps a peer in
 * sync with a real `netsync serve` in another process. After the setup no
 * call is made: a commit on the app's side reaches the server once the
 * change notifier sees it, a commit on the server's side reaches the app
 * within an interval, and a server killed (SIGKILL) and restarted on the same
 * port is found again after the backoff, with nothing lost on either side.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyStore } from '../../src/engine/keys/keystore.js';
import { WriteStore } from '../../src/engine/store/store.js';
import { branchHeads } from '../../src/engine/store/history.js';
import { commitDirectory } from '../../src/engine/workspace/commit.js';
import type { AutoSyncPeer } from '../../src/shared/api.js';
import { ensureCliBuilt, runCli } from '../helpers/cli.js';
import { type CliProcess, OPEN_PERMISSIONS, allIds, spawnCli, waitUntil, withStore } from '../helpers/net.js';
import { setupService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp.js';

const BRANCH = 'org.example.kept';
let root: string;
let serverDb: string;
let serverCfg: string;
const serverEnv = () => ({ NETSYNC_CONFIG_DIR: serverCfg });

async function cliOk(...args: string[]): Promise<string> {
  const r = await runCli(['--db', serverDb, ...args], serverEnv(), { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`netsync ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `netsync serve` on 127.0.0.1:port (0: any); resolves with the process, its port and its key's fingerprint. */
async function serve(port: number): Promise<{ proc: CliProcess; port: number; fingerprint: string }> {
  const proc = spawnCli(['--db', serverDb, 'serve', '--bind', `127.0.0.1:${port}`], serverEnv());
  let m: RegExpExecArray | null = null;
  await waitUntil(() => {
    m = /on 127\.0\.0\.1:(\d+) .*fingerprint ([0-9a-f ]+)/.exec(proc.stdout());
    return m !== null || proc.child.exitCode !== null;
  }, 20_000);
  if (!m) throw new Error(`serve did not start: ${proc.stderr()}`);
  const [, boundPort, fingerprint] = m as RegExpExecArray;
  return { proc, port: Number(boundPort), fingerprint: fingerprint!.trim() };
}

function writeFolder(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

beforeAll(async () => {
  ensureCliBuilt();
  root = tempDir('netsync-keep-');
  serverDb = join(root, 'server.db');
  serverCfg = join(root, 'server-cfg');
  mkdirSync(serverCfg, { recursive: true });
  writeFileSync(join(serverCfg, 'permissions'), OPEN_PERMISSIONS);
  await cliOk('db', 'init');
  await cliOk('key', 'generate', 'srv@example.org');
});

let server: Awaited<ReturnType<typeof serve>> | null = null;
afterAll(async () => {
  server?.proc.child.kill('SIGKILL');
  await server?.proc.exited;
});

describe('keep in sync with a real server', () => {
  it('carries commits both ways with no call after setup, and resumes after the server comes back', async () => {
    server = await serve(0);
    const app = setupService({}, { autoSync: { intervalMs: 1_500, backoffFirstMs: 200, backoffMaxMs: 800, changeDelayMs: 100 } });
    const { service, configDir } = app;
    try {
      const opened = await service.openDatabase(join(root, 'app.db'));
      if (!opened.ok) throw new Error(opened.error.message);
      const appDb = opened.value.path;
      await service.generateKey('bob@example.org');
      const signer = { name: 'bob@example.org', pair: new KeyStore(join(configDir, 'keys')).unlock('bob@example.org') };
      const commitHere = async (dir: string, files: Record<string, string>) => {
        const store = WriteStore.open(appDb);
        try {
          // Each folder is new (no workspace record): it starts from the branch's head, when there is one.
          const heads = store.branchId(BRANCH) === null ? [] : branchHeads(store, BRANCH);
          return await commitDirectory(store, writeFolder(dir, files), { branch: BRANCH, message: 'work', signer, ...(heads[0] ? { parent: heads[0] } : {}) });
        } finally {
          store.close();
        }
      };
      const address = `127.0.0.1:${server.port}`;
      expect((await service.trustServer(address, server.fingerprint)).ok).toBe(true);
      const peer = await service.addPeer({ name: 'srv', address });
      if (!peer.ok) throw new Error(peer.error.message);

      // Setup ends here: from now on only the files and the server change.
      expect((await service.updatePeer(peer.value.id, { keepInSync: true })).ok).toBe(true);
      const kept = (): AutoSyncPeer | undefined => app.events.flatMap((e) => (e.type === 'auto-sync' ? e.status.peers : [])).at(-1);
      expect(await waitUntil(() => kept()?.lastOkAt !== undefined, 20_000)).toBe(true);

      // Here → there: the change notifier sees the commit, the scheduler syncs.
      const first = await commitHere(join(root, 'v1'), { 'a.txt': 'one\n' });
      const serverIds = () => withStore(serverDb, (s) => allIds(s));
      const appIds = () => withStore(appDb, (s) => allIds(s));
      const serverHas = (manifest: string) => serverIds().has(manifest);
      expect(await waitUntil(() => serverHas(first.manifest), 20_000, 100)).toBe(true);

      // There → here: nothing tells the app (no change notice before protocol version 5), the interval does.
      await cliOk('commit', writeFolder(join(root, 's1'), { 's.txt': 'from the server\n' }), '--branch', BRANCH, '--parent', 'head', '-m', 'server side');
      expect(await waitUntil(() => [...serverIds()].every((id) => appIds().has(id)), 20_000, 100)).toBe(true);

      // The server dies; the next commit here cannot go anywhere: the peer backs off.
      server.proc.child.kill('SIGKILL');
      await server.proc.exited;
      const port = server.port;
      server = null;
      const second = await commitHere(join(root, 'v2'), { 'a.txt': 'two\n', 'b.txt': 'more\n' });
      expect(await waitUntil(() => (kept()?.failures ?? 0) >= 2, 20_000, 50)).toBe(true);
      expect(kept()).toMatchObject({ state: 'backing-off', lastError: { code: 'unreachable' } });

      // Back on the same port: found again within the (capped) backoff, and the commit arrives.
      server = await serve(port);
      expect(await waitUntil(() => serverHas(second.manifest), 20_000, 100)).toBe(true);
      expect(await waitUntil(() => kept()?.failures === 0, 10_000, 50)).toBe(true);
      // Nothing lost: both sides hold the union, and the server's database checks clean.
      expect(await waitUntil(() => [...appIds()].every((id) => serverIds().has(id)), 10_000, 100)).toBe(true);
      expect([...serverIds()].every((id) => appIds().has(id))).toBe(true);
      await cliOk('db', 'check');
    } finally {
      await service.dispose();
    }
  }, 120_000);
});
