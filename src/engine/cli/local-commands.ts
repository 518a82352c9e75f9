/** The commands that work on the local database and key store only. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import { toHex } from '../hash.js';
import { Kind, KIND_NAMES, decodeItem, encodeKey, itemId, isValidKeyName, EntryType } from '../items/format.js';
import { KeyStore } from '../keys/keystore.js';
import { formatPublicKey, parsePublicKey } from '../keys/public-key-text.js';
import { configDir } from '../paths.js';
import { TrustList } from '../security/trust.js';
import { treeWalk } from '../items/tree.js';
import { type LogEntry, branchHeads, branchLog, describeHeads, resolveManifest } from '../store/history.js';
import { drawGraph } from './graph.js';
import { checkDatabase, rebuildIndex } from '../store/maintenance.js';
import { type OpenOptions, ReadStore, WriteStore } from '../store/store.js';
import { checkoutManifest } from '../workspace/checkout.js';
import { commitDirectory, type Signer } from '../workspace/commit.js';
import { mergeBranch } from '../workspace/merge.js';
import { flag, type Parsed, str, strings } from './args.js';
import { formatBytes } from './format.js';
import { type Output, reindexNote } from './output.js';
import { readPassphrase } from './passphrase.js';

export interface Context {
  db: string;
  io: Output;
}

export type Command = (ctx: Context, p: Parsed) => Promise<number> | number;

export function keyStore(): KeyStore {
  return new KeyStore(join(configDir(), 'keys'));
}

/** The database, for writing; one an older Netsync indexed is indexed again, and the user told so first. */
function openForWriting(ctx: Context, options: OpenOptions = {}): WriteStore {
  return WriteStore.open(ctx.db, { ...options, onReindex: reindexNote(ctx.io) });
}

export async function loadSigner(name: string | undefined): Promise<Signer> {
  const keys = keyStore();
  let chosen = name ?? process.env.NETSYNC_KEY;
  if (!chosen) {
    const all = keys.list();
    if (all.length === 0) fail('key', 'no signing key yet; create one with "netsync key generate NAME"');
    if (all.length > 1) fail('usage', `several keys exist (${all.map((k) => k.name).join(', ')}); choose one with --key NAME`);
    chosen = all[0]!.name;
  }
  const passphrase = keys.isEncrypted(chosen) ? await readPassphrase(`Passphrase for key "${chosen}": `) : undefined;
  return { name: chosen, pair: keys.unlock(chosen, passphrase) };
}

export const dbInit: Command = (ctx) => {
  const store = openForWriting(ctx, { create: true });
  store.close();
  ctx.io.out(`database ready at ${ctx.db}`);
  return 0;
};

export const dbCheck: Command = (ctx) => {
  const store = openForWriting(ctx, { maintenance: true });
  try {
    const report = checkDatabase(store, (n) => ctx.io.progress({ label: 'db check', done: n, total: null, unit: 'items' }));
    ctx.io.clearProgress();
    for (const p of report.problems) ctx.io.out(p);
    if (report.problems.length > 0) fail('db-corrupt', `db check: ${report.problems.length} problem(s) in ${report.items} items`);
    ctx.io.out(`db check: ${report.items} items verified, index matches a fresh rebuild`);
    return 0;
  } finally {
    store.close();
  }
};

export const dbRebuildIndex: Command = (ctx) => {
  const store = openForWriting(ctx, { maintenance: true });
  try {
    const r = rebuildIndex(store, (n) => ctx.io.progress({ label: 'db rebuild-index', done: n, total: null, unit: 'items' }));
    ctx.io.clearProgress();
    ctx.io.out(`index rebuilt: ${r.items} items, ${r.branches} branches`);
    return 0;
  } finally {
    store.close();
  }
};

export const keyGenerate: Command = async (ctx, p) => {
  const name = p.positionals[0]!;
  if (!isValidKeyName(name)) fail('usage', `"${name}" is not a valid key name (letters, digits, @ . _ + -)`);
  let passphrase: string | undefined;
  if (flag(p, 'passphrase')) {
    passphrase = await readPassphrase(`New passphrase for "${name}": `);
    if (!passphrase) fail('usage', 'key generate --passphrase: no passphrase given (set NETSYNC_PASSPHRASE or run on a terminal)');
  }
  const pair = keyStore().generate(name, passphrase);
  const keyItem = encodeKey(name, pair.publicKey);
  if (storeExists(ctx.db)) {
    const store = openForWriting(ctx);
    store.put(keyItem);
    store.close();
  }
  ctx.io.out(`${name} ${toHex(itemId(keyItem))}`);
  return 0;
};

function storeExists(path: string): boolean {
  try {
    ReadStore.open(path).close();
    return true;
  } catch {
    return false;
  }
}

