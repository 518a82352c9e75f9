/** A small SVG area chart of throughput over the session. */
import type { Sample } from '../store/slices/transfers.js';
import { throughput } from '../store/selectors.js';
import { formatRate } from '../format.js';

const W = 360;
const H = 96;

export function ThroughputChart({ samples }: { samples: readonly Sample[] }) {
  const points = throughput(samples);
  const peak = Math.max(1, ...points.map((p) => p.rate));
  const t0 = points[0]?.t ?? 0;
  const span = Math.max(1, (points[points.length - 1]?.t ?? 1) - t0);
  const xy = points.map((p) => [((p.t - t0) / span) * W, H - (p.rate / peak) * (H - 8)] as const);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Throughput, peak ${formatRate(peak)}`} preserveAspectRatio="none">
        <line x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} className="chart-axis" />
        {xy.length > 1 ? (
          <>
            <polygon className="chart-area" points={`0,${H} ${line} ${W},${H}`} />
            <polyline className="chart-line" points={line} />
          </>
        ) : null}
      </svg>
      <figcaption>{points.length > 1 ? `peak ${formatRate(peak)}` : 'throughput appears once data moves'}</figcaption>
    </figure>
  );
}
