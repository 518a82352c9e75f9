/**
 * The session's state machine (docs/PROTOCOL.md §4.5), every (state, frame)
 * pair: the table below is the spec's rules written out once more, state by
 * state, and the module must agree with it on all of them.
 */
import { describe, expect, it } from 'vitest';
import { FrameType, Stage } from '../../src/engine/protocol/frames.js';
import {
  ARRIVALS,
  type Arrival,
  type SessionState,
  Step,
  accept,
  arrivalOf,
  initialState,
  maySend,
  receive,
  send,
} from '../../src/engine/protocol/session-state.js';

const STEPS = [Step.Reconciling, Step.ReconDone, Step.WantsDone, Step.ItemsDone, Step.Final];

/** Every state: where we are, where the peer is, whether we asked for whole slots. */
const STATES: SessionState[] = STEPS.flatMap((ours) => STEPS.flatMap((theirs) => [false, true].map((askedWhole) => ({ ours, theirs, askedWhole }))));

/** What the spec allows, by arrival: null when it may not arrive in `s`, else the peer's step after it. */
function expected(s: SessionState, a: Arrival): Step | null {
  const t = s.theirs;
  switch (a) {
    case 'HELLO':
    case 'WELCOME':
      return null; // the handshake is over
    case 'RECON':
    case 'RECON_PLAN':
      return t === Step.Reconciling ? t : null; // the peer reconciles until its RECON_DONE
    case 'WANT':
      return t === Step.Reconciling || t === Step.ReconDone ? t : null; // ... wants until its WANTS_DONE
    case 'OFFER':
    case 'ITEM':
      return t <= Step.WantsDone ? t : null; // ... offers and sends until its ITEMS_DONE
    case 'WHOLE':
      return s.askedWhole && t <= Step.WantsDone ? t : null; // ... and only to a side that said it is empty
    case 'RECON_DONE':
      return t === Step.Reconciling ? Step.ReconDone : null;
    case 'WANTS_DONE':
      return t === Step.ReconDone ? Step.WantsDone : null;
    case 'ITEMS_DONE':
      return t === Step.WantsDone && s.ours >= Step.WantsDone ? Step.ItemsDone : null; // after our WANTS_DONE and its own
    case 'FINAL':
      return t === Step.ItemsDone ? Step.Final : null;
  }
}

describe('the session state machine', () => {
  it(`rules on all ${STATES.length * ARRIVALS.length} (state, frame) pairs as the spec does`, () => {
    let refused = 0;
    for (const s of STATES) {
      for (const a of ARRIVALS) {
        const want = expected(s, a);
        const got = receive(s, a);
        const label = `${a} in ours=${s.ours} theirs=${s.theirs} whole=${s.askedWhole}`;
        if (want === null) {
          expect(typeof got, label).toBe('string');
          refused++;
        } else {
          expect(got, label).toEqual({ ...s, theirs: want });
        }
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('says why a frame is out of order, and accept() ends the session with unexpected', () => {
    const start = initialState(false);
    expect(receive(start, 'ITEMS_DONE')).toBe('ITEMS_DONE before our WANTS_DONE');
    expect(receive(start, 'WANTS_DONE')).toBe('WANTS_DONE before RECON_DONE');
    expect(receive({ ...start, theirs: Step.ReconDone }, 'RECON_DONE')).toBe('RECON_DONE twice');
    expect(receive(start, 'WHOLE')).toMatch(/did not tell that our database is empty/);
    expect(receive({ ...start, theirs: Step.ItemsDone }, 'ITEM')).toBe("ITEM after the peer's ITEMS_DONE");
    expect(() => accept(start, 'HELLO')).toThrow(expect.objectContaining({ code: 'unexpected' }));
  });

  it('our own stages go out once each, in order, each when the peer is far enough', () => {
    let s = initialState(false);
    expect(maySend(s, Step.WantsDone)).toBe(false);
    s = send(s, Step.ReconDone);
    expect(maySend(s, Step.ReconDone)).toBe(false);
    expect(maySend(s, Step.WantsDone), 'WANTS_DONE waits for the peer’s RECON_DONE').toBe(false);
    s = accept(s, 'RECON_DONE');
    s = send(s, Step.WantsDone);
    expect(maySend(s, Step.ItemsDone), 'ITEMS_DONE waits for the peer’s WANTS_DONE').toBe(false);
    s = accept(s, 'WANTS_DONE');
    s = send(s, Step.ItemsDone);
    expect(maySend(s, Step.Final)).toBe(false);
    s = accept(s, 'ITEMS_DONE');
    s = send(s, Step.Final);
    s = accept(s, 'FINAL');
    expect(s).toEqual({ ours: Step.Final, theirs: Step.Final, askedWhole: false });
    expect(() => send(s, Step.Final)).toThrow(/internal/);
  });

  it('maps decoded frames to arrivals; ERROR and unknown types have no place after the handshake', () => {
    expect(arrivalOf(FrameType.Stage, Stage.WantsDone)).toBe('WANTS_DONE');
    expect(arrivalOf(FrameType.Offer)).toBe('OFFER');
    expect(arrivalOf(FrameType.Whole)).toBe('WHOLE');
    expect(arrivalOf(FrameType.Error)).toBeNull();
    expect(arrivalOf(99)).toBeNull();
  });
});
