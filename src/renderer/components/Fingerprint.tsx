/**
 * A key fingerprint as people compare it: 16 groups of 4 hex digits, in two
 * rows of 8 (or on one line, `inline`, inside a sentence).
 */
export function Fingerprint({ value, testId, inline = false }: { value: string; testId?: string; inline?: boolean }) {
  const groups =
    value
      .replace(/[\s:-]/g, '')
      .toLowerCase()
      .match(/.{1,4}/g) ?? [];
  if (inline) {
    return (
      <span className="mono" data-testid={testId}>
        {groups.join(' ')}
      </span>
    );
  }
  return (
    <span className="fingerprint" data-testid={testId}>
      {groups.map((g, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the groups are fixed positions of one fingerprint
        <span key={i}>
          {g}
          {i < groups.length - 1 ? ' ' : ''}
        </span>
      ))}
    </span>
  );
}
