/**
 * The missing-item diff: what we lack and what they lack, counted and sized
 * by branch and kind, and every item in a virtualised list whose rows are
 * fetched from the engine as they scroll into view. Counts and rows come
 * from the same session. What will not move says why: a branch the server
 * refuses, a direction turned off, a sync that ended early (an item failed
 * verification, the peer left). While a sync runs, rows tick as their items
 * arrive or go out and the counts drop, both from the same moved ids
 * (store/slices/diff-moves.ts).
 */
import { type ReactNode, useCallback, useState } from 'react';
import type { DiffSideName, Direction } from '../../shared/api.js';
import type { DiffItem, DiffSide, RefusedSlot, SessionSummary } from '../../shared/sync.js';
import { Fingerprint } from '../components/Fingerprint.js';
import { type VirtualColumn, VirtualRows } from '../components/VirtualRows.js';
import { forkSentence, formatBytes, formatCount, formatDate, formatDuration, noun, plural, shortId } from '../format.js';
import { useApp } from '../store/context.js';
import { groupDiffByBranch, remainingSide, selectPeer, selectPeerLive, selectPeerSessionId } from '../store/selectors.js';
import type { SideMoves, StopReason } from '../store/slices/diff-moves.js';
import { DIFF_BLOCK, rowList, rowListKey } from '../store/slices/diff-rows.js';
import { refusalSentences } from '../../shared/refusals.js';
import { convergenceNote } from '../store/verdict.js';
import { SessionError } from './SessionError.js';

/** Two lines a row: what the item is, then its branches across the row's whole width (styles.css, .item-row). */
const ROW_HEIGHT = 44;
const LIST_HEIGHT = 400;

const BLOCKED: Record<NonNullable<DiffItem['blocked']>, string> = {
  'no-permission': 'not allowed',
  direction: 'direction is off',
  'failed-verification': 'failed verification',
  'peer-gone': 'peer left',
};

const REFUSED_SHORT: Record<RefusedSlot['reason'], string> = {
  'not-offered': 'not offered',
  'no-permission': 'not allowed',
  'read-only': 'read only',
};

/** Whether a refusal blocks this side: read-only stops only what we send. */
function blocksSide(r: RefusedSlot, side: DiffSideName): boolean {
  return r.reason !== 'read-only' || side === 'theyLack';
}

/** Whether the server held back anything this side would have listed: then an empty side is not "nothing missing". */
function sideRefused(summary: SessionSummary, side: DiffSideName): boolean {
  return (summary.unmatchedPatterns?.length ?? 0) > 0 || (summary.refused ?? []).some((r) => blocksSide(r, side));
}

function directionOff(side: DiffSideName, direction: Direction): string | null {
  if (side === 'weLack' && direction === 'push') return 'Not fetched: this peer is set to Push.';
  if (side === 'theyLack' && direction === 'pull') return 'Not sent: this peer is set to Pull.';
  return null;
}

function RowStatus({ item, moved, stopped }: { item: DiffItem; moved: boolean; stopped: StopReason | null }) {
  if (moved) return <span className="badge ok">moved</span>;
  const why = item.blocked ?? stopped;
  return why ? <span className="badge warn">{BLOCKED[why]}</span> : null;
}

/** The list's columns; the order of ItemCells' cells. Status only when some row has one to show. */
function itemColumns(withStatus: boolean): VirtualColumn[] {
  const columns: VirtualColumn[] = [
    { header: 'Kind', className: 'cell-kind' },
    { header: 'Id', className: 'cell-id mono' },
    { header: 'Branches', className: 'cell-branches muted' },
    { header: 'Size', className: 'cell-size num' },
  ];
  return withStatus ? [...columns, { header: 'Status', className: 'cell-status' }] : columns;
}

function itemCells(item: DiffItem, withStatus: boolean, moved: boolean, stopped: StopReason | null): ReactNode[] {
  const cells: ReactNode[] = [
    item.kind,
    <span key="id" title={item.id}>
      {shortId(item.id)}
    </span>,
    item.branches.join(', '),
    formatBytes(item.size),
  ];
  return withStatus ? [...cells, <RowStatus key="status" item={item} moved={moved} stopped={stopped} />] : cells;
}

interface ItemListProps {
  sessionId: string;
  sideName: DiffSideName;
  side: DiffSide;
  branch: string | null;
  title: string;
  /** Some rows of this side will not move, or have moved: a column says which and why. */
  withStatus: boolean;
  moves: SideMoves | undefined;
  stopped: StopReason | null;
}

