/**
 * Live and recent sessions: phase, items each way against their totals (the
 * progress), the items' size and the bytes on the wire apart, rate, ETA, chart.
 * What the server refused is said on the session, as on the peer's card.
 * Ended sessions are kept by the engine, so they are still listed after a
 * reload or a restart (the last 100).
 */
import { refusalSentences } from '../../shared/refusals.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { ThroughputChart } from '../components/ThroughputChart.js';
import { formatBytes, formatCount, formatDate, formatDuration, formatRate, noun, plural } from '../format.js';
import { useApp, useAppShallow, useThrottledApp } from '../store/context.js';
import { type WayStats, selectShownTransferId, transferLabel, transferStats, transferTitle } from '../store/selectors.js';

/** The items' own size, once the engine knows it (a first clone learns it only at the end). */
function itemSize(t: WayStats): string {
  if (t.totalItems === 0) return 'nothing due';
  return t.totalBytes > 0 ? `${formatBytes(t.totalBytes)} of items` : 'size told at the end';
}

function Way({ label, t }: { label: string; t: WayStats }) {
  const fraction = t.totalItems > 0 ? Math.min(1, t.items / t.totalItems) : 0;
  return (
    <div className="way">
      <div className="way-head">
        <span>{label}</span>
        <span className="mono">
          {formatCount(t.items)} / {formatCount(t.totalItems)} {noun(t.totalItems, 'item')}
        </span>
      </div>
      <progress max={1} value={fraction} aria-label={`${label}: ${Math.round(fraction * 100)}% of the items`} />
      <p className="muted small way-bytes">
        {itemSize(t)} · {formatBytes(t.bytes)} on the wire
      </p>
    </div>
  );
}

function TransferDetail({ sessionId }: { sessionId: string }) {
  // Throttled: a busy session changes many times a second; this re-renders 5 times a second at most.
  const transfer = useThrottledApp((s) => s.transfers.byId[sessionId], 200);
  const title = useApp((s) => (transfer ? transferTitle(transfer, s.peers.list) : ''));
  const cancel = useApp((s) => s.cancelSession);
  if (!transfer) return null;
  const st = transferStats(transfer);
  const summary = transfer.finished?.summary;
  const refused = summary ? refusalSentences(summary) : [];
  return (
    <article className="card transfer" data-testid="transfer-detail">
      <header className="peer-head">
        <div>
          <h2>{title}</h2>
          <span className="muted">{formatDate(transfer.info.startedAt)}</span>
        </div>
        {refused.length > 0 && st.phase === 'done' ? (
          <span className="state state-blocked" data-testid="transfer-phase">
            done, refused
          </span>
        ) : (
          <span className={`state state-${st.phase}`} data-testid="transfer-phase">
            {st.phase}
          </span>
        )}
      </header>
      {refused.length > 0 ? (
        <div className="warn-line stack" role="status" data-testid="transfer-refused">
          {refused.map((n) => (
            <p key={n}>{n}</p>
          ))}
        </div>
      ) : null}
      <Way label="Sent" t={st.sent} />
      <Way label="Received" t={st.received} />
      <dl className="stats">
        <div>
          <dt>{st.running ? 'Rate on the wire' : 'Average on the wire'}</dt>
          <dd>{formatRate(st.rate)}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{st.etaMs === null ? '—' : formatDuration(st.etaMs)}</dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd>{formatDuration(st.elapsedMs)}</dd>
        </div>
        <div>
          <dt>Round trips</dt>
          <dd>{st.roundTrips === null ? '—' : formatCount(st.roundTrips)}</dd>
        </div>
        <div>
          <dt>Index traffic</dt>
          <dd>{st.reconBytes === null ? '—' : formatBytes(st.reconBytes)}</dd>
        </div>
      </dl>
      {st.roundTrips === null || st.reconBytes === null ? (
        <p className="muted small" data-testid="transfer-counted-at-end">
          Round trips and index traffic are counted when a session completes.
        </p>
      ) : null}
      {transfer.samples.length > 0 || st.running ? (
        <ThroughputChart samples={transfer.samples} />
      ) : (
        <p className="muted small" data-testid="transfer-no-chart">
          Its throughput chart was drawn while it ran; the figures above are kept.
        </p>
      )}
      {st.missed > 0 ? (
        <p className="warn-line" role="status">
          {plural(st.missed, 'progress update')} did not arrive; the figures catch up with the next one.
        </p>
      ) : null}
      <ErrorLine message={transfer.finished?.error?.message} />
      {st.running ? (
        <button type="button" className="danger" onClick={() => void cancel(sessionId)}>
          Cancel
        </button>
      ) : null}
    </article>
  );
}

export function TransfersView() {
  const shown = useApp(selectShownTransferId);
  const order = useAppShallow((s) => s.transfers.order);
  const showTransfer = useApp((s) => s.showTransfer);
  const error = useApp((s) => s.transfers.error);
  const labels = useAppShallow((s) => s.transfers.order.map((id) => transferLabel(s.transfers.byId[id]!, s.peers.list)));
  return (
    <section aria-labelledby="transfers-title">
      <header className="screen-header">
        <h1 id="transfers-title">Transfers</h1>
        <p className="muted">The last 100 diffs and syncs, newest first, kept when the app restarts.</p>
      </header>
      <ErrorLine message={error} testId="transfers-error" />
      {order.length === 0 ? (
        <p className="empty">No transfer yet. Start one from a peer's Sync button.</p>
      ) : (
        <div className="split">
          <ul className="list" aria-label="Sessions">
            {order.map((id, i) => (
              <li key={id}>
                <button
                  type="button"
                  className="list-item"
                  aria-current={id === shown ? 'true' : undefined}
                  onClick={() => showTransfer(id)}
                  data-testid="transfer-item"
                >
                  {labels[i]}
                </button>
              </li>
            ))}
          </ul>
          {shown ? <TransferDetail sessionId={shown} /> : null}
        </div>
      )}
    </section>
  );
}
