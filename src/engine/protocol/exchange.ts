/**
 * What both roles do once the handshake has fixed the slots (one slot per
 * branch in the session): run the reconciliation, tell each other what the
 * other lacks (OFFER) and ask for what we lack (WANT), move items in an
 * order the receiver can verify on arrival, and agree that everything is
 * done (STAGE markers, then FINAL roots after a sync).
 * docs/PROTOCOL.md §Exchange is the normative description.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { SessionSummary } from '../../shared/sync.js';
import { NetsyncError } from '../errors.js';
import { describeSystemError } from '../system-errors.js';
import { toHex } from '../hash.js';
import { INLINE_MAX, ITEM_MAX, type Item, Kind, countedBytes, decodeItem, itemId, offeredSize } from '../items/format.js';
import { type NamedItem, namesOf } from '../items/names.js';
import { u32be } from '../codec.js';
import type { ReconTree } from '../recon/tree.js';
import { type MemberMeta, RID_BATCH, type StoredItem, type WriteStore } from '../store/store.js';
import type { ExchangeBudget } from './budgets.js';
import type { Connection } from './connection.js';
import { DiffSideLog } from './diff-log.js';
import { FrameType, ItemEncoding, MAX_RECORDS, type Message, type OfferEntry, SHORT_ID, Stage, type WantEntry } from './frames.js';
import type { ProgressTracker } from './progress.js';
import { OfferedTable, ShortIdSet } from './short-id-set.js';
import { type SessionState, Step, accept, arrivalOf, initialState, maySend, send } from './session-state.js';
import { ProtocolError, perr } from './wire.js';

export interface Slot {
  name: string;
  /** The branch's id in our database, null when we do not have the branch. */
  bid: number | null;
  tree: ReconTree;
  /** Excluded by the server (not offered, no permission): nothing of it moves or is listed. */
  refused: boolean;
  /** The server lets us read it but not write it: what it lacks there is listed (blocked), never asked for. */
  readOnly?: boolean;
}

type ReconOutput = { reply: Buffer | null; have: { slot: number; id: Buffer }[]; need: { slot: number; short: Buffer }[] };

/** The transport-free reconciliation state machine (src/engine/recon). */
export interface ReconStepper {
  /** Answers a message up to its costly part: the plan announcing the reply's IBLTs, then finish(). */
  begin(msg: Buffer): { plan: Buffer | null; finish(): ReconOutput };
  /** The peer's plan for its next message: build our side of its IBLTs now. */
  hint(msg: Buffer): void;
  /** We send this slot whole: do not list what the peer lacks in it. */
  sendsWhole(slot: number): void;
  readonly done: boolean;
}

export interface ExchangeOptions {
  store: WriteStore;
  conn: Connection;
  slots: Slot[];
  recon: ReconStepper;
  maySend: boolean;
  mayReceive: boolean;
  dryRun: boolean;
  /** After a two-way sync, compare roots at the end (docs/PROTOCOL.md §FINAL). */
  finalCheck: boolean;
  progress: ProgressTracker;
  listLimit: number;
  /**
   * Write permission (docs/SECURITY.md): items of a slot for which this is
   * false are never wanted, and one that arrives anyway ends the session
   * with `permission`. Default: every slot.
   */
  mayReceiveSlot?: (slot: number) => boolean;
  /**
   * We told the peer that our database is empty (HELLO or WELCOME EMPTY): it
   * may send whole slots without offers, each after a WHOLE frame.
   */
  askedWhole?: boolean;
  /**
   * Runs in the storing transaction before each received item is stored: a
   * returned reason refuses the item (nothing of it is stored) and ends the
   * session with `permission`; the items stored before it are kept.
   */
  refuseReceived?: (id: Buffer, data: Buffer, slot: number) => string | null;
  /** A server's budgets for this peer (protocol/budgets.ts): records received, table entries kept. */
  budget?: ExchangeBudget;
}

interface Wanted {
  slot: number;
  described: boolean;
}

/**
 * Received items are stored (verified, then committed) in batches: at once
 * when this many items (or bytes) wait or when nothing more is wanted, else
 * at most once per RECEIVE_FLUSH_MS (the first batch after a pause after
 * RECEIVE_FIRST_MS). Each transaction rewrites the same B-tree pages into
 * the WAL, so storing after every socket read (a few dozen items) made a
 * large transfer pay that again and again (docs/PERFORMANCE.md, "Receive
 * transactions of ~1,000 items"); the timers still bound how long a bad
 * item waits for its answer. What is not yet stored when a session is cut is
 * asked for again by the next one.
 */
const RECEIVE_BATCH_ITEMS = 2048;
const RECEIVE_FLUSH_MS = 20;
/**
 * The first items after a pause wait this long for the rest of their burst
 * (a TLS record holds about 16 KB; the next may be a moment behind), unless
 * nothing more is wanted: 100 certs then take one transaction, not two.
 */
const RECEIVE_FIRST_MS = 2;
const RECEIVE_BATCH_BYTES = 16 << 20;
const COMPRESS_MIN = 512;
const SAMPLE = 4096;

