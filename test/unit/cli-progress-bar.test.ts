/**
 * The command line's progress bar and its output streams, on a fake clock
 * and fake streams: percentage, counts, rate and ETA; a message printed over
 * a bar; the bar only on a TTY; a closed stdout stops the command quietly.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ReaderGone, type Streams, terminalOutput } from '../../src/engine/cli/output.js';
import { eta, ProgressBar, type ProgressUpdate } from '../../src/engine/cli/progress-bar.js';

const CLEAR = '\r\x1b[2K';

/** A terminal's stream: what was written, as one string and as writes. */
function fakeTty(columns = 100) {
  const writes: string[] = [];
  return {
    isTTY: true,
    columns,
    writes,
    text: () => writes.join(''),
    write(s: string) {
      writes.push(s);
      return true;
    },
    on() {
      return this;
    },
  };
}

function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const pull = (done: number, bytes: number, total: number | null = 10_000): ProgressUpdate => ({ label: 'pull', done, total, unit: 'items', bytes });

describe('ProgressBar', () => {
  it('shows percentage, counts, byte rate and ETA measured on its own clock', () => {
    const tty = fakeTty();
    const clock = fakeClock();
    const bar = new ProgressBar(tty, clock.now);
    bar.update(pull(0, 0));
    expect(tty.writes).toHaveLength(1);
    // Fields keep their widths (the bar does not jump as figures grow); no rate from one sample.
    expect(tty.writes[0]).toBe(`${CLEAR}pull  [${'-'.repeat(30)}]    0%       0/10,000 items  ETA --:--`);
    clock.advance(1000);
    bar.update(pull(1000, 1 << 20));
    // 1,000 items a second with 9,000 to go: 9 s; 1 MiB in that second.
    expect(tty.writes[1]).toBe(`${CLEAR}pull  [###${'-'.repeat(27)}]   10%   1,000/10,000 items    1.00 MiB/s  ETA 0:09`);
    clock.advance(1000);
    bar.update(pull(10_000, 5 << 20));
    expect(tty.writes[2]).toMatch(/\[#{30}\] {2}100% {2}10,000\/10,000 items {4}2\.50 MiB\/s {2}ETA 0:00$/);
    expect(tty.writes[2]!.length).toBe(tty.writes[1]!.length);
  });

  it('redraws at most every 100 ms', () => {
    const tty = fakeTty();
    const clock = fakeClock();
    const bar = new ProgressBar(tty, clock.now);
    bar.update(pull(0, 0));
    for (let i = 1; i <= 9; i++) {
      clock.advance(10);
      bar.update(pull(i, i));
    }
    expect(tty.writes).toHaveLength(1);
    clock.advance(10);
    bar.update(pull(10, 10));
    expect(tty.writes).toHaveLength(2);
    expect(tty.writes[1]).toContain('10/10,000 items');
  });

  it('a message over the bar clears it, takes its own line, and the bar is drawn again below', () => {
    const tty = fakeTty();
    const bar = new ProgressBar(tty, fakeClock().now);
    bar.update(pull(2500, 0));
    const drawn = tty.writes[0]!.slice(CLEAR.length);
    expect(drawn).toContain('25%');
    bar.note('pinned new server 127.0.0.1:4691 with fingerprint 3b3f 4441');
    expect(tty.writes[1]).toBe(`${CLEAR}pinned new server 127.0.0.1:4691 with fingerprint 3b3f 4441\n${drawn}`);
    bar.clear();
    expect(tty.writes[2]).toBe(CLEAR);
    bar.note('after the bar');
    expect(tty.writes[3]).toBe('after the bar\n');
  });

  it('without a known total: the count and the rate of the unit, no bar, percentage or ETA', () => {
    const tty = fakeTty();
    const clock = fakeClock();
    const bar = new ProgressBar(tty, clock.now);
    bar.update({ label: 'pull: connecting', done: 0, total: null, unit: 'items', bytes: 0 });
    expect(tty.writes[0]).toBe(`${CLEAR}pull: connecting`); // nothing has happened yet, and nothing more is said
    clock.advance(200);
    bar.update({ label: 'db check', done: 0, total: null, unit: 'items' });
    clock.advance(2000);
    bar.update({ label: 'db check', done: 50_000, total: null, unit: 'items' });
    expect(tty.writes[2]).toBe(`${CLEAR}db check  50,000 items  25,000 items/s`);
    clock.advance(200);
    bar.update({ label: 'commit', done: 3, total: 0, unit: 'files' });
    expect(tty.writes[3]).toBe(`${CLEAR}commit  3 files`); // a new label starts a new measure
  });

  it('the rate is of the last seconds: a stall shows as a falling rate and an unknown ETA', () => {
    const tty = fakeTty();
    const clock = fakeClock();
    const bar = new ProgressBar(tty, clock.now);
    bar.update(pull(0, 0));
    clock.advance(1000);
    bar.update(pull(5000, 0));
    expect(tty.writes.at(-1)).toContain('ETA 0:01');
    for (let i = 0; i < 7; i++) {
      clock.advance(1000);
      bar.update(pull(5000, 0));
    }
    expect(tty.writes.at(-1)).toContain('ETA --:--');
  });

  it('fits the terminal: a narrower bar, then none, and never a line that wraps', () => {
    for (const columns of [70, 60, 40, 20]) {
      const tty = fakeTty(columns);
      new ProgressBar(tty, fakeClock().now).update(pull(5000, 0));
      const line = tty.writes[0]!.slice(CLEAR.length);
      expect(line.length, line).toBeLessThan(columns);
      if (columns >= 70) expect(line).toMatch(/\[#+-+\]/);
      if (columns <= 40) expect(line).not.toContain('[');
    }
  });

  it('writes an ETA as m:ss, or h:mm:ss past an hour', () => {
    expect(eta(90, 1)).toBe('1:30');
    expect(eta(3725, 1)).toBe('1:02:05');
    expect(eta(1, 3)).toBe('0:01');
    expect(eta(0, 0)).toBe('0:00');
    expect(eta(10, 0)).toBe('--:--');
  });
});

describe('terminalOutput', () => {
  function streams(isTTY: boolean) {
    const stdout = { ...fakeTty(), errored: null as Error | null, destroyed: false };
    const stderr = { ...fakeTty(), isTTY };
    return { stdout, stderr, asStreams: { stdout, stderr } as unknown as Streams };
  }

  it('draws no bar and no escape code when stderr is not a terminal; messages are plain lines', () => {
    const { stderr, asStreams } = streams(false);
    const io = terminalOutput(asStreams, {});
    io.progress(pull(10, 10));
    io.note('pinned new server');
    io.clearProgress();
    expect(stderr.text()).toBe('pinned new server\n');
  });

  it('on a terminal, draws the bar and prints messages above it; TERM=dumb gets none', () => {
    const tty = streams(true);
    const io = terminalOutput(tty.asStreams, { TERM: 'xterm' });
    io.progress(pull(10, 10));
    io.note('a note');
    const [bar, note, redrawn] = tty.stderr.writes;
    expect(bar!.startsWith(CLEAR)).toBe(true);
    expect(bar!.slice(CLEAR.length)).toMatch(/^pull {2}\[/);
    expect(note).toBe(`${CLEAR}a note\n${bar!.slice(CLEAR.length)}`);
    expect(redrawn).toBeUndefined();
    const dumb = streams(true);
    terminalOutput(dumb.asStreams, { TERM: 'dumb' }).progress(pull(10, 10));
    expect(dumb.stderr.text()).toBe('');
  });

  it('a closed pipe on either stream is heard: its error event does not end the process with a stack trace', () => {
    const stdout = Object.assign(new EventEmitter(), { write: () => true, errored: null, destroyed: false });
    const stderr = Object.assign(new EventEmitter(), { write: () => true, isTTY: false });
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(() => stdout.emit('error', epipe)).toThrow('EPIPE'); // what an unheard 'error' does
    terminalOutput({ stdout, stderr } as unknown as Streams, {});
    expect(() => stdout.emit('error', epipe)).not.toThrow();
    expect(() => stderr.emit('error', epipe)).not.toThrow();
  });

  it('results go to stdout; once its reader has gone, writing stops the command (ReaderGone)', () => {
    const { stdout, asStreams } = streams(false);
    const io = terminalOutput(asStreams, {});
    io.out('first line');
    expect(stdout.text()).toBe('first line\n');
    stdout.errored = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(() => io.out('second line')).toThrow(ReaderGone);
    expect(stdout.text()).toBe('first line\n');
  });
});
