/**
 * The transport-free reconciliation state machine (docs/protocol-recon.md).
 *
 * Each side holds one ReconTree per slot. The initiator opens with a keyed root
 * fingerprint per slot; from then on every message answers every request
 * record of the message before it, in one batch (pipelining): fingerprints of
 * the nodes one or two levels below a mismatched node, IBLTs of the short ids
 * under mismatched nodes (sized from the fraction of mismatched siblings), the
 * short ids of small nodes, and "empty here" markers. Whoever completes a
 * comparison reports its result, so each difference is reported exactly once:
 * as a full id in `have` by the side holding it, or as a short id in `need` by
 * the side lacking it. The exchange ends when a message carries no requests.
 */
import { createHash, hash as oneShot } from 'node:crypto';
import { ROOT_FP_BYTES, RecordType, ReconError, decodeReconMessage, encodeReconMessage, isRequest, type ReconRecord, type RootRecord } from './messages.js';
import { type Prebuilt, type SlotId, type SlotShort, type StepContext, StepRun, prebuildIblts } from './step.js';
import type { ReconTree } from './tree.js';

export { ReconError } from './messages.js';
export { estimateDiffs } from './iblt.js';
export { fpWidthFor } from './step.js';
export type { SlotId, SlotShort } from './step.js';

export interface StepResult {
  /** The message to send, or null when the peer asked nothing and this side has nothing to say. */
  reply: Buffer | null;
  /** Full ids this side holds and the peer lacks. */
  have: SlotId[];
  /** Short ids (8-byte id prefixes) the peer holds and this side lacks. */
  need: SlotShort[];
}

/** Local choices; two peers with different policies still interoperate. */
/**
 * A received message, answered up to the costly part: `plan` (or null)
 * announces the IBLTs of the reply, and finish() builds them and returns the
 * result. Sending the plan first lets the peer build its own tables at the
 * same time (docs/protocol-recon.md §8). finish() must be called before the
 * next message is given to the reconciler.
 */
export interface PendingStep {
  plan: Buffer | null;
  finish(): StepResult;
}

export interface ReconPolicy {
  /**
   * Largest own node (in ids) put into an IBLT above depth `deepFrom`; a bigger
   * mismatched node is descended (reading fewer ids costs a round trip).
   */
  maxIbltNodeIds: number;
  /**
   * The limit from depth `deepFrom` on. Such nodes were reached through a
   * descent below a two-level root answer, and descending again would take the
   * exchange past 3 round trips, so only much bigger nodes are descended.
   */
  maxIbltNodeIdsDeep: number;
  deepFrom: number;
  /** Most own ids enumerated for one IBLT; a received IBLT needing more is answered as a failure. */
  maxEnumerate: number;
  /** The root's first answer spans two levels (256 nodes) when the larger side has this many ids. */
  rootSpan2Min: number;
  /**
   * Fingerprint bytes: of the root's first answer (up to 256 differing nodes
   * whatever d is), the least for ordinary descents (widened when many
   * differences are expected, see fpWidthFor), and for descents after a
   * saturated estimate or a failed IBLT.
   */
  fpBytesRoot: number;
  fpBytes: number;
  fpBytesHeavy: number;
  /** Standard deviations added to the mismatch count when estimating differences. */
  estimateZ: number;
  /** Multiplies the size of first-attempt IBLTs; below 1 only to exercise the fallbacks in tests. */
  ibltScale: number;
}

export const DEFAULT_POLICY: Readonly<ReconPolicy> = Object.freeze({
  maxIbltNodeIds: 512,
  maxIbltNodeIdsDeep: 8192,
  deepFrom: 3,
  maxEnumerate: 1 << 20,
  rootSpan2Min: 4096,
  fpBytesRoot: 4,
  fpBytes: 3,
  fpBytesHeavy: 5,
  estimateZ: 1,
  ibltScale: 1,
});

export interface ReconOptions {
  role: 'initiator' | 'responder';
  slots: ReconTree[];
  /** 32 bytes both sides share; keys every fingerprint and IBLT hash. */
  sessionKey: Buffer;
  policy?: Partial<ReconPolicy>;
}

/**
 * Work one message may cause (ids enumerated or reported, nodes looked up):
 * WORK_BASE + WORK_PER_ID * (ids in all slots). An honest message touches each
 * id at most a few times, so this only stops a peer from making a small
 * message cost unbounded CPU or memory (e.g. the same "empty" record 60000 times).
 */
const WORK_BASE = 1 << 21;
const WORK_PER_ID = 4;

export class Reconciler {
  private readonly role: 'initiator' | 'responder';
  private readonly slots: ReconTree[];
  private readonly key: Buffer;
  /** sessionKey || node hash, the fingerprint's input, reused: one allocation per fingerprint instead of four. */
  private readonly fpInput: Buffer;
  private readonly policy: ReconPolicy;
  private state: 'idle' | 'awaiting' | 'done';
  private started = false;
  private readonly salts: Buffer[] = [];
  private workLimit = -1;
  /** Tables built from the peer's plan for its next message; `planned` once a plan arrived for it. */
  private prebuilt: Prebuilt | null = null;
  private planned = false;
  private readonly unlisted = new Set<number>();

