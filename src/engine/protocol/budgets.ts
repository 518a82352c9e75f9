/**
 * Everything a peer can make a server spend, bounded in one place: time
 * (Limits: handshake, idle, slow frames, a peer that does not read),
 * connections and sessions (in all, anonymous, per source address), and
 * memory (frames in progress, a session's tables). docs/SECURITY.md §7 lists
 * every value and why; docs/PROTOCOL.md §6 is the table a peer sees.
 *
 * The server keeps one ServerLedger. A TCP connection is a *startup* until
 * its TLS handshake ends (OpenSSH's MaxStartups); then a *session*, keyed
 * (its client proved a key) or anonymous. A peer over a budget gets ERROR
 * `over-budget` naming the budget and is disconnected; the other sessions
 * carry on. When session slots or memory run short, anonymous sessions give
 * way to keyed ones.
 *
 * Protocol version 4 will keep sessions open after their exchange, waiting
 * for small change notices: they are budgeted apart (wait()), with their own
 * count and idle allowance, so that a session that has finished and waits
 * for minutes is not taken for a slow attacker.
 */
import { MAX_FRAME } from './frames.js';
import { ProtocolError } from './wire.js';

/** Timeouts and the frame limit of one connection (both roles). */
export interface Limits {
  /** The peer must send its first frame within this time (the TLS handshake has its own, equal, limit before it). */
  handshakeMs: number;
  /** The session is dropped when nothing arrives for this long. */
  idleMs: number;
  /** A frame that has begun must keep arriving at this rate after a grace period. */
  minFrameRate: number;
  frameGraceMs: number;
  /** A write that cannot drain for this long means a peer that does not read. */
  writeStallMs: number;
  maxFrame: number;
}

export const DEFAULT_LIMITS: Limits = {
  handshakeMs: 10_000,
  idleMs: 60_000,
  minFrameRate: 16 * 1024,
  frameGraceMs: 10_000,
  writeStallMs: 60_000,
  maxFrame: MAX_FRAME,
};

/** What a server lets its peers spend (docs/SECURITY.md §7). */
export interface Budgets {
  /** The first frame of a connection, its HELLO, is at most this long (OpenSSH allows 256 KiB before authentication). */
  helloFrameBytes: number;
  /** Connections still in their TLS handshake, in all and from one source address (OpenSSH's MaxStartups). */
  maxStartups: number;
  perSourceStartups: number;
  /** Sessions at once; anonymous ones hold at most maxAnonymousSessions of them, perSourceAnonymousSessions from one address. */
  maxSessions: number;
  maxAnonymousSessions: number;
  perSourceAnonymousSessions: number;
  /** Sessions that have finished their exchange and only wait (protocol v4), counted apart, with their own idle allowance. */
  maxWaitingSessions: number;
  perSourceWaitingSessions: number;
  waitingIdleMs: number;
  /** OFFER and WANT records a session may send. */
  records: { keyed: number; anonymous: number };
  /** Entries a session may make the server keep in its tables (items it wants, items listed unwritable). */
  tableEntries: { keyed: number; anonymous: number };
  /** Steps of branch matching one HELLO may cost: its patterns' steps per character × the characters of every name matched. */
  matchSteps: number;
  /** Memory held for sessions (frames in progress, table entries at TABLE_ENTRY_BYTES), in all and for anonymous sessions together. */
  memoryBytes: number;
  anonymousMemoryBytes: number;
  /**
   * OpenSSH's PerSourcePenalties: each connection from an address that ends
   * in its TLS handshake (timeout, not TLS, refused) adds penaltyMs to the
   * address's penalty, which drains in real time up to maxPenaltyMs; while it
   * exceeds penaltyThresholdMs, new connections from that address are closed
   * at once. 0 turns penalties off.
   */
  penaltyMs: number;
  penaltyThresholdMs: number;
  maxPenaltyMs: number;
}