export const keyList: Command = (ctx) => {
  const priv = new Map(
    keyStore()
      .list()
      .map((k) => [toHex(itemId(encodeKey(k.name, k.publicKey))), k]),
  );
  const rows = new Map<string, string>();
  for (const [id, k] of priv) rows.set(id, `${k.name} ${id} private${k.encrypted ? ' (passphrase)' : ''}`);
  if (storeExists(ctx.db)) {
    const store = ReadStore.open(ctx.db);
    for (const k of store.keys()) if (!rows.has(toHex(k.id))) rows.set(toHex(k.id), `${k.name} ${toHex(k.id)} public`);
    store.close();
  }
  for (const line of [...rows.values()].sort()) ctx.io.out(line);
  return 0;
};

export const keyExport: Command = (ctx, p) => {
  const name = p.positionals[0]!;
  ctx.io.out(formatPublicKey(name, keyStore().publicKey(name)));
  return 0;
};

export const keyImport: Command = (ctx, p) => {
  const file = p.positionals[0]!;
  const { name, publicKey } = parsePublicKey(readFileSync(file === '-' ? 0 : file, 'utf8'), file);
  const store = openForWriting(ctx);
  const { id } = store.put(encodeKey(name, publicKey));
  store.close();
  ctx.io.out(`${name} ${toHex(id)}`);
  return 0;
};

const CHANGE_MARK = { added: 'A', changed: 'M', removed: 'D' } as const;

/** `--parent head` (the branch's only head) or an id: the version a folder without a record starts from. */
function parentOf(store: ReadStore, branch: string, arg: string): Buffer {
  if (arg !== 'head') return resolveManifest(store, arg);
  if (store.branchId(branch) === null) fail('not-found', `--parent head: no branch named "${branch}"`);
  const heads = branchHeads(store, branch);
  if (heads.length !== 1) {
    fail(
      'usage',
      `--parent head: ${branch} has ${heads.length} heads (${heads.map((h) => toHex(h).slice(0, 12)).join(', ')}); name one by its id, or merge them first`,
    );
  }
  return heads[0]!;
}

export const commit: Command = async (ctx, p) => {
  const branch = str(p, 'branch')!; // required by the parser
  const store = openForWriting(ctx);
  try {
    const parentArg = str(p, 'parent');
    const parent = parentArg === undefined ? undefined : parentOf(store, branch, parentArg);
    const signer = await loadSigner(str(p, 'key'));
    const r = await commitDirectory(store, p.positionals[0]!, {
      branch,
      parent,
      exclude: strings(p, 'exclude'),
      onRefused: (path, why) => ctx.io.note(`refused: ${path}: ${why}`),
      message: str(p, 'message'),
      signer,
      rehash: flag(p, 'rehash'),
      onProgress: (q) => ctx.io.progress({ label: 'commit', done: q.files, total: q.totalFiles, unit: 'files', bytes: q.bytes }),
    });
    ctx.io.clearProgress();
    if (r.changes) {
      ctx.io.out(`relative to ${toHex(parent!).slice(0, 12)}: ${r.changes.length === 0 ? 'no change' : `${r.changes.length} paths`}`);
      for (const c of r.changes) ctx.io.out(`${CHANGE_MARK[c.change]} ${c.path}`);
    }
    const unchanged = r.onlyHead ? `already the head of ${branch}` : 'as the revision the folder came from';
    ctx.io.out(r.changed ? `${r.manifest}` : `${r.manifest} (unchanged: ${unchanged})`);
    if (r.heads > 1) ctx.io.note(`${branch} now has ${r.heads} heads; \`netsync merge ${branch}\` joins them`);
    return 0;
  } finally {
    store.close();
  }
};

export const merge: Command = async (ctx, p) => {
  const branch = p.positionals[0]!;
  const into = str(p, 'into');
  const store = openForWriting(ctx);
  try {
    const signer = await loadSigner(str(p, 'key'));
    const r = mergeBranch(store, branch, { signer, into, message: str(p, 'message') });
    const [ours, theirs] = r.heads.map((h) => h.slice(0, 12));
    if (r.headCount > 2) ctx.io.note(`${branch} has ${r.headCount} heads; merging the two newest (${ours}, ${theirs}); run merge again for the others`);
    for (const c of r.conflicts) ctx.io.out(`conflict (${c.kind}): ${c.path}`);
    const count = `${r.conflicts.length} ${r.conflicts.length === 1 ? 'conflict' : 'conflicts'}`;
    if (into !== undefined) {
      const w = r.written!;
      ctx.io.out(`wrote the merge of ${ours} and ${theirs} into ${into}: ${w.files} files, ${w.dirs} folders, ${w.links} links, ${count}`);
      if (w.skippedLinks.length > 0) ctx.io.note(`skipped ${w.skippedLinks.length} symbolic links this system cannot create: ${w.skippedLinks.join(', ')}`);
      const next = `\`netsync commit ${into} --branch ${branch}\` records both heads as its parents`;
      if (r.conflicts.length > 0) fail('conflict', `merge of ${branch}: ${count}, marked in ${into}; resolve them, then ${next}`);
      ctx.io.note(`nothing was committed; ${next}`);
      return 0;
    }
    if (r.conflicts.length > 0) {
      fail(
        'conflict',
        `merge of ${branch}: ${count}; nothing was committed; \`netsync merge ${branch} --into DIR\` writes the merged tree with conflict markers`,
      );
    }
    ctx.io.out(r.revision!);
    const left = branchHeads(store, branch).length;
    ctx.io.note(
      `merged ${ours} and ${theirs}${r.base ? ` (base ${r.base.slice(0, 12)})` : ' (no common ancestor)'}; ${branch} now has ${left} ${left === 1 ? 'head' : 'heads'}`,
    );
    return 0;
  } finally {
    store.close();
  }
};