  constructor(opts: ReconOptions) {
    if (opts.sessionKey.length !== 32) throw new ReconError('session key must be 32 bytes');
    this.role = opts.role;
    this.slots = opts.slots;
    this.key = Buffer.from(opts.sessionKey);
    this.fpInput = Buffer.concat([this.key, Buffer.alloc(32)]);
    this.policy = { ...DEFAULT_POLICY, ...opts.policy };
    this.state = opts.role === 'initiator' ? 'idle' : 'awaiting';
  }

  /** True once this side has nothing outstanding: it expects no further message. */
  get done(): boolean {
    return this.state === 'done';
  }

  initiate(): Buffer {
    if (this.role !== 'initiator' || this.state !== 'idle') throw new ReconError('initiate: not an idle initiator');
    const records: RootRecord[] = this.slots.map((tree, slot) => {
      const root = tree.node(0, 0);
      return { type: RecordType.Root, slot, count: root.count, fp: this.fp(root.hash, ROOT_FP_BYTES) };
    });
    this.started = true;
    this.state = records.length > 0 ? 'awaiting' : 'done';
    return encodeReconMessage(records);
  }

  step(msg: Buffer): StepResult {
    return this.begin(msg).finish();
  }

  /** Answers a message up to building its IBLTs (see PendingStep). */
  begin(msg: Buffer): PendingStep {
    if (this.state !== 'awaiting') throw new ReconError('unexpected message: this side expects none');
    const records = decodeReconMessage(msg);
    this.validate(records);
    this.started = true;
    const run = new StepRun({ ...this.context(), prebuilt: this.prebuilt });
    this.prebuilt = null;
    this.planned = false;
    for (const rec of records) run.handle(rec);
    run.finish();
    const asked = records.some(isRequest);
    this.state = asked && run.out.some(isRequest) ? 'awaiting' : 'done';
    const plans = asked ? run.plans() : [];
    return {
      plan: plans.length > 0 ? encodeReconMessage(plans) : null,
      finish: () => {
        run.complete();
        return { reply: asked ? encodeReconMessage(run.out) : null, have: run.have, need: run.need };
      },
    };
  }

  /**
   * The peer's plan for its next message: builds this side's tables for the
   * IBLTs it announces, while the peer builds its own. At most one plan per
   * message, only while a message is expected, and only plan records in it.
   */
  hint(msg: Buffer): void {
    if (this.state !== 'awaiting' || (this.role === 'responder' && !this.started)) throw new ReconError('unexpected plan: no message is expected');
    if (this.planned) throw new ReconError('a second plan for the same message');
    this.planned = true;
    const records = decodeReconMessage(msg);
    const plans = records.filter((r) => r.type === RecordType.Plan);
    if (plans.length === 0 || plans.length !== records.length) throw new ReconError('a plan message holds plan records only, at least one');
    for (const rec of plans) {
      if (rec.slot >= this.slots.length) throw new ReconError(`slot ${rec.slot} out of range (${this.slots.length} slots)`);
    }
    this.prebuilt = prebuildIblts(this.context(), plans);
  }

  /**
   * This side sends the slot's items whole (docs/PROTOCOL.md §4.6): from now
   * on, what the peer lacks there is not listed in `have` (a first push of a
   * million items would list them all, only for the list to be dropped).
   */
  sendsWhole(slot: number): void {
    this.unlisted.add(slot);
  }

  private context(): StepContext {
    if (this.workLimit < 0) this.workLimit = WORK_BASE + WORK_PER_ID * this.slots.reduce((n, t) => n + t.node(0, 0).count, 0);
    return { slots: this.slots, policy: this.policy, fp: (h, n) => this.fp(h, n), salt: (a) => this.salt(a), work: this.workLimit, unlisted: this.unlisted };
  }

  /** Structural rules the codec cannot check: slots exist, roots open the session, once each. */
  private validate(records: ReconRecord[]): void {
    const first = this.role === 'responder' && !this.started;
    const roots = new Set<number>();
    for (const rec of records) {
      if (rec.slot >= this.slots.length) throw new ReconError(`slot ${rec.slot} out of range (${this.slots.length} slots)`);
      if (rec.type === RecordType.Plan) throw new ReconError('a plan record is only allowed in a plan message');
      if ((rec.type === RecordType.Root) !== first) throw new ReconError(first ? 'first message must hold only roots' : 'unexpected root record');
      if (rec.type === RecordType.Root) {
        if (roots.has(rec.slot)) throw new ReconError(`duplicate root for slot ${rec.slot}`);
        roots.add(rec.slot);
      }
    }
    if (first && roots.size !== this.slots.length) {
      throw new ReconError(`slot count mismatch: peer sent ${roots.size} roots, this side has ${this.slots.length} slots`);
    }
  }

  /** Node fingerprint: the first n bytes of SHA-256(sessionKey || nodeHash). */
  private fp(hash: Buffer, n: number): Buffer {
    this.fpInput.set(hash, this.key.length); // TypedArray.set: Buffer.copy's checks cost more than the copy
    return oneShot('sha256', this.fpInput, 'buffer').subarray(0, n);
  }

  /** IBLT salt of an attempt: the first 8 bytes of SHA-256(sessionKey || "netsync/recon/iblt" || attempt). */
  private salt(attempt: number): Buffer {
    let s = this.salts[attempt];
    if (!s) {
      s = createHash('sha256').update(this.key).update('netsync/recon/iblt').update(Buffer.of(attempt)).digest().subarray(0, 8);
      this.salts[attempt] = s;
    }
    return s;
  }
}
