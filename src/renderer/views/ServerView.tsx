/**
 * Serving: one click to let peers sync with this database, and who may read
 * and write what. The form shows what the running server really uses (after
 * a reload too); a rule names a key picked from the keys known here or a
 * pasted fingerprint.
 */
import { type FormEvent, useEffect, useRef } from 'react';
import { ErrorLine } from '../components/ErrorLine.js';
import { Fingerprint } from '../components/Fingerprint.js';
import { formatCount, formatDate } from '../format.js';
import { useAppShallow } from '../store/context.js';
import { RuleBuilder } from './RuleBuilder.js';

const EXAMPLE = `# who may read and write which branches (one rule per line)
read   anonymous  org.example.public.*
read   *          org.example.*  !org.example.secret*
write  3f2a 9b01 …(a key's 16 groups)…  org.example.project`;

/** The character offsets of 1-based line `line` in `text`. */
function lineRange(text: string, line: number): [number, number] {
  let start = 0;
  for (let i = 1; i < line; i++) start = text.indexOf('\n', start) + 1;
  const end = text.indexOf('\n', start);
  return [start, end === -1 ? text.length : end];
}

function PermissionsEditor() {
  const p = useAppShallow((s) => s.server.permissions);
  const { loadPermissions, editPermissions, savePermissions, loadKnownKeys } = useAppShallow((s) => ({
    loadPermissions: s.loadPermissions,
    editPermissions: s.editPermissions,
    savePermissions: s.savePermissions,
    loadKnownKeys: s.loadKnownKeys,
  }));
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    void loadPermissions();
  }, [loadPermissions]);
  useEffect(() => {
    void loadKnownKeys();
  }, [loadKnownKeys]);
  const addRule = (lines: string[]) => {
    const text = p.text === '' || p.text.endsWith('\n') ? p.text : `${p.text}\n`;
    editPermissions(`${text}${lines.join('\n')}\n`);
  };
  const dirty = p.saved !== null && p.text !== p.saved.text;
  const show = (line: number) => {
    const el = area.current;
    if (!el) return;
    const [start, end] = lineRange(el.value, line);
    el.focus();
    el.setSelectionRange(start, end);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void savePermissions();
  };
  return (
    <section className="card" aria-labelledby="permissions-title" data-testid="permissions">
      <h2 id="permissions-title">Permissions</h2>
      <p className="muted small">
        Rules only grant: <span className="mono">read|write WHO PATTERN…</span>, where WHO is a key fingerprint, <span className="mono">anonymous</span> or{' '}
        <span className="mono">*</span> (any key); a pattern with <span className="mono">!</span> excludes. Writing also needs reading. This server's own key
        may do everything; with no rule, nobody else may do anything. Read again at every session: a saved change applies to the next one.
      </p>
      <RuleBuilder onAdd={addRule} />
      <form onSubmit={submit} aria-label="Permissions file">
        <textarea
          ref={area}
          className="mono editor"
          rows={6}
          spellCheck={false}
          value={p.text}
          onChange={(e) => editPermissions(e.target.value)}
          placeholder={EXAMPLE}
          aria-label="Permissions file"
          aria-invalid={p.problems.length > 0}
          aria-describedby={p.problems.length > 0 ? 'permissions-problems' : undefined}
          data-testid="permissions-text"
        />
        {p.problems.length > 0 ? (
          <div id="permissions-problems" className="error-line" role="alert" data-testid="permissions-problems">
            <ul className="problems">
              {p.problems.map((q) => (
                <li key={q.line}>
                  <button type="button" className="link" onClick={() => show(q.line)}>
                    Line {q.line}
                  </button>
                  : {q.message}
                </li>
              ))}
            </ul>
          </div>
        ) : (
          <ErrorLine message={p.error} testId="permissions-error" />
        )}
        {p.savedNote ? (
          <p className="ok-line" role="status" data-testid="permissions-saved">
            {p.savedNote}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={p.busy || !dirty} data-testid="permissions-save">
            Save permissions
          </button>
          <button type="button" disabled={p.busy || !dirty} onClick={() => p.saved && editPermissions(p.saved.text)}>
            Revert
          </button>
          <span className="muted small mono" title="The file the server reads">
            {p.saved?.path}
          </span>
        </div>
      </form>
    </section>
  );
}

export function ServerView() {
  const { status, bind, patterns, busy, error } = useAppShallow((s) => s.server);
  const { setServerForm, startServer, stopServer } = useAppShallow((s) => ({
    setServerForm: s.setServerForm,
    startServer: s.startServer,
    stopServer: s.stopServer,
  }));
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
          {status.running ? `Serving on ${bind}, offering ${status.patterns.length > 0 ? status.patterns.join(' ') : 'every branch'}` : 'Not serving'}
        </p>
        <div className="form-row">
          <label>
            Listen on
            <input
              value={bind}
              onChange={(e) => setServerForm({ bind: e.target.value })}
              disabled={status.running}
              placeholder="0.0.0.0:4691"
              data-testid="server-bind"
            />
          </label>
          <label className="grow">
            Branches offered (empty: all)
            <input
              value={patterns}
              onChange={(e) => setServerForm({ patterns: e.target.value })}
              disabled={status.running}
              placeholder="org.example.*"
              data-testid="server-patterns"
            />
          </label>
          <button type="submit" className={status.running ? 'danger' : 'primary'} disabled={busy} data-testid="server-toggle">
            {status.running ? 'Stop serving' : 'Start serving'}
          </button>
        </div>
        {status.running && status.identity ? (
          <p className="muted small" data-testid="server-identity">
            Serving as {status.identity.name}. Peers connecting for the first time are shown this fingerprint; read it to them to compare:{' '}
            <Fingerprint value={status.identity.fingerprint} testId="server-fingerprint" />
          </p>
        ) : null}
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
      <PermissionsEditor />
    </section>
  );
}
