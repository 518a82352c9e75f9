/**
 * A table of any number of rows that renders only those in view (plus a few
 * around), each at a fixed height, so 100,000 rows scroll as smoothly as 10.
 * It tells its owner which rows are in view (`onRange`) so the owner can
 * fetch them; a row not fetched yet shows as a placeholder. The body is one
 * focusable scroll area: arrows, Page Up/Down, Home and End scroll it.
 */
import { type ReactNode, useEffect, useState } from 'react';

/** Rows rendered above and below the view, so a quick scroll shows no blank. */
const OVERSCAN = 10;

export interface VirtualRowsProps {
  count: number;
  rowHeight: number;
  /** Height of the scroll area in pixels. */
  height: number;
  header: ReactNode;
  /** The cells of row `index`, or null while it is not loaded. */
  row: (index: number) => ReactNode | null;
  onRange?: (first: number, last: number) => void;
  label: string;
  className?: string;
  testId?: string;
}

export function visibleRange(scrollTop: number, height: number, rowHeight: number, count: number): [first: number, last: number] {
  if (count === 0) return [0, -1];
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(count - 1, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  return [first, last];
}

export function VirtualRows({ count, rowHeight, height, header, row, onRange, label, className = '', testId }: VirtualRowsProps) {
  const [scrollTop, setScrollTop] = useState(0);
  const [first, last] = visibleRange(scrollTop, height, rowHeight, count);
  useEffect(() => {
    if (last >= first) onRange?.(first, last);
  }, [first, last, onRange]);
  const rows: ReactNode[] = [];
  for (let i = first; i <= last; i++) {
    const cells = row(i);
    rows.push(
      <div
        key={i}
        role="row"
        aria-rowindex={i + 2}
        className={`vrow ${className}${cells ? '' : ' vrow-pending'}`}
        style={{ top: i * rowHeight, height: rowHeight }}
      >
        {cells ?? (
          <span role="cell" className="muted">
            …
          </span>
        )}
      </div>,
    );
  }
  return (
    <div role="table" aria-label={label} aria-rowcount={count + 1} className="vtable" data-testid={testId}>
      <div role="rowgroup">
        <div role="row" aria-rowindex={1} className={`vrow vhead ${className}`}>
          {header}
        </div>
      </div>
      <div
        className="vbody"
        style={{ height: Math.min(height, Math.max(rowHeight, count * rowHeight)) }}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (axe: scrollable-region-focusable)
        tabIndex={0}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div role="rowgroup" className="vspace" style={{ height: count * rowHeight }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
