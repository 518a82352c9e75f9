/** How numbers, sizes, times and ids read on screen. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[u]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function shortId(hex: string): string {
  return hex.slice(0, 12);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** A moment in a list: its time when it is today, else its date and time. */
export function formatWhen(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toDateString() === now.toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

/** The word that goes with `n`: `noun(1, 'item')` is 'item', `noun(0, 'item')` 'items'. */
export function noun(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** `n` and its word, for every count shown: '1 item', '2 items', '1 round trip'. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${noun(n, one, many)}`;
}

/**
 * The one sentence about the branches a sync left with several heads
 * (concurrent commits), or null when it left none.
 */
export function forkSentence(forks: readonly { branch: string; heads: number }[] | undefined): string | null {
  if (!forks || forks.length === 0) return null;
  const named = forks.map((f) => `${f.branch} now has ${f.heads} heads`).join(', ');
  const merge = forks.map((f) => `netsync merge ${f.branch}`).join(', ');
  return `${named} (versions committed concurrently on different sides): nothing was lost, and ${merge} joins them.`;
}
