/**
 * The missing-item diff: what we lack and what they lack, counted and sized
 * by branch and kind, and the items themselves a page at a time. Counts and
 * rows come from the same dry run.
 */
import { useState } from 'react';
import type { DiffItem, DiffSide } from '../../shared/sync.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Pager } from '../components/Pager.js';
import { formatBytes, formatCount, shortId } from '../format.js';
import { useApp } from '../store/context.js';
import { groupDiffByBranch, selectPeer, selectPeerLive } from '../store/selectors.js';

const PAGE = 50;

const BLOCKED: Record<NonNullable<DiffItem['blocked']>, string> = {
  'no-permission': 'not allowed',
  direction: 'direction is off',
  'failed-verification': 'failed verification',
  'peer-gone': 'peer left',
};

function Side({ title, side, testId }: { title: string; side: DiffSide; testId: string }) {
  const [page, setPage] = useState(0);
  const groups = groupDiffByBranch(side);
  const pages = Math.ceil(side.items.length / PAGE);
  const rows = side.items.slice(page * PAGE, (page + 1) * PAGE);
  return (
    <section className="card diff-side" aria-label={title} data-testid={testId}>
      <header>
        <h2>{title}</h2>
        <p className="big">
          {formatCount(side.count)} <span className="muted">items · {formatBytes(side.bytes)}</span>
        </p>
      </header>
      {groups.length > 0 ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Branch</th>
              <th scope="col">Kinds</th>
              <th scope="col" className="num">
                Items
              </th>
              <th scope="col" className="num">
                Size
              </th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.branch}>
                <td className="mono">{g.branch}</td>
                <td className="muted">{g.kinds.map((k) => `${formatCount(k.count)} ${k.kind}`).join(', ')}</td>
                <td className="num">{formatCount(g.count)}</td>
                <td className="num">{formatBytes(g.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">Nothing missing on this side.</p>
      )}
      {rows.length > 0 ? (
        <>
          <table className="table items">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Id</th>
                <th scope="col">Branches</th>
                <th scope="col" className="num">
                  Size
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((item) => (
                <tr key={item.id}>
                  <td>{item.kind}</td>
                  <td className="mono" title={item.id}>
                    {shortId(item.id)}
                    {item.blocked ? <span className="badge warn">{BLOCKED[item.blocked]}</span> : null}
                  </td>
                  <td className="muted">{item.branches.join(', ')}</td>
                  <td className="num">{formatBytes(item.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {side.items.length < side.count ? <p className="muted small">Listing the first {formatCount(side.items.length)} of {formatCount(side.count)} items.</p> : null}
          <Pager page={Math.min(page, Math.max(0, pages - 1))} pages={pages} onPage={setPage} label={`${title} pages`} />
        </>
      ) : null}
    </section>
  );
}

export function DiffView() {
  const peerId = useApp((s) => s.ui.diffPeerId ?? s.peers.list[0]?.id ?? null);
  const peer = useApp(selectPeer(peerId));
  const diff = useApp((s) => (peerId ? s.peers.diffs[peerId] : undefined));
  const live = useApp(selectPeerLive(peerId ?? ''));
  const diffPeer = useApp((s) => s.diffPeer);
  const syncPeer = useApp((s) => s.syncPeer);
  const running = live.state === 'connecting' || live.state === 'refining';

  if (!peer) {
    return (
      <section>
        <header className="screen-header">
          <h1>Diff</h1>
        </header>
        <p className="empty">Add a peer first, then press its Diff button.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="diff-title">
      <header className="screen-header with-actions">
        <div>
          <h1 id="diff-title">Diff with {peer.name}</h1>
          <p className="muted">What each side lacks, found by comparing index trees. Nothing moves.</p>
        </div>
        <div className="actions">
          <button type="button" onClick={() => void diffPeer(peer.id)} disabled={running} data-testid="diff-again">
            {running ? 'Comparing…' : 'Compare again'}
          </button>
          <button type="button" className="primary" onClick={() => void syncPeer(peer.id)} disabled={running || !diff}>
            {peer.direction === 'sync' ? 'Sync now' : peer.direction === 'push' ? 'Push now' : 'Pull now'}
          </button>
        </div>
      </header>
      <ErrorLine message={live.error?.message} testId="diff-error" />
      {running && !diff ? <p className="muted">Comparing with {peer.address}…</p> : null}
      {diff ? (
        <>
          <p className="muted small">
            {formatCount(diff.roundTrips)} round trips · {formatBytes(diff.reconBytesSent + diff.reconBytesReceived)} of index exchanged · {diff.ms} ms
          </p>
          {diff.peerFingerprint ? (
            <p className="muted small" data-testid="diff-fingerprint">
              Server key <span className="mono">{diff.peerFingerprint}</span> (pinned for {peer.address} on first contact; a changed key is refused)
            </p>
          ) : null}
          <div className="diff-grid">
            <Side title="We lack" side={diff.weLack} testId="diff-we-lack" />
            <Side title="They lack" side={diff.theyLack} testId="diff-they-lack" />
          </div>
        </>
      ) : null}
    </section>
  );
}
