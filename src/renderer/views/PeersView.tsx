/** Peers: add by address, choose direction and branches per peer, connect, diff and sync. */
import { type FormEvent, useId, useState } from 'react';
import type { AutoSyncPeer, Direction, LastSession, Peer } from '../../shared/api.js';
import { MAX_INTERVAL_S, MIN_INTERVAL_S } from '../../shared/api-validate.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { forkSentence, formatBytes, formatDate, plural } from '../format.js';
import { useApp, useAppShallow, useThrottledApp } from '../store/context.js';
import { selectPeerLive, selectPeerSessionId, transferStats } from '../store/selectors.js';
import { splitPatterns } from '../store/slices/server.js';
import { peerVerdict } from '../store/verdict.js';
import { SessionError } from './SessionError.js';

const DIRECTIONS: { id: Direction; label: string; hint: string }[] = [
  { id: 'sync', label: 'Sync', hint: 'both ways: both sides end with the union' },
  { id: 'push', label: 'Push', hint: 'only send what they lack' },
  { id: 'pull', label: 'Pull', hint: 'only fetch what we lack' },
];

function AddPeerForm() {
  const addPeer = useApp((s) => s.addPeer);
  const formError = useApp((s) => s.peers.formError);
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await addPeer({ name: name.trim(), address: address.trim() })) {
      setName('');
      setAddress('');
    }
  };
  return (
    <form className="card form-row" onSubmit={submit} aria-label="Add a peer">
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="lab server" required data-testid="add-peer-name" />
      </label>
      <label>
        Address
        <input value={address} onChange={(e) => setAddress(e.target.value)} placeholder="host or host:4691" required data-testid="add-peer-address" />
      </label>
      <button type="submit" className="primary" data-testid="add-peer-submit">
        Add peer
      </button>
      <ErrorLine message={formError} testId="add-peer-error" />
    </form>
  );
}

function LiveProgress({ sessionId }: { sessionId: string }) {
  const transfer = useThrottledApp((s) => s.transfers.byId[sessionId]);
  if (!transfer) return null;
  const st = transferStats(transfer);
  return <progress max={1} value={st.fraction} aria-label="Progress" />;
}

function PatternsEditor({ peer }: { peer: Peer }) {
  const updatePeer = useApp((s) => s.updatePeer);
  const [include, setInclude] = useState(peer.include.join(' '));
  const [exclude, setExclude] = useState(peer.exclude.join(' '));
  const dirty = include !== peer.include.join(' ') || exclude !== peer.exclude.join(' ');
  const save = (e: FormEvent) => {
    e.preventDefault();
    void updatePeer(peer.id, { include: splitPatterns(include), exclude: splitPatterns(exclude) });
  };
  return (
    <form className="patterns" onSubmit={save} aria-label={`Branches for ${peer.name}`}>
      <label>
        Include branches
        <input value={include} onChange={(e) => setInclude(e.target.value)} placeholder="org.example.*" data-testid="peer-include" />
      </label>
      <label>
        Exclude branches
        <input value={exclude} onChange={(e) => setExclude(e.target.value)} placeholder="org.example.secret*" data-testid="peer-exclude" />
      </label>
      <button type="submit" disabled={!dirty}>
        Save branches
      </button>
    </form>
  );
}

/**
 * The direction toggle: native radios, so the group is one Tab stop and the
 * arrow keys move the choice (WAI-ARIA's radio group pattern, by the browser).
 * The chosen direction's meaning is said under it.
 */
function DirectionToggle({ peer, disabled }: { peer: Peer; disabled: boolean }) {
  const updatePeer = useApp((s) => s.updatePeer);
  const hintId = useId();
  const chosen = DIRECTIONS.find((d) => d.id === peer.direction)!;
  return (
    <fieldset className="direction" aria-describedby={hintId} disabled={disabled}>
      <legend className="visually-hidden">Direction for {peer.name}</legend>
      <div className="segmented">
        {DIRECTIONS.map((d) => (
          <label key={d.id}>
            <input
              type="radio"
              name={`direction-${peer.id}`}
              value={d.id}
              checked={peer.direction === d.id}
              onChange={() => void updatePeer(peer.id, { direction: d.id })}
              data-testid={`peer-direction-${d.id}`}
            />
            {d.label}
          </label>
        ))}
      </div>
      <span id={hintId} className="muted small">
        {chosen.label}: {chosen.hint}.
      </span>
    </fieldset>
  );
}

/** What a peer kept in sync waits between checks when it sets nothing (the engine's DEFAULT_INTERVAL_MS). */
const DEFAULT_INTERVAL_S = 60;

const clockTime = (iso: string) => new Date(iso).toLocaleTimeString();

