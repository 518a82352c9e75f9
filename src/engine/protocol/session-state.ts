/**
 * The session after the handshake as named states and pure transitions:
 * docs/PROTOCOL.md §4.5 in code. Each side of a session goes through the
 * same steps, in order: reconciling, RECON_DONE, WANTS_DONE, ITEMS_DONE and,
 * in a sync that moved anything, FINAL. The state is where each side is;
 * `receive` says whether a frame may arrive in it (and where it leads),
 * `send` moves our side on. Exchange (exchange.ts) does the work; this module
 * only rules on order, so every (state, frame) pair is tested on its own
 * (test/protocol/session-state.test.ts).
 */
import { FrameType, Stage } from './frames.js';
import { perr } from './wire.js';

/** How far one side has got, in the order of the protocol. */
export const enum Step {
  Reconciling = 0,
  ReconDone = 1,
  WantsDone = 2,
  ItemsDone = 3,
  Final = 4,
}

export const STEP_NAMES = ['RECONCILING', 'RECON_DONE', 'WANTS_DONE', 'ITEMS_DONE', 'FINAL'] as const;

export interface SessionState {
  /** The last stage frame we sent. */
  readonly ours: Step;
  /** The last stage frame the peer sent. */
  readonly theirs: Step;
  /** We told the peer our database is empty (EMPTY in HELLO or WELCOME) and receive: it may send slots WHOLE. */
  readonly askedWhole: boolean;
}

/** What can arrive after the handshake: a frame type, a STAGE by its stage. */
export type Arrival = 'HELLO' | 'WELCOME' | 'RECON' | 'RECON_PLAN' | 'OFFER' | 'WANT' | 'ITEM' | 'WHOLE' | 'RECON_DONE' | 'WANTS_DONE' | 'ITEMS_DONE' | 'FINAL';

export const ARRIVALS: readonly Arrival[] = [
  'HELLO',
  'WELCOME',
  'RECON',
  'RECON_PLAN',
  'OFFER',
  'WANT',
  'ITEM',
  'WHOLE',
  'RECON_DONE',
  'WANTS_DONE',
  'ITEMS_DONE',
  'FINAL',
];

export function initialState(askedWhole: boolean): SessionState {
  return { ours: Step.Reconciling, theirs: Step.Reconciling, askedWhole };
}

const FRAME_ARRIVALS: Partial<Record<number, Arrival>> = {
  [FrameType.Hello]: 'HELLO',
  [FrameType.Welcome]: 'WELCOME',
  [FrameType.Recon]: 'RECON',
  [FrameType.ReconPlan]: 'RECON_PLAN',
  [FrameType.Offer]: 'OFFER',
  [FrameType.Want]: 'WANT',
  [FrameType.Item]: 'ITEM',
  [FrameType.Whole]: 'WHOLE',
  [FrameType.Final]: 'FINAL',
};

const STAGE_ARRIVALS: Record<Stage, Arrival> = { [Stage.ReconDone]: 'RECON_DONE', [Stage.WantsDone]: 'WANTS_DONE', [Stage.ItemsDone]: 'ITEMS_DONE' };

/** The arrival a decoded frame is, or null for a frame that has no place after the handshake (ERROR is handled by the connection). */
export function arrivalOf(type: number, stage?: Stage): Arrival | null {
  if (type === FrameType.Stage) return stage === undefined ? null : STAGE_ARRIVALS[stage];
  return FRAME_ARRIVALS[type] ?? null;
}

/**
 * Where `arrival` leads from `state`, or why it may not arrive there (the
 * session then ends with `unexpected`). The rules, from the sending side's
 * steps: a peer reconciles (RECON, RECON_PLAN) until its RECON_DONE; WANTs
 * until its WANTS_DONE; OFFERs, ITEMs and WHOLEs until its ITEMS_DONE; its
 * WANTS_DONE follows its RECON_DONE, its ITEMS_DONE follows our WANTS_DONE
 * (only then is the set of what we want complete) and its own WANTS_DONE,
 * FINAL follows its ITEMS_DONE; no stage twice.
 */
export function receive(state: SessionState, arrival: Arrival): SessionState | string {
  const t = state.theirs;
  const before = (step: Step, what: string) => (t < step ? state : `${what} after the peer's ${STEP_NAMES[t]}`);
  const stage = (step: Step, needs: Step, what: string): SessionState | string => {
    if (t >= step) return `${what} twice`;
    if (t < needs) return `${what} before ${STEP_NAMES[needs]}`;
    return { ...state, theirs: step };
  };
  switch (arrival) {
    case 'HELLO':
    case 'WELCOME':
      return `${arrival} after the handshake`;
    case 'RECON':
    case 'RECON_PLAN':
      return before(Step.ReconDone, arrival);
    case 'WANT':
      return before(Step.WantsDone, arrival);
    case 'OFFER':
    case 'ITEM':
      return before(Step.ItemsDone, arrival);
    case 'WHOLE':
      if (!state.askedWhole) return 'WHOLE from a peer we did not tell that our database is empty';
      return before(Step.ItemsDone, arrival);
    case 'RECON_DONE':
      return stage(Step.ReconDone, Step.Reconciling, arrival);
    case 'WANTS_DONE':
      return stage(Step.WantsDone, Step.ReconDone, arrival);
    case 'ITEMS_DONE':
      if (state.ours < Step.WantsDone && t < Step.ItemsDone) return 'ITEMS_DONE before our WANTS_DONE';
      return stage(Step.ItemsDone, Step.WantsDone, arrival);
    case 'FINAL':
      return stage(Step.Final, Step.ItemsDone, arrival);
  }
}

/** `receive`, throwing ProtocolError `unexpected` when the arrival is out of order. */
export function accept(state: SessionState, arrival: Arrival): SessionState {
  const next = receive(state, arrival);
  if (typeof next === 'string') perr('unexpected', next);
  return next;
}

/**
 * Whether we may send the stage `step` now (our own order: each stage once,
 * in turn; WANTS_DONE only after the peer's RECON_DONE; ITEMS_DONE only
 * after the peer's WANTS_DONE; FINAL only after both ITEMS_DONEs).
 */
export function maySend(state: SessionState, step: Step): boolean {
  if (state.ours !== step - 1) return false;
  if (step === Step.WantsDone) return state.theirs >= Step.ReconDone;
  if (step === Step.ItemsDone) return state.theirs >= Step.WantsDone;
  if (step === Step.Final) return state.theirs >= Step.ItemsDone;
  return true;
}

/** Our side after sending the stage `step`; an internal error when `maySend` would have said no. */
export function send(state: SessionState, step: Step): SessionState {
  if (!maySend(state, step)) throw new Error(`internal: ${STEP_NAMES[step]} may not be sent in state ${describeState(state)}`);
  return { ...state, ours: step };
}

export function describeState(state: SessionState): string {
  return `ours ${STEP_NAMES[state.ours]}, theirs ${STEP_NAMES[state.theirs]}${state.askedWhole ? ', asked whole' : ''}`;
}