function ItemList({ sessionId, sideName, side, branch, title, withStatus, moves, stopped }: ItemListProps) {
  const list = useApp((s) => rowList(s.diffRows, rowListKey(sessionId, sideName, branch)));
  const load = useApp((s) => s.loadDiffBlock);
  const onRange = useCallback(
    (first: number, last: number) => {
      for (let b = Math.floor(first / DIFF_BLOCK); b <= Math.floor(last / DIFF_BLOCK); b++) void load(sessionId, sideName, branch, b);
    },
    [load, sessionId, sideName, branch],
  );
  // Until the first block answers, the count of the group (or side) is the best guess of the list's length.
  const expected = branch === null ? side.count : side.groups.filter((g) => g.branch === branch).reduce((n, g) => n + g.count, 0);
  const total = list.total ?? Math.min(expected, DIFF_BLOCK);
  const counted = branch === null ? side.count : expected;
  return (
    <>
      <VirtualRows
        count={total}
        rowHeight={ROW_HEIGHT}
        height={LIST_HEIGHT}
        label={`${title}: items${branch ? ` of ${branch}` : ''}`}
        className={withStatus ? 'item-row with-status' : 'item-row'}
        testId={`${sideName}-items`}
        columns={itemColumns(withStatus)}
        row={(i) => {
          const item = list.blocks[Math.floor(i / DIFF_BLOCK)]?.[i % DIFF_BLOCK];
          return item ? itemCells(item, withStatus, moves?.ids.has(item.id) ?? false, stopped) : null;
        }}
        onRange={onRange}
      />
      {list.error ? <p className="error-line">{list.error}</p> : null}
      <p className="muted small" data-testid={`${sideName}-listing`}>
        {list.total !== null && list.total < counted
          ? `Listing the first ${formatCount(list.total)} of ${plural(counted, 'item')}; the rest are counted above.`
          : `${plural(total, 'item')} listed.`}
      </p>
    </>
  );
}

