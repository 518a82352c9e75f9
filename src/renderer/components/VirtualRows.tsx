/**
 * A table of any number of rows that renders only those in view (plus a few
 * around), each at a fixed height, so 100,000 rows scroll as smoothly as 10.
 * It tells its owner which rows are in view (`onRange`) so the owner can
 * fetch them; a row not fetched yet shows as a placeholder. The table is one
 * focusable scroll area (arrows, Page Up/Down, Home and End scroll it) with
 * its header row kept in view at the top.
 *
 * An ARIA table of divs: its rows sit at absolute positions in a box as tall
 * as all of them, which table elements cannot do. A table, not a grid: rows
 * are read, never acted on, so they are not focusable (biome.jsonc says why
 * its element and focus rules are off for this file only). Every role lives
 * here; owners pass the cells' content.
 */
import { type ReactNode, useEffect, useState } from 'react';

/** Rows rendered above and below the view, so a quick scroll shows no blank. */
const OVERSCAN = 10;

export interface VirtualColumn {
  header: ReactNode;
  /** Classes of this column's cells, header included (the row's grid places them). */
  className?: string;
}

export interface VirtualRowsProps {
  count: number;
  rowHeight: number;
  /** Height of the whole table in pixels at most, header row included; it scrolls beyond. */
  height: number;
  columns: readonly VirtualColumn[];
  /** The content of row `index`'s cells, one per column, or null while it is not loaded. */
  row: (index: number) => readonly ReactNode[] | null;
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

function Row({
  index,
  cells,
  columns,
  rowHeight,
  className,
}: {
  index: number;
  cells: readonly ReactNode[] | null;
  columns: readonly VirtualColumn[];
  rowHeight: number;
  className: string;
}) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      className={`vrow ${className}${cells ? '' : ' vrow-pending'}`}
      style={{ top: index * rowHeight, height: rowHeight }}
    >
      {cells ? (
        columns.map((c, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: cells are the fixed columns of one row
          <span role="cell" key={i} className={c.className}>
            {cells[i]}
          </span>
        ))
      ) : (
        <span role="cell" className="muted">
          …
        </span>
      )}
    </div>
  );
}

export function VirtualRows({ count, rowHeight, height, columns, row, onRange, label, className = '', testId }: VirtualRowsProps) {
  const [scrollTop, setScrollTop] = useState(0);
  const [first, last] = visibleRange(scrollTop, height, rowHeight, count);
  useEffect(() => {
    if (last >= first) onRange?.(first, last);
  }, [first, last, onRange]);
  const rows: ReactNode[] = [];
  for (let i = first; i <= last; i++) rows.push(<Row key={i} index={i} cells={row(i)} columns={columns} rowHeight={rowHeight} className={className} />);
  return (
    <div
      role="table"
      aria-label={label}
      aria-rowcount={count + 1}
      className="vtable"
      data-testid={testId}
      style={{ maxHeight: height }}
      // A scrollable region must be reachable by keyboard (axe: scrollable-region-focusable).
      // biome-ignore lint/a11y/noNoninteractiveTabindex: see above
      tabIndex={0}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
    >
      <div role="rowgroup" className="vheadgroup">
        <div role="row" aria-rowindex={1} className={`vrow vhead ${className}`}>
          {columns.map((c, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the columns are fixed
            <span role="columnheader" key={i} className={c.className}>
              {c.header}
            </span>
          ))}
        </div>
      </div>
      <div role="rowgroup" className="vspace" style={{ height: Math.max(rowHeight, count * rowHeight) }}>
        {rows}
      </div>
    </div>
  );
}
