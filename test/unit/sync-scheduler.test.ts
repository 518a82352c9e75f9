/**
 * The automatic sync's scheduler (service/sync-scheduler.ts) on a fake
 * clock: sessions on the interval, soon after a local change, doubling
 * waits while a peer fails (capped, reset by a success), never two sessions
 * with one peer at once, pause and resume.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AttemptOutcome, SyncScheduler, backoffDelay } from '../../src/engine/service/sync-scheduler.js';

const INTERVAL = 60_000;
const FIRST = 2_000;
const MAX = 60_000;
const CHANGE = 500;

/** A scheduler whose sessions end after `sessionMs` with whatever `outcome()` says; records when each started. */
function setup(outcome: (n: number) => AttemptOutcome = () => ({ ok: true }), sessionMs = 10) {
  const starts: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const scheduler = new SyncScheduler({
    run: async () => {
      starts.push(Date.now());
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (sessionMs > 0) await new Promise((r) => setTimeout(r, sessionMs));
      running--;
      return outcome(starts.length);
    },
    intervalMs: () => INTERVAL,
    backoffFirstMs: FIRST,
    backoffMaxMs: MAX,
    changeDelayMs: CHANGE,
  });
  return { scheduler, starts, maxRunning: () => maxRunning };
}

const down: AttemptOutcome = { ok: false, error: { code: 'unreachable', message: 'nothing is listening' } };
let t0 = 0;
const since = (times: number[]) => times.map((t) => t - t0);

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  t0 = Date.now();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SyncScheduler', () => {
  it('syncs a peer at once when it is kept, then once per interval', async () => {
    const { scheduler, starts } = setup();
    scheduler.keep('p');
    await vi.advanceTimersByTimeAsync(3 * INTERVAL + 100);
    expect(since(starts)).toEqual([0, 10 + INTERVAL, 2 * (10 + INTERVAL), 3 * (10 + INTERVAL)].filter((t) => t <= 3 * INTERVAL + 100));
    expect(scheduler.list()[0]).toMatchObject({ peerId: 'p', state: 'waiting', failures: 0 });
  });

  it('waits twice as long after each failure, never more than the cap, and a success resets the wait', async () => {
    let failing = true;
    const { scheduler, starts } = setup(() => (failing ? down : { ok: true }), 0);
    scheduler.keep('p');
    await vi.advanceTimersByTimeAsync(1);
    // Failures 1..6: waits 2, 4, 8, 16, 32, then 60 (the cap) seconds.
    await vi.advanceTimersByTimeAsync(2_000 + 4_000 + 8_000 + 16_000 + 32_000 + 60_000 + 60_000);
    const gaps = since(starts)
      .slice(1)
      .map((t, i) => t - since(starts)[i]!);
    expect(gaps).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(scheduler.list()[0]).toMatchObject({ state: 'backing-off', failures: 8, lastError: { code: 'unreachable' } });

    failing = false;
    await vi.advanceTimersByTimeAsync(MAX);
    const s = scheduler.list()[0]!;
    expect(s).toMatchObject({ state: 'waiting', failures: 0 });
    expect(s.lastError).toBeUndefined();
    // Back on the interval, not on the backoff.
    expect(s.nextAt! - Date.now()).toBeGreaterThan(MAX - 1_000);
  });

  it('backoff doubles from the first wait and stops at the cap, even after very many failures', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, 1_000, 10_000))).toEqual([0, 1_000, 2_000, 4_000, 8_000]);
    expect(backoffDelay(5, 1_000, 10_000)).toBe(10_000);
    expect(backoffDelay(10_000, 1_000, 10_000)).toBe(10_000);
  });

  it('never runs two sessions with one peer: a change during a session is served once, after it', async () => {
    const { scheduler, starts, maxRunning } = setup(() => ({ ok: true }), 5_000);
    scheduler.keep('p');
    await vi.advanceTimersByTimeAsync(1_000);
    scheduler.localChanged();
    scheduler.localChanged();
    scheduler.syncNow();
    await vi.advanceTimersByTimeAsync(4_000 + CHANGE + 10);
    expect(maxRunning()).toBe(1);
    // The first session ends at 5 s; the triggers it collected make one more, a change delay later.
    expect(since(starts)).toEqual([0, 5_000 + CHANGE]);
  });

  it('a local change brings the next session forward, but never postpones a sooner one', async () => {
    const { scheduler, starts } = setup();
    scheduler.keep('p');
    await vi.advanceTimersByTimeAsync(20_000);
    scheduler.localChanged();
    await vi.advanceTimersByTimeAsync(CHANGE + 20);
    expect(since(starts)).toEqual([0, 20_000 + CHANGE]);
    scheduler.syncNow();
    scheduler.localChanged();
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toHaveLength(3);
  });

  it('leaves a failing peer to its backoff when the collection changes; "sync now" overrides it', async () => {
    const { scheduler, starts } = setup(() => down, 0);
    scheduler.keep('p');
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toHaveLength(1);
    scheduler.localChanged();
    await vi.advanceTimersByTimeAsync(FIRST - 10);
    expect(starts).toHaveLength(1);
    scheduler.syncNow(['p']);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toHaveLength(2);
  });

  it('only the named peers are synced after a change that concerns them', async () => {
    const { scheduler, starts } = setup();
    scheduler.keepOnly(['a', 'b']);
    await vi.advanceTimersByTimeAsync(100);
    expect(starts).toHaveLength(2);
    scheduler.localChanged(['b']);
    await vi.advanceTimersByTimeAsync(CHANGE + 20);
    expect(starts).toHaveLength(3);
  });

  it('counts a peer busy with another session as no failure, and looks again shortly', async () => {
    const { scheduler, starts } = setup((n) => (n === 1 ? { ok: false, busy: true } : { ok: true }), 0);
    scheduler.keep('p');
    await vi.advanceTimersByTimeAsync(FIRST + 10);
    expect(since(starts)).toEqual([0, FIRST]);
    expect(scheduler.list()[0]).toMatchObject({ failures: 0, state: 'waiting' });
  });

  it('pause starts nothing (a running session ends); resume syncs every peer at once', async () => {
    const { scheduler, starts } = setup(() => ({ ok: true }), 1_000);
    scheduler.keepOnly(['a', 'b']);
    await vi.advanceTimersByTimeAsync(10);
    scheduler.pause();
    scheduler.localChanged();
    scheduler.syncNow();
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(starts).toHaveLength(2);
    expect(scheduler.isPaused).toBe(true);
    expect(scheduler.list().map((s) => s.state)).toEqual(['paused', 'paused']);
    expect(scheduler.list().every((s) => s.nextAt === null)).toBe(true);

    scheduler.resume();
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toHaveLength(4);
  });

  it('a dropped peer gets no further session, and close waits for the running one', async () => {
    const { scheduler, starts } = setup(() => ({ ok: true }), 1_000);
    scheduler.keepOnly(['a', 'b']);
    await vi.advanceTimersByTimeAsync(10);
    scheduler.keepOnly(['b']);
    expect(scheduler.list().map((s) => s.peerId)).toEqual(['b']);
    let closed = false;
    const closing = scheduler.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(500);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(600);
    await closing;
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(starts).toHaveLength(2);
  });
});
