/** The shell: navigation, the database line, and the current screen; saved peers are compared again when the window regains focus. */
import { useEffect } from 'react';
import iconUrl from '../../../build/icon.svg';
import type { Screen } from '../store/slices/ui.js';
import { useApp } from '../store/context.js';
import { selectRunningSessionIds } from '../store/selectors.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { plural } from '../format.js';
import { CollectionView } from './CollectionView.js';
import { Notices } from '../components/Notices.js';
import { Dialogs, useDialogOpen } from './Dialogs.js';
import { DiffView } from './DiffView.js';
import { IdentityView } from './IdentityView.js';
import { PeersView } from './PeersView.js';
import { ServerView } from './ServerView.js';
import { TransfersView } from './TransfersView.js';

const SCREENS: { id: Screen; label: string }[] = [
  { id: 'peers', label: 'Peers' },
  { id: 'diff', label: 'Diff' },
  { id: 'transfers', label: 'Transfers' },
  { id: 'collection', label: 'Collection' },
  { id: 'server', label: 'Server' },
  { id: 'identity', label: 'Identity' },
];

function Nav() {
  const screen = useApp((s) => s.ui.screen);
  const navigate = useApp((s) => s.navigate);
  const running = useApp((s) => selectRunningSessionIds(s).length);
  const serving = useApp((s) => s.server.status.running);
  return (
    <nav className="nav" aria-label="Screens">
      {SCREENS.map((s) => (
        <button
          key={s.id}
          type="button"
          className="nav-item"
          aria-current={screen === s.id ? 'page' : undefined}
          onClick={() => navigate(s.id)}
          data-testid={`nav-${s.id}`}
        >
          {s.label}
          {s.id === 'transfers' && running > 0 ? <span className="pill">{running}</span> : null}
          {s.id === 'server' && serving ? <span className="dot dot-on" role="img" aria-label="serving" /> : null}
        </button>
      ))}
    </nav>
  );
}

function DatabaseLine() {
  const database = useApp((s) => s.collection.database);
  return (
    <div className="sidebar-footer" data-testid="database-line">
      <span className="muted">Database</span>
      <span className="path" title={database?.path}>
        {database ? database.path : 'none open'}
      </span>
      {database ? (
        <span className="muted">
          {plural(database.items, 'item')} · {plural(database.branches, 'branch', 'branches')}
        </span>
      ) : null}
    </div>
  );
}

function Current() {
  const screen = useApp((s) => s.ui.screen);
  switch (screen) {
    case 'peers':
      return <PeersView />;
    case 'diff':
      return <DiffView />;
    case 'transfers':
      return <TransfersView />;
    case 'collection':
      return <CollectionView />;
    case 'server':
      return <ServerView />;
    case 'identity':
      return <IdentityView />;
  }
}

/** How a server question ended when it was not answered here, or why trusting a key failed. */
function TrustNote() {
  const { closedNote, error } = useApp((s) => s.trust);
  const dismiss = useApp((s) => s.dismissTrustNote);
  if (!closedNote && !error) return null;
  return (
    <div className={`${error ? 'error-line' : 'banner'} with-dismiss`} role="status" data-testid="trust-note">
      <span>{error ?? closedNote}</span>
      <button type="button" className="quiet" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}

/** Back in the window: the saved peers are compared again, so none still reads as it did before the other side changed. */
function useRecheckOnFocus() {
  const recheck = useApp((s) => s.recheckPeers);
  useEffect(() => {
    const onFocus = () => void recheck('focus');
    const onVisible = () => {
      if (document.visibilityState === 'visible') onFocus();
    };
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [recheck]);
}

export function App() {
  useRecheckOnFocus();
  const connected = useApp((s) => s.ui.connected);
  const bootError = useApp((s) => s.ui.bootError);
  const dialogOpen = useDialogOpen();
  // While a question is open, the app behind it is inert: no focus, no clicks (a modal in fact, not only in looks).
  return (
    <>
      <div className="app" inert={dialogOpen}>
        <aside className="sidebar">
          <div className="brand">
            <img src={iconUrl} alt="" width="28" height="28" />
            <span>Netsync</span>
          </div>
          <Nav />
          <DatabaseLine />
        </aside>
        <main className="content">
          {!connected ? (
            <p className="banner" role="status">
              The connection to Netsync's engine is down; retrying…
            </p>
          ) : null}
          <ErrorLine message={bootError} />
          <TrustNote />
          <Current />
        </main>
      </div>
      <Notices />
      <Dialogs />
    </>
  );
}