export const branches: Command = (ctx) => {
  const store = ReadStore.open(ctx.db);
  try {
    for (const b of store.branches()) {
      const heads = branchHeads(store, b.name).length;
      ctx.io.out(`${b.name} (${b.items} items, ${heads} ${heads === 1 ? 'head' : 'heads'})`);
    }
    return 0;
  } finally {
    store.close();
  }
};

/** `heads BRANCH`: one line per head, newest first: id, date, author. */
export const heads: Command = (ctx, p) => {
  const store = ReadStore.open(ctx.db);
  try {
    const branch = p.positionals[0]!;
    const all = describeHeads(store, branch);
    for (const h of all) ctx.io.out(`${h.manifest} ${h.date ?? '-'} ${h.author ?? '-'}`);
    if (all.length > 1) ctx.io.note(`${branch} has ${all.length} heads; \`netsync merge ${branch}\` joins them`);
    return 0;
  } finally {
    store.close();
  }
};

export const log: Command = (ctx, p) => {
  const store = ReadStore.open(ctx.db);
  const isTrusted = new TrustList(configDir()).checker();
  const trusted = (keyHex: string) => isTrusted(Buffer.from(keyHex, 'hex'));
  let untrustedSeen = false;
  try {
    const branch = p.positionals[0]!;
    const entries = branchLog(store, branch);
    const heads = new Set(branchHeads(store, branch).map(toHex));
    const mark = (id: string) => (heads.has(id) ? ' (head)' : '');
    if (flag(p, 'graph')) {
      const nodes = entries.map((e) => ({
        id: e.manifest,
        parents: e.parents,
        date: e.date ?? '',
        text: `${e.manifest.slice(0, 12)}${mark(e.manifest)} ${e.date ?? '-'} ${e.author ?? '-'}${e.changelog ? `  ${e.changelog.split('\n')[0]}` : ''}`,
      }));
      for (const line of drawGraph(nodes)) ctx.io.out(line);
      return 0;
    }
    for (const e of entries) {
      ctx.io.out(`${e.revision ? 'revision' : 'manifest'} ${e.manifest}${mark(e.manifest)}`);
      ctx.io.out(`  date:      ${e.date ?? '-'}`);
      ctx.io.out(`  author:    ${e.author ?? '-'}`);
      for (const parent of e.parents) ctx.io.out(`  ${e.revision ? 'parent:  ' : 'ancestor:'}  ${parent}`);
      ctx.io.out(`  signed by: ${signedBy(e, trusted)}`);
      if (e.certs.some((c) => !trusted(c.signerKey))) untrustedSeen = true;
      if (e.changelog) ctx.io.out(`  ${e.changelog.split('\n').join('\n  ')}`);
      ctx.io.out('');
    }
    if (untrustedSeen)
      ctx.io.out('UNTRUSTED: signed by a key you have not chosen to trust (valid signature, unknown signer); trust it with "netsync key trust NAME|ID"');
    return 0;
  } finally {
    store.close();
  }
};

/** Who signed which certs: `alice (author, branch, date)`, a key the user does not trust marked UNTRUSTED with its id. */
function signedBy(e: LogEntry, trusted: (keyHex: string) => boolean): string {
  const signers = new Map<string, { name: string; certs: string[] }>();
  for (const c of e.certs) {
    const s = signers.get(c.signerKey) ?? { name: c.signer, certs: [] };
    s.certs.push(c.name);
    signers.set(c.signerKey, s);
  }
  return [...signers]
    .map(([key, s]) => `${s.name}${trusted(key) ? '' : ` [UNTRUSTED key ${key.slice(0, 16)}]`} (${[...new Set(s.certs)].join(', ')})`)
    .join('; ');
}

