/**
 * The progress bar of long commands, drawn on one line of a terminal:
 *
 *   pull  [########------------]  42%  4,200/10,000 items  3.1 MiB/s  ETA 0:03
 *
 * Rates and the ETA come from what the bar saw over the last few seconds,
 * so a stall shows as a falling rate, not a frozen one. A message printed
 * while the bar shows clears it, takes its own line, and the bar is drawn
 * again below it. Written for a TTY only: Output (output.ts) never makes one
 * for a pipe or a file, so scripts get no escape codes.
 */
import { formatBytes } from './format.js';

export interface ProgressUpdate {
  /** What is happening: "pull", "commit", "checkout". */
  label: string;
  /** Units done so far. */
  done: number;
  /** Units in all; null (or 0) while unknown, and then no bar, percentage or ETA is shown. */
  total: number | null;
  /** The unit counted, plural: "items", "files". */
  unit: string;
  /** Bytes moved so far, when the work is measured in bytes too: the rate is then shown in bytes per second. */
  bytes?: number;
}

/** The part of a TTY stream the bar uses (a fake in tests). */
export interface BarStream {
  columns?: number;
  write(text: string): unknown;
}

const CLEAR_LINE = '\r\x1b[2K';
/** Redraws at most this often: the eye sees no more, and a fast transfer must not spend its time drawing. */
const REDRAW_MS = 100;
/** The rate is measured over this much of the recent past. */
const RATE_WINDOW_MS = 5000;
const BAR_WIDTH = { min: 10, max: 30 };

interface Sample {
  at: number;
  done: number;
  bytes: number;
}

export class ProgressBar {
  private samples: Sample[] = [];
  private label = '';
  /** The line on screen now, '' when none. */
  private shown = '';
  private drawnAt = -Infinity;

  constructor(
    private readonly stream: BarStream,
    private readonly now: () => number = Date.now,
  ) {}

  update(p: ProgressUpdate): void {
    const at = this.now();
    if (p.label !== this.label) this.samples = [];
    this.label = p.label;
    this.samples.push({ at, done: p.done, bytes: p.bytes ?? 0 });
    while (this.samples.length > 2 && at - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    if (at - this.drawnAt < REDRAW_MS) return;
    this.drawnAt = at;
    this.draw(this.render(p));
  }

  /** A line of its own above the bar: the bar is cleared, the line printed, the bar drawn again. */
  note(line: string): void {
    this.stream.write(`${this.shown ? CLEAR_LINE : ''}${line}\n${this.shown}`);
  }

  /** Removes the bar (the work is done or failed); the next update starts a new one. */
  clear(): void {
    if (this.shown) this.stream.write(CLEAR_LINE);
    this.shown = '';
    this.samples = [];
    this.label = '';
    this.drawnAt = -Infinity;
  }

  /** The line for `p` as it would be drawn now, fitted to the terminal's width. */
  render(p: ProgressUpdate): string {
    const columns = this.stream.columns || 80;
    const known = p.total !== null && p.total > 0;
    const fraction = known ? Math.min(1, p.done / p.total!) : 0;
    const { unitsPerSecond, bytesPerSecond } = this.rates();
    const measured = this.samples.length > 1;
    const rate = () =>
      !measured ? '' : p.bytes === undefined ? `${count(Math.round(unitsPerSecond))} ${p.unit}/s` : `${formatBytes(Math.round(bytesPerSecond))}/s`.padStart(12);
    // Fields of steady widths, so the bar does not change size as the figures change. Before a
    // total is known, only what has happened: nothing at all while connecting.
    const total = known ? count(p.total!) : '';
    const parts = known
      ? [
          `${Math.floor(fraction * 100)}%`.padStart(4),
          `${count(p.done).padStart(total.length)}/${total} ${p.unit}`,
          rate(),
          `ETA ${eta(p.total! - p.done, unitsPerSecond)}`,
        ]
      : [p.done > 0 ? `${count(p.done)} ${p.unit}` : '', p.done > 0 ? rate().trim() : ''];
    const text = parts.filter((s) => s !== '').join('  ');
    if (text === '') return p.label.slice(0, columns - 1);
    const room = columns - 1 - p.label.length - text.length - 6;
    const width = Math.min(BAR_WIDTH.max, room);
    const bar = known && width >= BAR_WIDTH.min ? `  [${'#'.repeat(Math.round(fraction * width)).padEnd(width, '-')}]` : '';
    return `${p.label}${bar}  ${text}`.slice(0, columns - 1);
  }

  private rates(): { unitsPerSecond: number; bytesPerSecond: number } {
    const first = this.samples[0];
    const latest = this.samples[this.samples.length - 1];
    if (!first || !latest || latest.at <= first.at) return { unitsPerSecond: 0, bytesPerSecond: 0 };
    const seconds = (latest.at - first.at) / 1000;
    return { unitsPerSecond: (latest.done - first.done) / seconds, bytesPerSecond: (latest.bytes - first.bytes) / seconds };
  }

  private draw(line: string): void {
    this.stream.write(`${CLEAR_LINE}${line}`);
    this.shown = line;
  }
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** m:ss, or h:mm:ss past an hour; --:-- while nothing moves. */
export function eta(remaining: number, perSecond: number): string {
  if (remaining <= 0) return '0:00';
  if (perSecond <= 0) return '--:--';
  const s = Math.ceil(remaining / perSecond);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const mmss = `${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}
