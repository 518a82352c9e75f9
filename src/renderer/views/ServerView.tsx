/**
 * Serving: one click to let peers sync with this database, and who may read
 * and write what. The form shows what the running server really uses (after
 * a reload too); a rule names a key picked from the keys known here or a
 * pasted fingerprint.
 */
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import type { KnownKey } from '../../shared/api.js';
import { formatFingerprint, parseFingerprint } from '../../shared/fingerprint.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Fingerprint } from '../components/Fingerprint.js';
import { formatCount, formatDate, formatWhen } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';
import { splitPatterns } from '../store/slices/server.js';

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

/** WHO choices beside the known keys. */
const ANY_KEY = '*';
const ANONYMOUS = 'anonymous';
const PASTE = 'paste';

/** A key as the picker names it: its name (or that it is a client), and enough of its fingerprint to tell it apart. */
function keyLabel(k: KnownKey): string {
  const fp = k.fingerprint.split(' ');
  const short = `${fp.slice(0, 2).join(' ')} … ${fp[fp.length - 1]}`;
  if (k.name) return `${k.name} (${short})`;
  return `client last seen ${k.lastSeen ? formatWhen(k.lastSeen) : 'earlier'} (${short})`;
}

const GROUPS: { source: KnownKey['sources'][number]; label: string }[] = [
  { source: 'own', label: 'Your keys' },
  { source: 'database', label: 'Keys in this database' },
  { source: 'client', label: 'Clients that connected here' },
];

/** The rule's lines: a comment naming the key when it has a name, then the rule (read and write are two rules). */
function ruleLines(access: 'read' | 'write', who: string, patterns: string[], name: string | null): string[] {
  const comment = name ? [`# ${name}`] : [];
  const rules = access === 'read' ? [`read ${who} ${patterns.join(' ')}`] : [`read ${who} ${patterns.join(' ')}`, `write ${who} ${patterns.join(' ')}`];
  return [...comment, ...rules];
}

/**
 * Adds a rule to the text being edited, its WHO picked from the keys known
 * here (the user's own, the database's, clients that connected to this
 * server) or pasted; saving is still the editor's Save.
 */
function RuleBuilder({ onAdd }: { onAdd: (lines: string[]) => void }) {
  const knownKeys = useApp((s) => s.server.knownKeys);
  const [access, setAccess] = useState<'read' | 'write'>('read');
  const [who, setWho] = useState(ANY_KEY);
  const [pasted, setPasted] = useState('');
  const [patterns, setPatterns] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const problemId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const branches = splitPatterns(patterns);
    const fingerprint = who === PASTE ? parseFingerprint(pasted) : null;
    if (who === PASTE && !fingerprint)
      return setProblem(`The fingerprint "${pasted.trim()}" is not 64 hex digits; paste all 16 groups of 4, as the key's owner reads them.`);
    if (branches.length === 0) return setProblem('No branch is named; type the branches the rule grants, such as org.example.*');
    const known = knownKeys.find((k) => k.fingerprint === who);
    onAdd(ruleLines(access, fingerprint ? formatFingerprint(fingerprint) : who, branches, known?.name ?? null));
    setProblem(null);
    setPasted('');
  };
  return (
    <form className="rule-builder" onSubmit={submit} aria-label="Add a rule" data-testid="rule-builder">
      <label>
        Grant
        <select value={access} onChange={(e) => setAccess(e.target.value as 'read' | 'write')} data-testid="rule-access">
          <option value="read">read</option>
          <option value="write">read and write</option>
        </select>
      </label>
      <label className="grow">
        To
        <select value={who} onChange={(e) => setWho(e.target.value)} data-testid="rule-who">
          <option value={ANY_KEY}>any client with a key (*)</option>
          <option value={ANONYMOUS}>anonymous clients</option>
          {GROUPS.map((g) => {
            const keys = knownKeys.filter((k) => k.sources[0] === g.source);
            return keys.length === 0 ? null : (
              <optgroup key={g.source} label={g.label}>
                {keys.map((k) => (
                  <option key={k.fingerprint} value={k.fingerprint}>
                    {keyLabel(k)}
                  </option>
                ))}
              </optgroup>
            );
          })}
          <option value={PASTE}>a pasted fingerprint…</option>
        </select>
      </label>
      {who === PASTE ? (
        <label className="grow">
          Fingerprint
          <input
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
            placeholder="3f2a 9b01 … (16 groups of 4)"
            className="mono"
            aria-describedby={problem ? problemId : undefined}
            data-testid="rule-fingerprint"
          />
        </label>
      ) : null}
      <label className="grow">
        Branches
        <input value={patterns} onChange={(e) => setPatterns(e.target.value)} placeholder="org.example.*" data-testid="rule-patterns" />
      </label>
      <button type="submit" data-testid="rule-add">
        Add rule
      </button>
      {problem ? (
        <p id={problemId} className="error-line" role="alert" data-testid="rule-problem">
          {problem}
        </p>
      ) : null}
    </form>
  );
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