/**
 * What a table entry (a Map entry keyed by a short id's hex) costs, counted
 * generously: ~100 bytes of heap measured, ~145 of resident memory with the
 * Map's growth slack.
 */
export const TABLE_ENTRY_BYTES = 160;

export const DEFAULT_BUDGETS: Budgets = {
  helloFrameBytes: 256 << 10,
  maxStartups: 128,
  perSourceStartups: 64,
  maxSessions: 256,
  maxAnonymousSessions: 192,
  perSourceAnonymousSessions: 32,
  maxWaitingSessions: 1024,
  perSourceWaitingSessions: 16,
  waitingIdleMs: 15 * 60_000,
  records: { keyed: 1 << 24, anonymous: 1 << 21 },
  tableEntries: { keyed: 1 << 22, anonymous: 1 << 17 },
  matchSteps: 1 << 26,
  memoryBytes: 512 << 20,
  anonymousMemoryBytes: 64 << 20,
  penaltyMs: 1000,
  penaltyThresholdMs: 15_000,
  maxPenaltyMs: 60_000,
};

/** The budget hooks the exchange calls (exchange.ts): each throws ProtocolError `over-budget` past its budget. */
export interface ExchangeBudget {
  /** The peer sent an OFFER or WANT of n records. */
  records(n: number): void;
  /** The session keeps `delta` more table entries for the peer (fewer when negative). */
  entries(delta: number): void;
}

