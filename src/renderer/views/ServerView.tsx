/** Serving: one click to let peers sync with this database. */
import type { FormEvent } from 'react';
import { ErrorLine } from '../components/ErrorLine.js';
import { formatCount, formatDate } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';

export function ServerView() {
  const { status, bind, patterns, busy, error } = useAppShallow((s) => s.server);
  const { setServerForm, startServer, stopServer } = useAppShallow((s) => ({ setServerForm: s.setServerForm, startServer: s.startServer, stopServer: s.stopServer }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void (status.running ? stopServer() : startServer());
  };
  return (
    <section aria-labelledby="server-title">
      <header className="screen-header">
        <h1 id="server-title">Server</h1>
        <p className="muted">Let peers connect to this database. Either side can be the server.</p>
      </header>
      <form className="card" onSubmit={submit} aria-label="Serve">
        <p className="big" data-testid="server-status">
          <span className={`dot ${status.running ? 'dot-on' : ''}`} aria-hidden="true" />{' '}
          {status.running ? `Serving on ${status.host}:${status.port}` : 'Not serving'}
        </p>
        <div className="form-row">
          <label>
            Listen on
            <input value={bind} onChange={(e) => setServerForm({ bind: e.target.value })} disabled={status.running} placeholder="0.0.0.0:4691" data-testid="server-bind" />
          </label>
          <label className="grow">
            Branches offered (empty: all)
            <input value={patterns} onChange={(e) => setServerForm({ patterns: e.target.value })} disabled={status.running} placeholder="org.example.*" data-testid="server-patterns" />
          </label>
          <button type="submit" className={status.running ? 'danger' : 'primary'} disabled={busy} data-testid="server-toggle">
            {status.running ? 'Stop serving' : 'Start serving'}
          </button>
        </div>
        <ErrorLine message={error} testId="server-error" />
      </form>
      {status.running || status.sessions > 0 ? (
        <div className="card">
          <dl className="stats">
            <div>
              <dt>Connected now</dt>
              <dd>{formatCount(status.connections.length)}</dd>
            </div>
            <div>
              <dt>Sessions</dt>
              <dd>{formatCount(status.sessions)}</dd>
            </div>
            <div>
              <dt>Items sent</dt>
              <dd>{formatCount(status.itemsSent)}</dd>
            </div>
            <div>
              <dt>Items received</dt>
              <dd>{formatCount(status.itemsReceived)}</dd>
            </div>
          </dl>
          <h2>Connected peers</h2>
          {status.connections.length === 0 ? <p className="muted">Nobody is connected right now.</p> : null}
          <ul className="list">
            {status.connections.map((c) => (
              <li key={c.sessionId} className="list-item static">
                <span className="mono">{c.remote}</span>
                <span className="muted small">since {formatDate(c.since)}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