/** Where a kept peer's automatic sync stands, in one line. */
function autoSyncText(s: AutoSyncPeer | undefined, paused: boolean): string {
  if (paused) return 'Automatic sync is paused.';
  if (!s) return 'Starting…';
  if (s.state === 'syncing') return 'Syncing now.';
  if (s.state === 'backing-off') {
    const why = s.lastError ? ` ${s.lastError.message}` : '';
    return `Failed ${plural(s.failures, 'time')} in a row; trying again at ${s.nextAt ? clockTime(s.nextAt) : 'once resumed'}.${why}`;
  }
  return `${s.lastOkAt ? `Synced at ${clockTime(s.lastOkAt)}; ` : ''}next check at ${s.nextAt ? clockTime(s.nextAt) : '—'}, and whenever this collection changes.`;
}

/** "Keep in sync": the peer is synced by itself (on changes, on its interval, with backoff), and where that stands. */
function KeepInSync({ peer }: { peer: Peer }) {
  const updatePeer = useApp((s) => s.updatePeer);
  const schedule = useApp((s) => s.peers.auto.peers.find((p) => p.peerId === peer.id));
  const paused = useApp((s) => s.peers.auto.paused);
  const kept = peer.keepInSync === true;
  const [interval, setIntervalText] = useState(String(peer.intervalSeconds ?? DEFAULT_INTERVAL_S));
  const seconds = Number(interval);
  const validInterval = Number.isInteger(seconds) && seconds >= MIN_INTERVAL_S && seconds <= MAX_INTERVAL_S;
  const saveInterval = (e: FormEvent) => {
    e.preventDefault();
    if (validInterval) void updatePeer(peer.id, { intervalSeconds: seconds });
  };
  return (
    <div className="keep-in-sync">
      <form className="form-row" onSubmit={saveInterval} aria-label={`Keep ${peer.name} in sync`}>
        <label className="check">
          <input type="checkbox" checked={kept} onChange={(e) => void updatePeer(peer.id, { keepInSync: e.target.checked })} data-testid="peer-keep" />
          Keep in sync: on every change here, and every
        </label>
        <label className="check">
          <input
            type="number"
            className="seconds"
            min={MIN_INTERVAL_S}
            max={MAX_INTERVAL_S}
            value={interval}
            onChange={(e) => setIntervalText(e.target.value)}
            aria-label="Seconds between checks"
            data-testid="peer-interval"
          />
          s
        </label>
        {interval !== String(peer.intervalSeconds ?? DEFAULT_INTERVAL_S) ? (
          <button type="submit" disabled={!validInterval} data-testid="peer-interval-save">
            Save interval
          </button>
        ) : null}
      </form>
      {kept ? (
        <p className={`small ${schedule?.state === 'backing-off' ? 'warn-line' : 'muted'}`} role="status" data-testid="peer-auto">
          {autoSyncText(schedule, paused)}
        </p>
      ) : null}
    </div>
  );
}

/** What the last session did, in its own units: a diff counts what differs; a sync counts items moved, and its bytes include the index exchange. */
function lastSessionText(last: LastSession): string {
  const when = `Last ${last.dryRun ? 'diff' : last.direction} ${formatDate(last.at)}`;
  if (last.error) return `${when} failed: ${last.error.message}`;
  if (last.dryRun) {
    if (last.weLack === undefined || last.theyLack === undefined) return `${when}.`;
    return `${when}: we lack ${plural(last.weLack, 'item')}, they lack ${plural(last.theyLack, 'item')}.`;
  }
  const wire = formatBytes(last.bytesReceived + last.bytesSent);
  return `${when}: ${plural(last.itemsReceived, 'item')} in, ${plural(last.itemsSent, 'item')} out; ${wire} exchanged, the index comparison included.`;
}