/** The address part of "ADDRESS:PORT" (an IPv4 address mapped into IPv6 as its IPv4 form). */
export function sourceOf(remote: string): string {
  const cut = remote.lastIndexOf(':');
  const address = cut > 0 ? remote.slice(0, cut) : remote;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

const overBudget = (message: string): never => {
  throw new ProtocolError('over-budget', message);
};

const plural = (n: number, what: string): string => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;

interface Source {
  startups: number;
  anonymous: number;
  waiting: number;
  /** Penalty in ms as of penaltyAt. */
  penalty: number;
  penaltyAt: number;
}

/** One server's accounts of connections, sessions and memory. */
export class ServerLedger {
  private readonly sources = new Map<string, Source>();
  private readonly sessions = new Set<SessionAccount>();
  startups = 0;
  anonymous = 0;
  waiting = 0;
  memory = 0;
  anonymousMemory = 0;

  constructor(readonly budgets: Budgets = DEFAULT_BUDGETS) {}

  private source(address: string): Source {
    let s = this.sources.get(address);
    if (!s) this.sources.set(address, (s = { startups: 0, anonymous: 0, waiting: 0, penalty: 0, penaltyAt: 0 }));
    return s;
  }

  /** Forgets an address that holds nothing and owes no penalty (the map stays as small as what is open). */
  private tidy(address: string): void {
    const s = this.sources.get(address);
    if (s && s.startups === 0 && s.anonymous === 0 && s.waiting === 0 && this.penaltyOf(s) === 0) this.sources.delete(address);
  }

  private penaltyOf(s: Source): number {
    return Math.max(0, s.penalty - (Date.now() - s.penaltyAt));
  }

  /** Sessions open now (active and waiting). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * A TCP connection from `address`: admitted as a startup (end it with
   * Startup.end), or the reason it is closed at once.
   */
  startup(address: string): Startup | string {
    const b = this.budgets;
    const s = this.source(address);
    const penalty = this.penaltyOf(s);
    if (b.penaltyMs > 0 && penalty > b.penaltyThresholdMs) return `${address} is penalised for ${Math.ceil(penalty / 1000)} s (failed handshakes)`;
    if (this.startups >= b.maxStartups) return `${b.maxStartups} connections are in their handshake (maxStartups)`;
    if (s.startups >= b.perSourceStartups) return `${address} has ${b.perSourceStartups} connections in their handshake (perSourceStartups)`;
    this.startups++;
    s.startups++;
    let ended = false;
    return {
      end: (failed: boolean) => {
        if (ended) return;
        ended = true;
        this.startups--;
        s.startups--;
        if (failed && b.penaltyMs > 0) {
          s.penalty = Math.min(this.penaltyOf(s) + b.penaltyMs, b.maxPenaltyMs);
          s.penaltyAt = Date.now();
        }
        this.tidy(address);
      },
    };
  }

  /**
   * A session from `address` (its TLS handshake is done): its account, or the
   * reason it is refused. A keyed client that finds every slot taken takes
   * the place of the oldest anonymous session, which is told why.
   */
  session(address: string, keyed: boolean, evict: (reason: string) => void): SessionAccount | string {
    const b = this.budgets;
    const s = this.source(address);
    if (!keyed) {
      if (this.anonymous >= b.maxAnonymousSessions)
        return `the server serves ${b.maxAnonymousSessions} anonymous sessions at once (maxAnonymousSessions); try again later, or use a key`;
      if (s.anonymous >= b.perSourceAnonymousSessions)
        return `${address} has ${b.perSourceAnonymousSessions} anonymous sessions open (perSourceAnonymousSessions)`;
    }
    if (this.sessions.size - this.waiting >= b.maxSessions) {
      const victim = keyed ? [...this.sessions].find((a) => !a.keyed && a.phase === 'active') : undefined;
      if (!victim) return `the server serves ${b.maxSessions} sessions at once (maxSessions); try again later`;
      victim.evict(`the server is full (maxSessions ${b.maxSessions}) and makes room for a client with a key; try again later, or use a key`);
    }
    const account = new SessionAccount(this, address, keyed, evict);
    this.sessions.add(account);
    if (!keyed) {
      this.anonymous++;
      s.anonymous++;
    }
    return account;
  }

  /** @internal SessionAccount.wait */
  enterWaiting(account: SessionAccount): string | null {
    const s = this.source(account.address);
    if (this.waiting >= this.budgets.maxWaitingSessions) return `${this.budgets.maxWaitingSessions} sessions already wait (maxWaitingSessions)`;
    if (s.waiting >= this.budgets.perSourceWaitingSessions)
      return `${account.address} has ${this.budgets.perSourceWaitingSessions} waiting sessions (perSourceWaitingSessions)`;
    this.waiting++;
    s.waiting++;
    return null;
  }

  /** @internal SessionAccount.close */
  closed(account: SessionAccount): void {
    if (!this.sessions.delete(account)) return;
    const s = this.source(account.address);
    if (!account.keyed) {
      this.anonymous--;
      s.anonymous--;
    }
    if (account.phase === 'waiting') {
      this.waiting--;
      s.waiting--;
    }
    this.tidy(account.address);
  }

  /**
   * Moves `delta` bytes into (or out of) an account's memory. Past the
   * anonymous share, the anonymous session holding most gives way; past the
   * whole budget, anonymous sessions give way (most first), and with none
   * left the account that grew is over budget. Throws for `account` itself.
   */
  charge(account: SessionAccount, delta: number): void {
    this.memory += delta;
    if (!account.keyed) this.anonymousMemory += delta;
    if (delta <= 0) return;
    const b = this.budgets;
    while (this.anonymousMemory > b.anonymousMemoryBytes || this.memory > b.memoryBytes) {
      const anonymousOver = this.anonymousMemory > b.anonymousMemoryBytes;
      const victim = this.largestAnonymous() ?? account;
      const why = anonymousOver
        ? `anonymous sessions together may hold ${mib(b.anonymousMemoryBytes)} of the server's memory (anonymousMemoryBytes)`
        : `the server's sessions may hold ${mib(b.memoryBytes)} of its memory (memoryBytes)`;
      if (victim === account) overBudget(`${why}; this session held ${mib(account.bytes)}`);
      victim.evict(`${why}; this session held ${mib(victim.bytes)}, the most of any anonymous session`);
    }
  }

  private largestAnonymous(): SessionAccount | null {
    let best: SessionAccount | null = null;
    for (const a of this.sessions) if (!a.keyed && a.bytes > 0 && (!best || a.bytes > best.bytes)) best = a;
    return best;
  }
}

export interface Startup {
  /** The handshake is over: `failed` when it ended in a TLS error, a timeout or a refusal (a penalty for its address). */
  end(failed: boolean): void;
}

const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(bytes < 10 << 20 ? 1 : 0)} MiB`;

/** One session's spending; every method that spends throws ProtocolError `over-budget` past its budget. */
export class SessionAccount implements ExchangeBudget {
  phase: 'active' | 'waiting' | 'closed' = 'active';
  /** Memory charged: the frame in progress, and table entries. */
  bytes = 0;
  private buffered = 0;
  private tables = 0;
  private recordCount = 0;

  constructor(
    private readonly ledger: ServerLedger,
    readonly address: string,
    readonly keyed: boolean,
    private readonly onEvict: (reason: string) => void,
  ) {}

  private get who(): 'keyed' | 'anonymous' {
    return this.keyed ? 'keyed' : 'anonymous';
  }

  /** How long the session may stay silent: the idle limit while active, the waiting allowance once it only waits. */
  idleMs(limits: Limits): number {
    return this.phase === 'waiting' ? this.ledger.budgets.waitingIdleMs : limits.idleMs;
  }

  /** The bytes of the frame in progress now (the decoder's buffer). */
  setBuffered(bytes: number): void {
    const delta = bytes - this.buffered;
    if (delta === 0) return;
    this.buffered = bytes;
    this.spend(delta);
  }

  records(n: number): void {
    this.recordCount += n;
    const max = this.ledger.budgets.records[this.who];
    if (this.recordCount > max)
      overBudget(`a session ${this.keyed ? 'with a key' : 'without a key'} may send ${plural(max, 'OFFER or WANT record')} (records.${this.who})`);
  }

  entries(delta: number): void {
    this.tables += delta;
    const max = this.ledger.budgets.tableEntries[this.who];
    if (delta > 0 && this.tables > max) {
      overBudget(
        `a session ${this.keyed ? 'with a key' : 'without a key'} may make the server track ${plural(max, 'item')} at once (tableEntries.${this.who})`,
      );
    }
    this.spend(delta * TABLE_ENTRY_BYTES);
  }

  /** Pattern matching of `steps` steps is about to run for this session's HELLO. */
  matching(steps: number): void {
    const max = this.ledger.budgets.matchSteps;
    if (steps > max)
      overBudget(`matching these patterns against these branch names costs ${plural(steps, 'step')}; a HELLO may cost ${plural(max, 'step')} (matchSteps)`);
  }

  /**
   * The exchange is over and the session only waits for change notices
   * (protocol v4): it leaves the active sessions for the waiting ones.
   * Returns why it may not wait, or null.
   */
  wait(): string | null {
    if (this.phase !== 'active') return null;
    const refused = this.ledger.enterWaiting(this);
    if (refused === null) this.phase = 'waiting';
    return refused;
  }

  private spend(delta: number): void {
    this.bytes += delta;
    try {
      this.ledger.charge(this, delta);
    } catch (e) {
      // Refused: the bytes are not held (the session is ended by the throw).
      this.bytes -= delta;
      this.ledger.charge(this, -delta);
      throw e;
    }
  }

  /** @internal ServerLedger: ends this session to free its slot or memory for another. */
  evict(reason: string): void {
    this.onEvict(reason);
    this.close();
  }

  /** The session is over: everything it held is released. */
  close(): void {
    if (this.phase === 'closed') return;
    this.ledger.charge(this, -this.bytes);
    this.bytes = 0;
    this.ledger.closed(this);
    this.phase = 'closed';
  }
}
