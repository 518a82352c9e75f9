/**
 * Who the app's sessions are. The user's choice (a key, or anonymous for
 * client sessions) is remembered in `<config>/identity.json`; keys sealed
 * with a passphrase are unsealed on request and held in this worker's memory
 * for the run of the app, never written anywhere and never sent to a window.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IdentityChoice, IdentityStatus } from '../../shared/api.js';
import type { KeyPair } from '../keys/ed25519.js';
import type { KeyStore } from '../keys/keystore.js';
import type { Identity } from '../protocol/api.js';
import { NetsyncError } from '../errors.js';
import { refuse } from './errors.js';
import { writePrivateFile } from './files.js';

interface IdentityFile {
  format: 'netsync-identity-v1';
  active: IdentityChoice;
}

export class Identities {
  private readonly unlocked = new Map<string, KeyPair>();

  constructor(
    private readonly keys: KeyStore,
    /** `<config>/identity.json`. */
    private readonly file: string,
  ) {}

  status(): IdentityStatus {
    const chosen = this.chosen();
    const names = this.keys.list().map((k) => k.name);
    const fallback: IdentityChoice | null = names.length === 0 ? { kind: 'anonymous' } : names.length === 1 ? { kind: 'key', name: names[0]! } : null;
    return { active: chosen ?? fallback, chosen: chosen !== null, unlocked: [...this.unlocked.keys()].filter((n) => this.usable(n)).sort() };
  }

  choose(choice: IdentityChoice): IdentityStatus {
    if (choice.kind === 'key' && !this.keys.has(choice.name)) refuse('not-found', `there is no private key named "${choice.name}" on this machine`);
    const body: IdentityFile = { format: 'netsync-identity-v1', active: choice };
    writePrivateFile(this.file, `${JSON.stringify(body, null, 2)}\n`);
    return this.status();
  }

  /** Unseals a key with its passphrase and keeps it for this run. */
  unlock(name: string, passphrase: string): IdentityStatus {
    let pair: KeyPair;
    try {
      pair = this.keys.unlock(name, passphrase);
    } catch (e) {
      if (e instanceof NetsyncError && /wrong passphrase/.test(e.message))
        refuse('bad-passphrase', `that is not the passphrase of key "${name}"`, { key: name });
      throw e;
    }
    this.unlocked.set(name, pair);
    return this.status();
  }

  /** A key just made with a passphrase the user typed: no need to ask for it again this run. */
  remember(name: string, pair: KeyPair): void {
    this.unlocked.set(name, pair);
  }

  /** Who a client session is, or a refusal saying what the user must do first. */
  forClient(): Identity | 'anonymous' {
    const { active } = this.status();
    if (!active) return this.chooseFirst('connecting');
    return active.kind === 'anonymous' ? 'anonymous' : this.identity(active.name);
  }

  /** The key that signs a commit: `name`, else the active key; anonymous signs nothing. */
  forSigning(name?: string): Identity {
    if (name) return this.identity(name);
    const { active } = this.status();
    if (!active) return this.chooseFirst('signing commits');
    if (active.kind === 'anonymous') refuse('key', 'a commit is signed by your key and you have chosen to be anonymous; choose or make a key in Identity');
    return this.identity(active.name);
  }

  /** The key a server proves it is: the active key; with none chosen (or anonymous), the only key. */
  forServer(): Identity {
    const { active } = this.status();
    if (active?.kind === 'key') return this.identity(active.name);
    const names = this.keys.list().map((k) => k.name);
    if (names.length === 0) refuse('key', 'a server needs a key to prove who it is; make one in Identity first');
    if (names.length > 1) return this.chooseFirst('serving');
    return this.identity(names[0]!);
  }

  private chooseFirst(doing: string): never {
    const names = this.keys.list().map((k) => k.name);
    return refuse('identity-required', `several keys exist (${names.join(', ')}); choose the one to use for ${doing} in Identity`);
  }

  private identity(name: string): Identity {
    if (!this.keys.has(name)) refuse('not-found', `the key "${name}" chosen in Identity is no longer on this machine; choose another`);
    if (!this.keys.isEncrypted(name)) return { name, keyPair: this.keys.unlock(name) };
    if (!this.usable(name)) refuse('key-locked', `key "${name}" is protected by a passphrase; enter it to use the key until Netsync quits`, { key: name });
    return { name, keyPair: this.unlocked.get(name)! };
  }

  /** Unlocked, and still the key of that name on disk (not replaced behind our back). */
  private usable(name: string): boolean {
    const pair = this.unlocked.get(name);
    if (!pair) return false;
    try {
      if (this.keys.has(name) && this.keys.publicKey(name).equals(pair.publicKey)) return true;
    } catch {
      // an unreadable key file: forget the pair below
    }
    this.unlocked.delete(name);
    return false;
  }

  private chosen(): IdentityChoice | null {
    if (!existsSync(this.file)) return null;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<IdentityFile>;
      const a = parsed.active;
      if (parsed.format !== 'netsync-identity-v1' || !a) return null;
      if (a.kind === 'anonymous') return { kind: 'anonymous' };
      if (a.kind === 'key' && typeof a.name === 'string') return { kind: 'key', name: a.name };
    } catch {
      // A damaged choice is no choice: the default applies and the next choice rewrites the file.
    }
    return null;
  }
}