function Side({
  title,
  sideName,
  summary,
  direction,
  testId,
}: {
  title: string;
  sideName: DiffSideName;
  summary: SessionSummary;
  direction: Direction;
  testId: string;
}) {
  const listed = summary[sideName];
  // Re-renders once per batch of moved items (at most every 100 ms), not per item.
  const diffMoves = useApp((s) => s.diffMoves[summary.sessionId]);
  const moves = diffMoves?.[sideName];
  const stopped = diffMoves?.stopped ?? null;
  const side = remainingSide(listed, moves);
  const moved = moves?.count ?? 0;
  const [branch, setBranch] = useState<string | null>(null);
  const groups = groupDiffByBranch(side);
  const refusedHere = new Map((summary.refused ?? []).filter((r) => blocksSide(r, sideName)).map((r) => [r.branch, r]));
  const off = side.count > 0 ? directionOff(sideName, direction) : null;
  const stoppedHere = stopped !== null && side.count > 0 ? stopped : null;
  const shownBranch = branch !== null && groups.some((g) => g.branch === branch) ? branch : null;
  return (
    <section className="card diff-side" aria-label={title} data-testid={testId}>
      <header>
        <h2>{title}</h2>
        <p className="big">
          {formatCount(side.count)}{' '}
          <span className="muted">
            {noun(side.count, 'item')} · {formatBytes(side.bytes)}
          </span>
        </p>
        {moved > 0 ? (
          <p className="ok-line small" data-testid={`${sideName}-moved`}>
            {plural(moved, 'item')} ({formatBytes(moves?.bytes ?? 0)}) {sideName === 'weLack' ? 'arrived' : 'sent'} since this comparison
          </p>
        ) : null}
      </header>
      {off ? (
        <p className="warn-line" data-testid={`${sideName}-direction`}>
          {off}
        </p>
      ) : null}
      {stoppedHere ? (
        <p className="warn-line" data-testid={`${sideName}-stopped`}>
          {stoppedHere === 'failed-verification'
            ? `The sync ended because an item failed verification: ${plural(side.count, 'item')} did not move.`
            : `The sync ended before everything moved (the peer left or the session was cancelled): ${plural(side.count, 'item')} did not move.`}
        </p>
      ) : null}
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
            {groups.map((g) => {
              const refused = refusedHere.get(g.branch);
              return (
                <tr key={g.branch}>
                  <td className="mono">
                    <button
                      type="button"
                      className="link"
                      aria-pressed={shownBranch === g.branch}
                      title={shownBranch === g.branch ? 'Show every branch' : `List only ${g.branch}`}
                      onClick={() => setBranch(shownBranch === g.branch ? null : g.branch)}
                    >
                      {g.branch}
                    </button>
                    {refused ? <span className="badge warn">{REFUSED_SHORT[refused.reason]}</span> : null}
                  </td>
                  <td className="muted">
                    {g.count === 0
                      ? 'all moved'
                      : g.kinds
                          .filter((k) => k.count > 0)
                          .map((k) => plural(k.count, k.kind))
                          .join(', ')}
                  </td>
                  <td className="num">{formatCount(g.count)}</td>
                  <td className="num">{formatBytes(g.bytes)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : sideRefused(summary, sideName) ? (
        <p className="warn-line" data-testid={`${sideName}-refused`}>
          Nothing found in what the server let this identity compare; what it refused is said above.
        </p>
      ) : (
        <p className="muted">Nothing missing on this side.</p>
      )}
      {listed.count > 0 ? (
        <ItemList
          key={`${summary.sessionId}|${shownBranch}`}
          sessionId={summary.sessionId}
          sideName={sideName}
          side={listed}
          branch={shownBranch}
          title={title}
          withStatus={off !== null || stoppedHere !== null || moved > 0 || groups.some((g) => refusedHere.has(g.branch))}
          moves={moves}
          stopped={stoppedHere}
        />
      ) : null}
    </section>
  );
}

/** What will not move this way, for every reason at once. */
function WillNotMove({ summary, later }: { summary: SessionSummary; later: SessionSummary | undefined }) {
  const notes = refusalSentences(summary);
  const converging = convergenceNote(later?.converged, later?.sessions);
  if (converging) notes.push(converging);
  if (notes.length === 0) return null;
  return (
    <div className="warn-line stack" role="status" data-testid="diff-blocked">
      {notes.map((n) => (
        <p key={n}>{n}</p>
      ))}
    </div>
  );
}

const ACTION: Record<Direction, { label: string; busy: string }> = {
  sync: { label: 'Sync now', busy: 'Syncing…' },
  push: { label: 'Push now', busy: 'Pushing…' },
  pull: { label: 'Pull now', busy: 'Pulling…' },
};

export function DiffView() {
  const peerId = useApp((s) => s.ui.diffPeerId ?? s.peers.list[0]?.id ?? null);
  const peer = useApp(selectPeer(peerId));
  const diff = useApp((s) => (peerId ? s.peers.diffs[peerId] : undefined));
  const latest = useApp((s) => (peerId ? s.peers.results[peerId] : undefined));
  const live = useApp(selectPeerLive(peerId ?? ''));
  // What the running session is, once it has started: a comparison (dry run) or a sync that moves items.
  const runningDryRun = useApp((s) => {
    const id = selectPeerSessionId(peerId ?? '')(s);
    return id ? (s.transfers.byId[id]?.info.dryRun ?? null) : null;
  });
  const diffPeer = useApp((s) => s.diffPeer);
  const syncPeer = useApp((s) => s.syncPeer);
  const running = live.state === 'connecting' || live.state === 'refining' || live.state === 'transferring';

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
  const action = ACTION[peer.direction];
  const syncedSince = latest && diff && latest !== diff && !latest.dryRun ? latest : undefined;
  return (
    <section aria-labelledby="diff-title">
      <header className="screen-header with-actions">
        <div>
          <h1 id="diff-title">Diff with {peer.name}</h1>
          <p className="muted">What each side lacks, found by comparing index trees. Comparing moves nothing; {action.label} moves what is listed.</p>
        </div>
        <div className="actions">
          <button type="button" onClick={() => void diffPeer(peer.id)} disabled={running} data-testid="diff-again">
            {running && runningDryRun === true ? 'Comparing…' : 'Compare again'}
          </button>
          <button type="button" className="primary" onClick={() => void syncPeer(peer.id)} disabled={running || !diff} data-testid="diff-sync">
            {running && runningDryRun === false ? action.busy : action.label}
          </button>
        </div>
      </header>
      <SessionError peerId={peer.id} error={live.error} testId="diff-error" />
      {running && !diff ? (
        <p className="muted">{runningDryRun === false ? `${action.busy} Its progress is on the Transfers screen.` : `Comparing with ${peer.address}…`}</p>
      ) : null}
      {diff ? (
        <>
          <p className="muted small">
            {plural(diff.roundTrips, 'round trip')} · {formatBytes(diff.reconBytesSent + diff.reconBytesReceived)} of index exchanged ·{' '}
            {formatDuration(diff.ms)}
          </p>
          {diff.peerFingerprint ? (
            <p className="muted small" data-testid="diff-fingerprint">
              Server key <Fingerprint value={diff.peerFingerprint} inline /> (pinned for {peer.address} on first contact; a changed key is refused)
            </p>
          ) : null}
          {syncedSince ? (
            <p className="ok-line" role="status" data-testid="diff-synced-since">
              A {syncedSince.direction} since this comparison moved {plural(syncedSince.itemsReceived, 'item')} in and {plural(syncedSince.itemsSent, 'item')}{' '}
              out
              {peer.last?.at ? ` (${formatDate(peer.last.at)})` : ''}; compare again to see what is left.
            </p>
          ) : null}
          {syncedSince && forkSentence(syncedSince.forks) ? (
            <p className="warn-line" role="status" data-testid="diff-forks">
              {forkSentence(syncedSince.forks)}
            </p>
          ) : null}
          <WillNotMove summary={diff} later={syncedSince} />
          <div className="diff-grid">
            <Side title="We lack" sideName="weLack" summary={diff} direction={diff.direction} testId="diff-we-lack" />
            <Side title="They lack" sideName="theyLack" summary={diff} direction={diff.direction} testId="diff-they-lack" />
          </div>
        </>
      ) : null}
    </section>
  );
}