const short = (id: Buffer): string => id.subarray(0, SHORT_ID).toString('hex');

/** A first-in first-out queue with O(1) shift (Array.prototype.shift copies: quadratic on a 100k-item clone). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The i-th item from the front, without removing it. */
  peek(i: number): T | undefined {
    return this.items[this.head + i];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * An item due to the peer: its row number (read without the id index) and
 * its id, or, when it was answered from what we offered, its short id (the
 * row's id is then checked against it before anything is sent).
 */
interface Queued {
  id: Buffer | null;
  rid: number;
  /** The short id's two 32-bit halves (no buffer per queued item). */
  hi: number;
  lo: number;
  size: number;
  /** Its bytes, when they were read with its listing (sendWhole): nothing is read again. */
  data?: StoredItem;
  /** Not an item: the WHOLE frame that starts a slot's items (sendWhole). */
  whole?: { slot: number; count: number };
}

/**
 * The order items go in (docs/PROTOCOL.md §4.3): at once, or after
 * WANTS_DONE as chunked files, tree nodes, manifests, revisions, certs. A
 * receiver verifies what an item names on arrival, so within the tree nodes
 * (a folder's entry names its child folder's tree, an index node its
 * children) and within the revisions (a revision names its parents) items go
 * in the order they were stored here: a store accepts an item only after
 * what it names, so row order is an order the receiver accepts too.
 */
const enum SendClass {
  Now,
  Files,
  Trees,
  Manifests,
  Revisions,
  Certs,
}

const LATER_CLASSES = 5;

function sendClass(kind: Kind, size: number): SendClass {
  switch (kind) {
    case Kind.Key:
    case Kind.Chunk:
      return SendClass.Now;
    case Kind.File:
      return size <= INLINE_MAX ? SendClass.Now : SendClass.Files;
    case Kind.Tree:
      return SendClass.Trees;
    case Kind.Manifest:
      return SendClass.Manifests;
    case Kind.Revision:
      return SendClass.Revisions;
    default:
      return SendClass.Certs;
  }
}

/** The later classes' queues in sending order, those that name their own kind in storage (row) order. */
function inSendingOrder(later: Queued[][]): Queued[] {
  const out: Queued[] = [];
  for (let cls = SendClass.Files; cls <= SendClass.Certs; cls++) {
    const list = later[cls] ?? [];
    if (cls === SendClass.Trees || cls === SendClass.Revisions) list.sort((a, b) => a.rid - b.rid);
    for (const q of list) out.push(q);
  }
  return out;
}

function laterQueues(): Queued[][] {
  return Array.from({ length: LATER_CLASSES + 1 }, () => []);
}

/** Items read ahead by the pump in one statement: at most RID_BATCH, and at most this many bytes in all. */
const READ_AHEAD_BYTES = 1 << 20;

const OFFERED_META_MAX = 1 << 17;
/** sendWhole lists this many members, then lets the pump send them before it lists more. */
export const WHOLE_PAGE = 1024;
/** sendWhole reads the bytes of members up to this size with their listing (so at most WHOLE_PAGE x this at a time). */
export const WHOLE_DATA_MAX = 8 << 10;
/** Offers of a whole slot go out in OFFER frames of this many records, one page per event-loop turn. */
const OFFER_PAGE = 4096;

export class Exchange {
  private readonly o: ExchangeOptions;
  private readonly wanted = new Map<string, Wanted>();
  private readonly offered = new ShortIdSet();
  private readonly theyWant = new ShortIdSet();
  /** Short ids listed as lacking in a read-only slot (the peer will never WANT them there). */
  private readonly listedUnwanted = new Set<string>();
  /** Short ids the peer has in slots it may not write to us: never wanted, refused if sent. */
  private readonly notWritable = new Map<string, number>();
  private pendingOffers: OfferEntry[] = [];
  private pendingWants: WantEntry[] = [];
  /** Items with no references go at once; the rest wait for WANTS_DONE, in this order. */
  private readonly ready = new Fifo<Queued>();
  /** By SendClass (index 0, Now, unused). */
  private later: Queued[][] = laterQueues();
  /**
   * What we offered, by short id, until the peer wants it: a WANT is then
   * answered without looking the short id up again, a lookup per item on
   * the sender's busiest path (docs/PERFORMANCE.md, "Serving a clone").
   * Bounded: past the limit, a WANT looks its short id up as before.
   */
  private readonly offeredMeta = new OfferedTable();
  /** Whether our database held no item when the session began (see holds()). */
  private readonly emptyAtStart: boolean;
  /** True while offerAll is still offering (RECON_DONE waits for it). */
  private offeringAll = false;
  /** True while sendWhole is still listing (ITEMS_DONE waits for it). */
  private sendingWhole = false;
  /** Slots sent whole: the reconciliation's `have` for them (everything) is not offered. */
  private readonly sentWhole = new Set<number>();
  /** The slot of the last WHOLE frame received: unasked items that follow are its (askedWhole). */
  private wholeSlot: number | null = null;
  /** `whole`: sent unasked after WHOLE, so described (weLack) only once stored. */
  private received: { id: Buffer; data: Buffer; slot: number; whole: boolean }[] = [];
  private receivedBytes = 0;
  /** A flush is scheduled (see RECEIVE_FLUSH_MS); lastFlush is when the last one stored anything. */
  private flushPending = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private pumping = false;
  /** Items of ours not sent (hex id -> true if damaged, false if it names a withheld item): see withhold(). */
  private readonly withheld = new Map<string, boolean>();
  private readonly encoder = new WireEncoder();
  /** Where each side is (docs/PROTOCOL.md §4.5): every frame is ruled on by session-state.ts before it is handled. */
  private state: SessionState;
  private peerFinal: Buffer[] | null = null;
  private anythingMoved = false;
  readonly weLack: DiffSideLog;
  readonly theyLack: DiffSideLog;
  converged: boolean | null = null;
  finished = false;
  /** Set when our own database could not store what arrived (flushReceived): the session failed on our side. */
  storeError: NetsyncError | null = null;
  private resolveDone!: () => void;
  readonly whenDone: Promise<void>;

  constructor(opts: ExchangeOptions) {
    this.o = opts;
    this.emptyAtStart = opts.store.isEmpty();
    this.state = initialState(!!opts.askedWhole && opts.mayReceive && !opts.dryRun);
    this.weLack = new DiffSideLog(opts.listLimit);
    this.theyLack = new DiffSideLog(opts.listLimit);
    this.whenDone = new Promise((r) => (this.resolveDone = r));
  }

  // ------------------------------------------------------------ reconciliation

  /** Feeds our own reconciliation output (initiate() on the client). */
  reconOutput(out: ReconOutput): void {
    if (out.reply) this.o.conn.send({ type: FrameType.Recon, payload: out.reply });
    for (const h of out.have) this.offerOwn(h.slot, h.id);
    for (const n of out.need) this.wantShort(n.slot, n.short);
    this.flushControl();
    this.maybeReconDone();
  }

  /** RECON_DONE once reconciliation is over and every whole-slot offer has gone out. */
  private maybeReconDone(): void {
    if (!this.o.recon.done || !maySend(this.state, Step.ReconDone) || this.offeringAll || this.o.conn.closed) return;
    this.flushControl();
    this.state = send(this.state, Step.ReconDone);
    this.o.conn.send({ type: FrameType.Stage, stage: Stage.ReconDone });
    this.o.progress.setPhase(this.o.maySend || this.o.mayReceive ? 'transferring' : 'refining');
    this.maybeWantsDone();
  }

  /**
   * Offers every item of the slots the peer does not have at all (branches
   * only we hold), in pages: after each page the event loop runs, so the
   * peer's WANTs for it are answered (items start moving) while the rest is
   * offered, and while the connection is congested no more is offered.
   * RECON_DONE waits for the last page. A database error ends the session.
   */
  async offerAll(slots: readonly { slot: number; members: Iterable<MemberMeta> }[]): Promise<void> {
    this.offeringAll = true;
    try {
      for (const { slot, members } of slots) {
        for (const m of members) {
          this.offerKnown(slot, m.id, m.kind, m.size, m.rid);
          if (this.pendingOffers.length < OFFER_PAGE) continue;
          this.flushControl();
          await this.roomForMore();
          if (this.o.conn.closed) return;
        }
      }
      this.flushControl();
    } catch (e) {
      return this.readFailed(e);
    } finally {
      this.offeringAll = false;
    }
    this.maybeReconDone();
  }

  /** Our database failed while listing a whole slot: the session ends (`internal`), the reason is kept. */
  private readFailed(e: unknown): void {
    if (e instanceof NetsyncError || e instanceof ProtocolError) throw e;
    this.storeError = storeFailure(e);
    this.o.conn.fail('internal', this.storeError.message);
  }

  /**
   * Waits until another page of offers (or of a whole slot's listing) may
   * go out: the socket has room, and fewer than `queued` items wait to be
   * sent. Offers and items share one socket; when both waited for the same
   * drain, the offers took it every time, and a large clone sent no item
   * until the last offer was out (docs/PERFORMANCE.md, "Wanted items before
   * more offers").
   */
  private async roomForMore(queued = OFFER_PAGE): Promise<void> {
    for (;;) {
      if (this.o.conn.closed) return;
      if (this.o.conn.congested) await this.o.conn.waitDrain();
      // The pump, resumed by the same drain, writes before this turn ends.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.o.conn.congested && this.ready.length < queued) return;
    }
  }

  /**
   * Sends every item of these slots to a peer whose database is empty
   * (HELLO or WELCOME EMPTY), without offers: it holds nothing, so it would want all of
   * them, and an offer and a want per item are pure overhead (docs/PERFORMANCE.md,
   * "A first clone without offers"). Slot by slot, a WHOLE frame first; within a
   * slot in the order of §4.3, which needs no WANTS_DONE here: the peer
   * wants nothing else. Small items are read with their listing, once, in id
   * order, the order in which the receiver's indexes grow cheapest. Listing
   * pauses while the socket is congested or a page is still queued, so
   * memory stays bounded. An item of two slots goes once, with the first.
   */
  async sendWhole(slots: readonly { slot: number; members: Iterable<MemberMeta & { data: Buffer | null }> }[]): Promise<void> {
    this.sendingWhole = true;
    for (const { slot } of slots) {
      this.sentWhole.add(slot);
      this.o.recon.sendsWhole(slot);
    }
    try {
      for (const { slot, members } of slots) {
        const name = this.o.slots[slot]!.name;
        this.ready.push({ id: null, rid: 0, hi: 0, lo: 0, size: 0, whole: { slot, count: this.o.slots[slot]!.tree.node(0, 0).count } });
        const later = laterQueues();
        let listed = 0;
        for (const m of members) {
          if (!this.theyWant.add(m.id)) continue;
          this.theyLack.add(m.id, m.kind, m.size, name);
          this.o.progress.sent.totalItems++;
          this.o.progress.sent.totalBytes += countedBytes(m.kind, m.size);
          const cls = sendClass(m.kind, m.size);
          const data = m.data && cls === SendClass.Now ? { id: m.id, kind: m.kind, size: m.size, data: m.data } : undefined;
          (cls === SendClass.Now ? this.ready : later[cls]!).push({ id: m.id, rid: m.rid, hi: 0, lo: 0, size: m.size, data });
          if (++listed % WHOLE_PAGE !== 0) continue;
          this.pump();
          await this.roomForMore(WHOLE_PAGE);
          if (this.o.conn.closed) return;
        }
        for (const q of inSendingOrder(later)) this.ready.push(q);
        this.pump();
      }
    } catch (e) {
      return this.readFailed(e);
    } finally {
      this.sendingWhole = false;
    }
    this.pump();
  }

  private offerOwn(slot: number, id: Buffer): void {
    const meta = this.o.store.meta(id);
    if (meta) this.offerKnown(slot, id, meta.kind, meta.size);
  }

  private offerKnown(slot: number, id: Buffer, kind: Kind, size: number, rid = 0): void {
    if (this.o.slots[slot]?.refused || this.sentWhole.has(slot)) return;
    if (!this.offered.add(id)) return;
    if (rid > 0 && this.offeredMeta.size < OFFERED_META_MAX) this.offeredMeta.set(id, slot, rid, kind, size);
    this.pendingOffers.push({ slot, short: id.subarray(0, SHORT_ID), kind, size });
    if (this.o.slots[slot]!.readOnly) this.listUnwanted(short(id), kind, size, slot);
  }

  /** What the peer lacks in a slot it may not write: counted and listed as lacking, never sent. */
  private listUnwanted(hex: string, kind: Kind, size: number, slot: number): void {
    if (this.listedUnwanted.has(hex)) return;
    this.listedUnwanted.add(hex);
    this.theyLack.add(hex, kind, size, this.o.slots[slot]!.name);
  }

  /**
   * Whether our database holds an item with this short id, in any branch.
   * A database empty when the session began holds only what this session
   * wanted (tracked in `wanted`), so a first clone asks SQLite nothing.
   */
  private holds(hex: string): boolean {
    return !this.emptyAtStart && this.o.store.findByHexPrefix(hex) !== null;
  }

  private mayReceiveIn(slot: number, hex: string): boolean {
    if (!this.o.mayReceiveSlot || this.o.mayReceiveSlot(slot)) return true;
    if (!this.notWritable.has(hex)) this.o.budget?.entries(1);
    this.notWritable.set(hex, slot);
    return false;
  }

  private wantShort(slot: number, s: Buffer): void {
    if (this.o.slots[slot]?.refused) return;
    const hex = s.toString('hex');
    if (!this.mayReceiveIn(slot, hex)) {
      // Still said (docs/PROTOCOL.md, WANT in a read-only slot), so the peer counts what we lack there; never marked wanted, so sending it is refused.
      if (!this.wanted.has(hex) && !this.holds(hex)) this.pendingWants.push({ slot, short: s });
      return;
    }
    if (this.wanted.has(hex) || this.holds(hex)) return;
    this.o.budget?.entries(1);
    this.wanted.set(hex, { slot, described: false });
    this.pendingWants.push({ slot, short: s });
  }

  private flushControl(): void {
    while (this.pendingOffers.length > 0) {
      this.o.conn.send({ type: FrameType.Offer, entries: this.pendingOffers.splice(0, MAX_RECORDS) });
    }
    while (this.pendingWants.length > 0) {
      this.o.conn.send({ type: FrameType.Want, entries: this.pendingWants.splice(0, MAX_RECORDS) });
    }
  }

  // ------------------------------------------------------------ incoming

  handle(m: Message): void {
    const arrival = arrivalOf(m.type, m.type === FrameType.Stage ? m.stage : undefined);
    if (arrival === null) perr('unexpected', `frame type ${m.type} is not allowed after the handshake`);
    this.state = accept(this.state, arrival);
    switch (m.type) {
      case FrameType.Recon:
        return this.onRecon(m.payload);
      case FrameType.ReconPlan:
        return this.recon(() => this.o.recon.hint(m.payload));
      case FrameType.Offer:
        return this.onOffer(m.entries);
      case FrameType.Want:
        return this.onWant(m.entries);
      case FrameType.Item:
        return this.onItem(m.id, m.encoding, m.data);
      case FrameType.Stage:
        return this.onStage(m.stage);
      case FrameType.Final:
        return this.onFinal(m.roots);
      case FrameType.Whole:
        return this.onWhole(m.slot, m.count);
      default:
        perr('unexpected', `frame type ${m.type} is not allowed after the handshake`);
    }
  }

  /**
   * Answers a reconciliation message. When the answer holds IBLTs, their plan
   * goes out first, so that the peer builds its side of them while we build
   * ours: the two builds overlap instead of following each other.
   */
  private onRecon(payload: Buffer): void {
    const pending = this.recon(() => this.o.recon.begin(payload));
    if (pending.plan) this.o.conn.send({ type: FrameType.ReconPlan, payload: pending.plan });
    this.reconOutput(this.recon(() => pending.finish()));
  }

  private recon<T>(work: () => T): T {
    try {
      return work();
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      return perr('malformed', `bad reconciliation message: ${(e as Error).message}`);
    }
  }

  private checkSlot(slot: number): boolean {
    if (slot >= this.o.slots.length) perr('malformed', `slot ${slot} does not exist`);
    return !this.o.slots[slot]!.refused;
  }

  private onOffer(entries: OfferEntry[]): void {
    this.o.budget?.records(entries.length);
    for (const e of entries) {
      if (!this.checkSlot(e.slot)) continue;
      const hex = e.short.toString('hex');
      let w = this.wanted.get(hex);
      if (!w) {
        if (!this.mayReceiveIn(e.slot, hex)) continue;
        if (this.holds(hex)) continue; // held through another branch: never resent
        this.o.budget?.entries(1);
        w = { slot: e.slot, described: false };
        this.wanted.set(hex, w);
        this.pendingWants.push({ slot: e.slot, short: e.short });
      }
      if (w.described) continue;
      w.described = true;
      this.weLack.add(hex, e.kind, e.size, this.o.slots[e.slot]!.name);
      if (this.receiving) {
        this.o.progress.received.totalItems++;
        this.o.progress.received.totalBytes += countedBytes(e.kind, e.size);
      }
    }
    this.flushControl();
  }

  private get receiving(): boolean {
    return this.o.mayReceive && !this.o.dryRun;
  }

  private get sending(): boolean {
    return this.o.maySend && !this.o.dryRun;
  }

  private onWant(entries: WantEntry[]): void {
    this.o.budget?.records(entries.length);
    for (const e of entries) {
      if (!this.checkSlot(e.slot)) continue;
      if (this.theyWant.has(e.short)) continue;
      const bid = this.o.slots[e.slot]!.bid;
      // Only what is in the slot's collection is described or sent: nothing outside what was agreed
      // leaks. What we offered in this slot came from its collection; anything else is looked up.
      const offered = this.offeredMeta.take(e.short);
      const meta = offered?.slot === e.slot ? offered : bid === null ? null : this.o.store.memberByShortId(bid, e.short.toString('hex'));
      if (meta === null || meta === 'ambiguous') continue;
      const id = 'id' in meta ? meta.id : null;
      if (this.o.slots[e.slot]!.readOnly) {
        this.listUnwanted(e.short.toString('hex'), meta.kind, meta.size, e.slot);
        continue;
      }
      this.theyWant.add(e.short);
      if (this.listedUnwanted.size === 0 || !this.listedUnwanted.has(e.short.toString('hex'))) {
        this.theyLack.add(e.short, meta.kind, meta.size, this.o.slots[e.slot]!.name);
      }
      if (this.offered.add(e.short)) {
        this.pendingOffers.push({ slot: e.slot, short: e.short, kind: meta.kind, size: meta.size });
      }
      if (!this.sending) continue;
      this.o.progress.sent.totalItems++;
      this.o.progress.sent.totalBytes += countedBytes(meta.kind, meta.size);
      this.queue({ id, rid: meta.rid, hi: u32be(e.short, 0), lo: u32be(e.short, 4), size: meta.size }, meta.kind);
    }
    this.flushControl();
    this.pump();
  }

  private queue(q: Queued, kind: Kind): void {
    const cls = sendClass(kind, q.size);
    if (cls === SendClass.Now) this.ready.push(q);
    else this.later[cls]!.push(q);
  }

  /** The peer's items that follow are those of a whole slot (we said our database is empty). */
  private onWhole(slot: number, count: number): void {
    if (!this.checkSlot(slot)) perr('unexpected', `WHOLE for slot ${slot}, which the server refused`);
    if (this.o.mayReceiveSlot && !this.o.mayReceiveSlot(slot)) {
      perr('permission', `refused the items of branch "${this.o.slots[slot]!.name}", which you may not write`);
    }
    this.wholeSlot = slot;
    this.o.progress.received.totalItems += count;
  }

  private onItem(id: Buffer, encoding: ItemEncoding, data: Buffer): void {
    // After WHOLE, items come unasked: a first clone spends nothing on a hex id or a map per item.
    let slot = this.wholeSlot;
    let unasked = true;
    if (this.wanted.size > 0 || slot === null) {
      const hex = short(id);
      const refusedSlot = this.notWritable.get(hex);
      if (refusedSlot !== undefined && !this.wanted.has(hex)) {
        perr('permission', `refused item ${hex}…: it is in branch "${this.o.slots[refusedSlot]!.name}", which you may not write`);
      }
      const w = this.wanted.get(hex);
      if (w) {
        slot = w.slot;
        unasked = false;
        this.wanted.delete(hex);
        this.o.budget?.entries(-1);
      }
      if (!this.receiving || slot === null) perr('unexpected', `received item ${hex}… that was not asked for`);
    }
    let bytes = data;
    if (encoding === ItemEncoding.DeflateRaw) {
      try {
        bytes = inflateRawSync(data, { maxOutputLength: ITEM_MAX });
      } catch (e) {
        perr('malformed', `item ${short(id)}… does not decompress: ${(e as Error).message}`);
      }
    }
    this.received.push({ id, data: bytes, slot, whole: unasked });
    this.receivedBytes += bytes.length;
    this.o.progress.received.items++;
    this.o.progress.received.bytes += countedBytes(bytes[0]!, offeredSize(bytes));
    this.o.progress.emit();
    if (this.received.length >= RECEIVE_BATCH_ITEMS || this.receivedBytes >= RECEIVE_BATCH_BYTES) this.flushReceived();
    else if (this.wanted.size === 0 && this.wholeSlot === null) {
      // Everything asked for is here: store it as soon as this read is handled.
      this.flushPending = true;
      setImmediate(() => this.flushPending && this.flushReceived());
    } else if (!this.flushPending) {
      const wait = Math.max(this.lastFlush + RECEIVE_FLUSH_MS - Date.now(), RECEIVE_FIRST_MS);
      this.flushPending = true;
      this.flushTimer = setTimeout(() => this.flushPending && this.flushReceived(), wait);
    }
  }

  /**
   * Stores what has arrived, in one transaction. Every item is verified as a
   * local insert is; the first bad one ends the session, and everything good
   * before it is kept.
   */
  flushReceived(): void {
    this.flushPending = false;
    // A batch that filled up is stored at once: the timer set for it would store the next
    // batch early (a 100,000-item clone made every other transaction a fifth of the size).
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.received.length === 0) return;
    this.lastFlush = Date.now();
    const batch = this.received;
    this.received = [];
    this.receivedBytes = 0;
    let bad: NetsyncError | null = null;
    let refused: string | null = null;
    const stored: Buffer[] = [];
    try {
      this.o.store.batch(() => {
        for (const item of batch) {
          refused = this.o.refuseReceived?.(item.id, item.data, item.slot) ?? null;
          if (refused) break;
          try {
            const put = this.o.store.put(item.data, item.id);
            if (put.inserted) {
              this.anythingMoved = true;
              if (item.whole) this.describeWhole(item.id, put.item!, item.data.length, item.slot);
            }
            stored.push(item.id);
          } catch (e) {
            if (!(e instanceof NetsyncError)) throw e;
            bad = e;
            break;
          }
        }
      });
    } catch (e) {
      // Our own database failed (disk full, read-only, I/O error): the batch was rolled back,
      // what earlier batches stored is kept. This may run from a timer or while closing, so it
      // must not throw: it ends the session and leaves the reason for the caller (storeError).
      if (e instanceof NetsyncError) throw e;
      this.storeError = storeFailure(e);
      this.o.conn.fail('internal', this.storeError.message);
      return;
    }
    this.o.progress.itemsReceived(stored);
    if (refused) this.o.conn.fail('permission', refused);
    else if (bad) {
      const err = bad as NetsyncError;
      this.o.conn.fail('bad-item', `refused a bad item from the peer: ${err.message}`);
    }
  }

  /** An item of a whole slot, stored: what we lacked, known only now (no OFFER described it). */
  private describeWhole(id: Buffer, item: Item, length: number, slot: number): void {
    const size = 'size' in item ? item.size : length;
    this.weLack.add(id, item.kind, size, this.o.slots[slot]!.name);
  }

  private onStage(stage: Stage): void {
    // The order of the stages was checked on arrival (handle).
    if (stage === Stage.ReconDone) {
      this.maybeWantsDone();
    } else if (stage === Stage.WantsDone) {
      for (const q of inSendingOrder(this.later)) this.ready.push(q);
      this.later = laterQueues();
      this.pump();
    } else {
      if (this.wholeSlot !== null) {
        // A WHOLE counts a slot's members, some of which may have come with an earlier slot, and
        // says nothing of bytes: now that everything due has arrived, the totals are what came.
        this.o.progress.received.totalItems = this.o.progress.received.items;
        this.o.progress.received.totalBytes = this.o.progress.received.bytes;
      }
      this.flushReceived();
      this.maybeItemsDone();
      this.maybeFinish();
    }
  }

  private maybeWantsDone(): void {
    if (!maySend(this.state, Step.WantsDone)) return;
    this.flushControl();
    this.state = send(this.state, Step.WantsDone);
    this.o.conn.send({ type: FrameType.Stage, stage: Stage.WantsDone });
  }

  // ------------------------------------------------------------ outgoing items

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let corked = false;
    let readAhead = new Map<number, StoredItem>();
    try {
      while (this.ready.length > 0 && !this.o.conn.closed) {
        if (this.o.conn.congested) {
          await this.o.conn.waitDrain();
          continue;
        }
        if (!corked) {
          this.o.conn.cork();
          corked = true;
        }
        const q = this.ready.shift()!;
        if (q.whole) {
          this.o.conn.send({ type: FrameType.Whole, slot: q.whole.slot, count: q.whole.count });
          continue;
        }
        let stored = q.data ?? null;
        if (!stored) {
          if (q.rid > 0 && !readAhead.has(q.rid)) readAhead = this.readAhead(q);
          const byRid = q.rid > 0 ? (readAhead.get(q.rid) ?? null) : null;
          const matches = byRid !== null && (q.id ? byRid.id.equals(q.id) : u32be(byRid.id, 0) === q.hi && u32be(byRid.id, 4) === q.lo);
          stored = matches ? byRid : q.id ? this.o.store.get(q.id) : null;
        }
        if (!stored) continue;
        const id = stored.id;
        if (this.withhold(id, stored.data)) continue;
        const { encoding, data } = this.encoder.encode(stored.kind, stored.data);
        this.o.conn.send({ type: FrameType.Item, id, encoding, data });
        this.o.progress.itemSent(id);
        this.anythingMoved = true;
        this.o.progress.sent.items++;
        this.o.progress.sent.bytes += countedBytes(stored.kind, offeredSize(stored.data));
        this.o.progress.emit();
      }
    } finally {
      if (corked) this.o.conn.uncork();
      this.pumping = false;
    }
    this.maybeItemsDone();
  }

  /**
   * Reads `first` and the queued items behind it in one statement (each
   * statement has a fixed cost beyond its row: docs/PERFORMANCE.md, "Reading
   * served items 64 at a time"), up to RID_BATCH items and
   * READ_AHEAD_BYTES; an item read ahead is then taken from the map.
   */
  private readAhead(first: Queued): Map<number, StoredItem> {
    const rids = [first.rid];
    let bytes = first.size;
    for (let i = 0; rids.length < RID_BATCH && i < 4 * RID_BATCH; i++) {
      const q = this.ready.peek(i);
      if (!q) break;
      if (q.rid <= 0 || q.data) continue;
      if (bytes + q.size > READ_AHEAD_BYTES) break;
      bytes += q.size;
      rids.push(q.rid);
    }
    return this.o.store.getManyByRid(rids);
  }

  /**
   * After the last wanted item, ITEMS_DONE. If items were withheld (damaged in
   * our database), the session ends instead with ERROR bad-item naming them,
   * once the peer has sent everything it had for us (its ITEMS_DONE), so that
   * one damaged item costs the peer that item and what names it, not the rest.
   */
  private maybeItemsDone(): void {
    if (!maySend(this.state, Step.ItemsDone) || this.sendingWhole || this.ready.length > 0 || this.pumping || this.o.conn.closed) return;
    if (this.withheld.size > 0) {
      if (this.state.theirs < Step.ItemsDone) return;
      this.flushReceived();
      return this.o.conn.fail('bad-item', this.withheldReport());
    }
    this.state = send(this.state, Step.ItemsDone);
    this.o.conn.send({ type: FrameType.Stage, stage: Stage.ItemsDone });
    this.maybeFinish();
  }

  /**
   * The sender re-hashes every item before it goes out: stored bytes that no
   * longer hash to their id (a damaged disk, a torn write) are never sent, and
   * neither is anything that names a withheld item (the receiver could not
   * verify it). True when `id` is withheld. The cost is one SHA-256 per item
   * sent; items are decoded only once something has been withheld.
   */
  private withhold(id: Buffer, data: Buffer): boolean {
    if (!itemId(data).equals(id)) {
      this.withheld.set(toHex(id), true);
      return true;
    }
    if (this.withheld.size === 0) return false;
    let names: NamedItem[];
    try {
      names = namesOf(decodeItem(data));
    } catch {
      names = [];
    }
    if (!names.some((n) => this.withheld.has(toHex(n.id)))) return false;
    this.withheld.set(toHex(id), false);
    return true;
  }

  private withheldReport(): string {
    const damaged = [...this.withheld].filter(([, d]) => d).map(([hex]) => hex);
    const naming = this.withheld.size - damaged.length;
    const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    return (
      `the sending side withheld ${plural(damaged.length, 'damaged item')} of its database (${damaged[0]!.slice(0, 16)}…: ` +
      `its stored bytes do not hash to its id)${naming ? ` and ${plural(naming, 'item')} that depend on ${damaged.length === 1 ? 'it' : 'them'}` : ''}; ` +
      'everything else was sent; run "netsync db check" on that database'
    );
  }

  // ------------------------------------------------------------ the end

  private maybeFinish(): void {
    if (this.state.ours < Step.ItemsDone || this.state.theirs < Step.ItemsDone || this.finished) return;
    if (this.o.finalCheck && this.anythingMovedOrDiffered()) {
      if (maySend(this.state, Step.Final)) {
        this.state = send(this.state, Step.Final);
        this.o.conn.send({ type: FrameType.Final, roots: this.finalRoots() });
      }
      if (!this.peerFinal) return;
      const mine = this.finalRoots();
      this.converged = this.o.slots.every((s, i) => s.refused || this.peerFinal![i]!.equals(mine[i]!));
    }
    this.finish();
  }

  /**
   * The roots now, read from the store by branch name: a slot's tree was
   * fixed at the handshake, and a branch this side did not have then has
   * been created by the items received since.
   */
  private finalRoots(): Buffer[] {
    return this.o.slots.map((s) => (s.refused ? Buffer.alloc(32) : this.o.store.root(s.name).hash));
  }

  private anythingMovedOrDiffered(): boolean {
    // What only we list (lacking in a slot the peer may not write) is not counted by the peer: both must agree on FINAL.
    return this.anythingMoved || this.weLack.count > 0 || this.theyLack.count > this.listedUnwanted.size;
  }

  private onFinal(roots: Buffer[]): void {
    if (roots.length !== this.o.slots.length) perr('malformed', 'FINAL has the wrong number of roots');
    this.peerFinal = roots;
    this.maybeFinish();
  }

  private finish(): void {
    this.finished = true;
    this.o.progress.setPhase('done');
    this.resolveDone();
  }

  /** True when the peer may close now without losing anything of ours. */
  get complete(): boolean {
    return this.finished;
  }

  summary(base: { sessionId: string; direction: SessionSummary['direction']; ms: number; peerFingerprint?: string }): SessionSummary {
    const p = this.o.progress;
    const c = this.o.conn;
    return {
      ...base,
      dryRun: this.o.dryRun,
      itemsSent: p.sent.items,
      itemsReceived: p.received.items,
      bytesSent: c.bytes.itemSent + c.bytes.reconSent,
      bytesReceived: c.bytes.itemReceived + c.bytes.reconReceived,
      reconBytesSent: c.bytes.reconSent,
      reconBytesReceived: c.bytes.reconReceived,
      roundTrips: c.roundTrips,
      weLack: this.weLack.summary(),
      theyLack: this.theyLack.summary(),
      ...(this.converged === null ? {} : { converged: this.converged }),
    };
  }
}