function PeerCard({ peer }: { peer: Peer }) {
  const live = useApp(selectPeerLive(peer.id));
  const latest = useApp((s) => s.peers.results[peer.id]);
  const verdict = peerVerdict(peer, live, latest);
  const sessionId = useApp(selectPeerSessionId(peer.id));
  const { removePeer, diffPeer, syncPeer, cancelSession, showDiff, showTransfer } = useAppShallow((s) => ({
    removePeer: s.removePeer,
    diffPeer: s.diffPeer,
    syncPeer: s.syncPeer,
    cancelSession: s.cancelSession,
    showDiff: s.showDiff,
    showTransfer: s.showTransfer,
  }));
  const hints = useId();
  const busy = sessionId !== null || live.state === 'connecting';
  const action = DIRECTIONS.find((d) => d.id === peer.direction)!;
  return (
    <article className="card peer" data-testid="peer-card" data-peer-name={peer.name} aria-label={`Peer ${peer.name}`}>
      <header className="peer-head">
        <div>
          <h2>{peer.name}</h2>
          <span className="muted mono">{peer.address}</span>
        </div>
        <span className={`state state-${verdict.tone}`} data-testid="peer-state">
          {verdict.label}
        </span>
      </header>

      <DirectionToggle peer={peer} disabled={busy} />

      <PatternsEditor key={`${peer.include.join(' ')}|${peer.exclude.join(' ')}`} peer={peer} />

      <KeepInSync peer={peer} />

      {sessionId ? <LiveProgress sessionId={sessionId} /> : null}
      {verdict.notes.length > 0 ? (
        <ul className={`notes ${verdict.tone === 'blocked' || verdict.tone === 'differs' ? 'warn-line' : 'muted small'}`} data-testid="peer-notes">
          {verdict.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      <SessionError peerId={peer.id} error={live.error} testId="peer-error" />
      {peer.last && !live.error ? (
        <p className="muted small" data-testid="peer-last">
          {lastSessionText(peer.last)}
        </p>
      ) : null}
      {latest && !latest.dryRun && forkSentence(latest.forks) ? (
        <p className="warn-line" role="status" data-testid="peer-forks">
          {forkSentence(latest.forks)}
        </p>
      ) : null}

      <footer className="actions">
        <button type="button" onClick={() => void diffPeer(peer.id)} disabled={busy} aria-describedby={`${hints}-connect`} data-testid="peer-connect">
          Connect
        </button>
        <button
          type="button"
          onClick={() => {
            showDiff(peer.id);
            void diffPeer(peer.id);
          }}
          disabled={busy}
          aria-describedby={`${hints}-diff`}
          data-testid="peer-diff"
        >
          Diff
        </button>
        <button type="button" className="primary" onClick={() => void syncPeer(peer.id)} disabled={busy} title={action.hint} data-testid="peer-sync">
          {action.label}
        </button>
        {sessionId ? (
          <>
            <button type="button" onClick={() => showTransfer(sessionId)}>
              View progress
            </button>
            <button type="button" className="danger" onClick={() => void cancelSession(sessionId)} data-testid="peer-cancel">
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="quiet" onClick={() => void removePeer(peer.id)} aria-label={`Remove ${peer.name}`}>
            Remove
          </button>
        )}
      </footer>
      <ul className="hints muted small" data-testid="peer-hints">
        <li id={`${hints}-connect`}>Connect: count what differs, and stay here.</li>
        <li id={`${hints}-diff`}>Diff: count it and list every item, on the Diff screen.</li>
      </ul>
    </article>
  );
}

/** Sync every peer now; pause or resume the automatic sync (shown once a peer is kept in sync). */
function AutoSyncActions() {
  const { paused, anyKept, anyPeer, setPaused, syncAll } = useAppShallow((s) => ({
    paused: s.peers.auto.paused,
    anyKept: s.peers.list.some((p) => p.keepInSync),
    anyPeer: s.peers.list.length > 0,
    setPaused: s.setAutoSyncPaused,
    syncAll: s.syncAllNow,
  }));
  return (
    <>
      <button type="button" onClick={() => void syncAll()} disabled={!anyPeer} data-testid="peers-sync-all">
        Sync all now
      </button>
      {anyKept || paused ? (
        <button type="button" onClick={() => void setPaused(!paused)} aria-pressed={paused} data-testid="peers-pause">
          {paused ? 'Resume automatic sync' : 'Pause automatic sync'}
        </button>
      ) : null}
    </>
  );
}

/** Who sessions run as, with the way to change it: an anonymous session reads only what servers grant "anonymous". */
function IdentityLine() {
  const active = useApp((s) => s.identity.status?.active);
  const navigate = useApp((s) => s.navigate);
  if (active === undefined) return null;
  const who = active === null ? 'no key chosen yet (several exist)' : active.kind === 'anonymous' ? 'anonymous (no key)' : active.name;
  return (
    <p className="muted small" data-testid="peers-identity">
      Connecting as {who}.{' '}
      <button type="button" className="link" onClick={() => navigate('identity')}>
        Change
      </button>
    </p>
  );
}

export function PeersView() {
  const peers = useApp((s) => s.peers.list);
  const error = useApp((s) => s.peers.error);
  const recheck = useApp((s) => s.recheckPeers);
  return (
    <section aria-labelledby="peers-title">
      <header className="screen-header with-actions">
        <div>
          <h1 id="peers-title">Peers</h1>
          <p className="muted">
            Other Netsync databases to exchange with. Each remembers its direction and branches, and is compared again when you come back to this window.
          </p>
          <IdentityLine />
        </div>
        <div className="actions">
          <button type="button" onClick={() => void recheck('request')} disabled={peers.length === 0} data-testid="peers-recheck">
            Compare all again
          </button>
          <AutoSyncActions />
        </div>
      </header>
      <AddPeerForm />
      <ErrorLine message={error} />
      {peers.length === 0 ? <p className="empty">No peers yet. Add one by its address; the default port is 4691.</p> : null}
      <div className="peer-list">
        {peers.map((p) => (
          <PeerCard key={p.id} peer={p} />
        ))}
      </div>
    </section>
  );
}
