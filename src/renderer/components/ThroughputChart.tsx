/**
 * A small SVG area chart of throughput on the wire over the session. A
 * session too short for two measured intervals has one rate, its average:
 * drawn flat across, and said so.
 */
import type { Sample } from '../store/slices/transfers.js';
import { throughput } from '../store/selectors.js';
import { formatRate } from '../format.js';

const W = 360;
const H = 96;

function caption(points: readonly unknown[], peak: number): string {
  if (points.length === 0) return 'Throughput appears once data moves.';
  // One interval: its rate is the session's average, already given beside the chart.
  if (points.length === 1) return 'Too short a session to chart over time: drawn at its average.';
  return `Peak ${formatRate(peak)} on the wire.`;
}

export function ThroughputChart({ samples }: { samples: readonly Sample[] }) {
  const points = throughput(samples);
  const peak = Math.max(1, ...points.map((p) => p.rate));
  const t0 = samples[0]?.t ?? 0;
  const span = Math.max(1, (points[points.length - 1]?.t ?? 1) - t0);
  const y = (rate: number) => H - (rate / peak) * (H - 8);
  // Each rate holds over the interval that ends at its point, so the first starts at the session's start.
  const xy =
    points.length === 1
      ? [[0, y(points[0]!.rate)] as const, [W, y(points[0]!.rate)] as const]
      : points.map((p) => [((p.t - t0) / span) * W, y(p.rate)] as const);
  const line = xy.map(([x, yy]) => `${x.toFixed(1)},${yy.toFixed(1)}`).join(' ');
  const text = caption(points, peak);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Throughput chart. ${text}`} preserveAspectRatio="none">
        <line x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} className="chart-axis" />
        {xy.length > 1 ? (
          <>
            <polygon className="chart-area" points={`0,${H} ${line} ${W},${H}`} />
            <polyline className="chart-line" points={line} />
          </>
        ) : null}
      </svg>
      <figcaption>{text}</figcaption>
    </figure>
  );
}
