/**
 * What a client may push (docs/SECURITY.md §Write permission). Collections
 * change only through certs: a `branch` cert adds its manifest's closure to
 * the branch it names (and joins that branch only), and every other cert on
 * a manifest joins every branch that manifest is in
 * (src/engine/store/indexer.ts). Files, chunks, manifests and keys on their
 * own join no collection. So the server:
 *
 * 1. wants items only in slots the client may write (the Exchange's
 *    `mayReceiveSlot`), and refuses an item that arrives unasked;
 * 2. before storing a cert, checks every branch the cert would change or
 *    draw from: the branch a `branch` cert names, and every branch its
 *    manifest is already in (a `branch` cert joins only the branch it names,
 *    but it would copy a manifest of those branches into that one). One it
 *    may not write refuses the cert (nothing of it is stored) and ends the
 *    session with a `permission` error.
 *
 * Rule 2 is what stops a writer of `a.*` from putting a manifest into `b.*`
 * by pushing a `branch=b.x` cert through its writable `a.x` slot, and from
 * adding certs (a `tag`, a second `branch`) to a manifest of a branch it may
 * not write. The refusal names only branches the client may read or named
 * itself in the cert, never another branch the manifest is in.
 */
import { toHex } from '../hash.js';
import { Kind, decodeItem } from '../items/format.js';
import type { ReadStore } from '../store/store.js';
import type { Access } from './permissions.js';

/** Null when the item may be stored, else the one-line reason it is refused. Runs inside the storing transaction. */
export function pushRefusal(store: ReadStore, access: Access, id: Buffer, data: Buffer): string | null {
  if (access.owner || data[0] !== Kind.Cert) return null;
  let cert: ReturnType<typeof decodeItem>;
  try {
    cert = decodeItem(data);
  } catch {
    return null; // not a well-formed item: the store's verification refuses it with the precise reason
  }
  if (cert.kind !== Kind.Cert) return null;
  const named = cert.name === 'branch' ? cert.value.toString('utf8') : null;
  const touched = new Set(
    store
      .certsOn(cert.manifest)
      .filter((c) => c.name === 'branch')
      .map((c) => c.value.toString('utf8')),
  );
  if (named !== null) touched.add(named);
  const denied = [...touched].filter((b) => !access.mayWrite(b));
  if (denied.length === 0) return null;
  const shown = denied.filter((b) => b === named || access.mayRead(b));
  const hidden = denied.length - shown.length;
  const what = [
    ...(shown.length ? [`branch${shown.length > 1 ? 'es' : ''} ${shown.map((b) => `"${b}"`).join(', ')}`] : []),
    ...(hidden ? [`${hidden} branch${hidden > 1 ? 'es' : ''} you may not read`] : []),
  ].join(' and ');
  const who = access.client ? 'your key' : 'an anonymous client';
  return `refused cert ${toHex(id).slice(0, 16)}… (${cert.name} on manifest ${toHex(cert.manifest).slice(0, 16)}…): it would change ${what}, which ${who} may not write`;
}

/**
 * What a client accepts from a server (docs/SECURITY.md §4, "Pulling"): a
 * `branch` cert joins the branch it names, so one naming a branch that is not
 * in the session would add a branch the client never asked for (a malicious
 * server offered `branch=zzz.injected` in a slot of `a.*`). Null when the
 * item may be stored, else why it is refused; runs inside the storing
 * transaction, so the items stored before it are kept.
 */
export function pullRefusal(data: Buffer, inSession: (branch: string) => boolean): string | null {
  if (data[0] !== Kind.Cert) return null;
  let cert: ReturnType<typeof decodeItem>;
  try {
    cert = decodeItem(data);
  } catch {
    return null; // the store's verification refuses it with the precise reason
  }
  if (cert.kind !== Kind.Cert || cert.name !== 'branch') return null;
  const branch = cert.value.toString('utf8');
  if (inSession(branch)) return null;
  return `refused a branch cert from the server: it names branch "${branch}", which this session did not ask for; the items of the branches asked for that arrived before it are kept`;
}