/** How `show` names each entry type, four letters wide. */
const ENTRY_WORDS: Record<EntryType, string> = {
  [EntryType.File]: 'file',
  [EntryType.Executable]: 'exec',
  [EntryType.Dir]: 'dir ',
  [EntryType.Symlink]: 'link',
};

export const show: Command = (ctx, p) => {
  const store = ReadStore.open(ctx.db);
  try {
    const target = p.positionals[0]!;
    const id = /^[0-9a-f]{6,64}$/i.test(target) ? store.findByHexPrefix(target) : null;
    if (id === 'ambiguous') fail('usage', `"${target}" matches more than one item; give more digits`);
    if (!id) fail('not-found', `no item with id ${target}`);
    const stored = store.get(id)!;
    const item = decodeItem(stored.data);
    ctx.io.out(`${KIND_NAMES[item.kind]} ${toHex(id)}`);
    switch (item.kind) {
      case Kind.File:
        ctx.io.out(`size: ${item.size}`);
        if (item.layout === 'chunked') for (const c of item.chunks) ctx.io.out(`chunk ${toHex(c.id)} ${c.length}`);
        break;
      case Kind.Chunk:
        ctx.io.out(`size: ${item.size}`);
        break;
      case Kind.Manifest:
        for (const e of item.entries) {
          const t = e.type === EntryType.Dir ? 'dir ' : e.type === EntryType.Executable ? 'exec' : 'file';
          ctx.io.out(`${t} ${e.file ? toHex(e.file) : '-'.repeat(64)} ${e.path}`);
        }
        for (const c of store.certsOn(id)) ctx.io.out(`cert ${c.name}=${c.value.toString('utf8')} by ${store.key(c.key)?.name ?? toHex(c.key)}`);
        break;
      case Kind.Revision: {
        ctx.io.out(`tree ${toHex(item.tree)}`);
        for (const parent of item.parents) ctx.io.out(`parent ${toHex(parent)}`);
        // Every path of the tree as a manifest lists them: in UTF-8 byte order, a folder's id being its tree's.
        const entries = [...treeWalk((t) => store.get(t)?.data ?? null, item.tree)]
          .map((e) => ({ e, path: Buffer.from(e.path) }))
          .sort((a, b) => Buffer.compare(a.path, b.path));
        for (const { e } of entries)
          ctx.io.out(`${ENTRY_WORDS[e.type]} ${e.id ? toHex(e.id) : '-'.repeat(64)} ${e.path}${e.target ? ` -> ${e.target.toString('utf8')}` : ''}`);
        for (const c of store.certsOn(id)) ctx.io.out(`cert ${c.name}=${c.value.toString('utf8')} by ${store.key(c.key)?.name ?? toHex(c.key)}`);
        break;
      }
      case Kind.Tree:
        ctx.io.out(`level: ${item.level}`);
        for (const c of item.children) ctx.io.out(`node ${toHex(c.id)} ${c.count}`);
        for (const e of item.entries) {
          ctx.io.out(`${ENTRY_WORDS[e.type]} ${e.id ? toHex(e.id) : '-'.repeat(64)} ${e.name}${e.target ? ` -> ${e.target.toString('utf8')}` : ''}`);
        }
        break;
      case Kind.Cert:
        ctx.io.out(`${store.meta(item.manifest)?.kind === Kind.Revision ? 'revision' : 'manifest'}: ${toHex(item.manifest)}`);
        ctx.io.out(`signer:   ${store.key(item.key)?.name ?? '?'} ${toHex(item.key)}`);
        ctx.io.out(`${item.name}: ${item.value.toString('utf8')}`);
        break;
      case Kind.Key:
        ctx.io.out(`name: ${item.name}`);
        ctx.io.out(`public key: ${item.publicKey.toString('base64')}`);
        break;
    }
    return 0;
  } finally {
    store.close();
  }
};

export const checkout: Command = (ctx, p) => {
  const store = ReadStore.open(ctx.db);
  try {
    const target = p.positionals[0]!;
    const manifest = resolveManifest(store, target);
    const r = checkoutManifest(
      store,
      manifest,
      p.positionals[1]!,
      (q) => ctx.io.progress({ label: 'checkout', done: q.files, total: q.totalFiles, unit: 'files' }),
      store.branchId(target) === null ? null : target,
    );
    ctx.io.clearProgress();
    ctx.io.out(`checked out ${toHex(manifest)}: ${r.files} files, ${r.dirs} folders, ${r.links} links, ${formatBytes(r.bytes)}`);
    if (r.skippedLinks.length > 0) {
      ctx.io.note(`skipped ${r.skippedLinks.length} symbolic links this system cannot create: ${r.skippedLinks.join(', ')}`);
    }
    return 0;
  } finally {
    store.close();
  }
};
