/**
 * The keys a permissions rule may name, for the editor's picker: the user's
 * own, the database's key items, and the keys of clients that began a
 * session with this app's server. The server remembers those clients by
 * fingerprint in `<config>/clients.json` (the most recent KEEP_CLIENTS), so
 * that its owner can grant a key that has knocked without asking for it to
 * be read out. Best effort, like the transfer history: remembering never
 * fails a session.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KeyInfo, KnownKey, KnownKeySource } from '../../shared/api.js';
import { formatFingerprint, parseFingerprint } from '../security/fingerprint.js';
import { writePrivateFile } from './files.js';

export interface SeenClient {
  /** 64 lowercase hex digits. */
  fingerprint: string;
  lastSeen: string;
}

interface ClientFile {
  format: 'netsync-clients-v1';
  clients: SeenClient[];
}

export const KEEP_CLIENTS = 200;
/** A client seen again within this long is not written again: a busy server does not rewrite the file per session. */
const REWRITE_AFTER_MS = 60_000;

export class ClientBook {
  private clients: SeenClient[] | null = null;

  constructor(readonly file: string) {}

  /** Newest first; an unreadable file reads as empty (it is only a convenience). */
  list(): SeenClient[] {
    return structuredClone(this.load());
  }

  /** A client presented this key (any form of fingerprint); 'anonymous' and anything else are ignored. */
  seen(fingerprint: string, at = new Date()): void {
    const hex = parseFingerprint(fingerprint);
    if (!hex) return;
    const clients = this.load();
    const before = clients.find((c) => c.fingerprint === hex);
    if (before && at.getTime() - Date.parse(before.lastSeen) < REWRITE_AFTER_MS) return;
    const next = [{ fingerprint: hex, lastSeen: at.toISOString() }, ...clients.filter((c) => c.fingerprint !== hex)].slice(0, KEEP_CLIENTS);
    this.clients = next;
    try {
      writePrivateFile(this.file, `${JSON.stringify({ format: 'netsync-clients-v1', clients: next } satisfies ClientFile, null, 2)}\n`);
    } catch {
      // Kept in memory for this run; the server goes on serving.
    }
  }

  private load(): SeenClient[] {
    if (this.clients) return this.clients;
    try {
      const parsed = existsSync(this.file) ? (JSON.parse(readFileSync(this.file, 'utf8')) as ClientFile) : null;
      const ok = parsed?.format === 'netsync-clients-v1' && Array.isArray(parsed.clients);
      this.clients = ok ? parsed.clients.filter((c) => parseFingerprint(String(c?.fingerprint)) !== null && typeof c.lastSeen === 'string') : [];
    } catch {
      this.clients = [];
    }
    return this.clients;
  }
}

/**
 * One entry per key, by fingerprint: named where a key of the user's or of
 * the database names it; the user's own first, then the database's, then
 * clients known only by fingerprint, newest first.
 */
export function knownKeys(keys: readonly KeyInfo[], clients: readonly SeenClient[]): KnownKey[] {
  const byHex = new Map<string, KnownKey>();
  const add = (hex: string, name: string | null, source: KnownKeySource): KnownKey => {
    let k = byHex.get(hex);
    if (!k) byHex.set(hex, (k = { fingerprint: formatFingerprint(hex), name, sources: [] }));
    k.name ??= name;
    if (!k.sources.includes(source)) k.sources.push(source);
    return k;
  };
  for (const k of keys) {
    const hex = parseFingerprint(k.fingerprint)!;
    if (k.hasPrivate) add(hex, k.name, 'own');
    if (k.inDatabase) add(hex, k.name, 'database');
  }
  for (const c of clients) add(c.fingerprint, null, 'client').lastSeen = c.lastSeen;
  const rank = (k: KnownKey) => (k.sources.includes('own') ? 0 : k.sources.includes('database') ? 1 : 2);
  return [...byHex.values()].sort(
    (a, b) => rank(a) - rank(b) || (a.name ?? '').localeCompare(b.name ?? '') || (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''),
  );
}