/** A one-line reason for a failure of our own database while storing received items. */
function storeFailure(e: unknown): NetsyncError {
  const known = describeSystemError(e);
  const message = `cannot store the items that arrived: ${known?.text ?? (e as Error).message}; what was stored before is kept and the database is consistent`;
  return new NetsyncError(known?.code === 'disk-full' || known?.code === 'db-unwritable' ? 'db-unwritable' : 'io', message);
}

/**
 * Deflate where it pays. Manifests and certs (text-like) always try. File
 * content and chunks are tried while trying pays: after 16 incompressible
 * ones in a row (typical of media, archives, random data) the next 256 go
 * raw before trying again, because a deflate attempt costs more CPU than the
 * transfer of a small incompressible item (docs/PERFORMANCE.md).
 */
export class WireEncoder {
  private misses = 0;
  private skip = 0;
  /** Items sent raw after the next run of misses: 256, doubling while content stays incompressible. */
  private skipLength = 256;
  /** Misses in a row that start a skip: 16 at first, 1 once content has proved incompressible. */
  private missesToSkip = 16;

  encode(kind: Kind, data: Buffer): { encoding: ItemEncoding; data: Buffer } {
    const raw = { encoding: ItemEncoding.Raw, data };
    if (data.length < COMPRESS_MIN) return raw;
    const content = kind === Kind.File || kind === Kind.Chunk;
    if (content && this.skip > 0) {
      this.skip--;
      return raw;
    }
    const sample = content ? data.subarray(0, SAMPLE) : data;
    const packedSample = deflateRawSync(sample, { level: 1 });
    const pays = packedSample.length <= sample.length * (content ? 0.8 : 0.9);
    if (content) this.record(pays);
    if (!pays) return raw;
    const packed = sample.length === data.length ? packedSample : deflateRawSync(data, { level: 1 });
    return packed.length > data.length * 0.9 ? raw : { encoding: ItemEncoding.DeflateRaw, data: packed };
  }

  /**
   * A deflate call has a fixed cost whatever its size, so small
   * incompressible files tried regularly still cost a clone's sender much of
   * its time (docs/PERFORMANCE.md, "Compression"). A run of incompressible
   * content is therefore probed once per skip, and the skip doubles (up
   * to 4,096 items) while the probes keep missing; one hit starts over.
   */
  private record(pays: boolean): void {
    if (pays) {
      this.misses = 0;
      this.missesToSkip = 16;
      this.skipLength = 256;
      return;
    }
    if (++this.misses < this.missesToSkip) return;
    this.misses = 0;
    if (this.missesToSkip === 1) this.skipLength = Math.min(2 * this.skipLength, 4096);
    this.skip = this.skipLength;
    this.missesToSkip = 1;
  }
}
