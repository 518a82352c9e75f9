/**
 * Text that came from a peer (an ERROR message, a branch name or pattern in a
 * refusal) is escaped before it reaches a terminal or a log line: a control
 * character could move the cursor, recolour or clear the screen, or start a
 * forged log line. Every place that prints or logs peer text goes through
 * printable() (the CLI's error line, serve's log, the client's report of a
 * server's ERROR).
 */

/**
 * C0 controls (newlines and tabs included), DEL, C1 controls, and the
 * Unicode characters that reorder or break lines (bidi overrides and
 * isolates, the line and paragraph separators).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character written as `\xNN` or `\u{NNNN}`; safe text is returned unchanged (so escaping twice is escaping once). */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
