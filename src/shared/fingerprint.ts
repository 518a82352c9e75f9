/**
 * Key fingerprints as people read, paste and compare them (docs/SECURITY.md,
 * "Fingerprints"): 64 hex digits in 16 groups of 4, accepted with or without
 * separators (spaces, ':' or '-') and in either case. Pure string work,
 * shared by the engine (security/fingerprint.ts computes them), the
 * argument checks and the window.
 */

/** The canonical form: 64 lowercase hex digits, no separators; null when `text` is not a fingerprint. */
export function parseFingerprint(text: string): string | null {
  const compact = text
    .trim()
    .replace(/[\s:-]/g, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(compact) ? compact : null;
}

/** The form people read: `3f2a 9b01 …` (16 groups of 4). */
export function formatFingerprint(hex: string): string {
  return hex.match(/.{1,4}/g)!.join(' ');
}
