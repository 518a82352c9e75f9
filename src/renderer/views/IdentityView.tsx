/**
 * Who we are: the key sessions run as (or anonymous), each key's fingerprint
 * to share, unlocking a key sealed with a passphrase, making a key,
 * importing someone's public key, and whose signatures we trust.
 */
import { type FormEvent, Fragment, type ReactNode, useEffect, useState } from 'react';
import type { IdentityChoice, KeyInfo } from '../../shared/api.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Fingerprint } from '../components/Fingerprint.js';
import { SignerMark } from '../components/SignerMark.js';
import { shortId } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';

function sameChoice(a: IdentityChoice | null | undefined, b: IdentityChoice): boolean {
  return !!a && a.kind === b.kind && (a.kind === 'anonymous' || (b.kind === 'key' && a.name === b.name));
}

function ActiveIdentity() {
  const { keys, status, error } = useAppShallow((s) => ({ keys: s.identity.keys, status: s.identity.status, error: s.identity.error }));
  const { chooseIdentity, requestUnlock } = useAppShallow((s) => ({ chooseIdentity: s.chooseIdentity, requestUnlock: s.requestUnlock }));
  const own = keys.filter((k) => k.hasPrivate);
  const active = status?.active;
  const unlocked = new Set(status?.unlocked ?? []);
  const option = (choice: IdentityChoice, label: string, detail: ReactNode, key?: KeyInfo) => (
    <div className="choice" key={choice.kind === 'key' ? choice.name : 'anonymous'} data-testid="identity-option">
      <label className="choice-label">
        <input
          type="radio"
          name="identity"
          checked={sameChoice(active, choice)}
          onChange={() => void chooseIdentity(choice)}
          data-testid={`identity-${choice.kind === 'key' ? choice.name : 'anonymous'}`}
        />
        <span className="choice-body">
          <span className="choice-title">
            {label}
            {key?.encrypted ? <span className="badge">{unlocked.has(key.name) ? 'unlocked' : 'passphrase'}</span> : null}
          </span>
          <span className="muted small">{detail}</span>
        </span>
      </label>
      {key?.encrypted && !unlocked.has(key.name) ? (
        <button type="button" onClick={() => requestUnlock(key.name)} data-testid={`unlock-${key.name}`}>
          Unlock…
        </button>
      ) : null}
    </div>
  );
  return (
    <fieldset className="card" data-testid="identity-active">
      <legend>
        <h2>Who you are to servers</h2>
      </legend>
      <p className="muted small">
        Syncs and diffs present this key; a server's permissions decide what it may read and write. The server you run from the Server screen proves it is this
        key too
        {active?.kind === 'anonymous' ? ' (or, with Anonymous chosen, your only key)' : ''}. Remembered across restarts.
      </p>
      {status && !active ? (
        <p className="warn-line" role="status" data-testid="identity-choose">
          Several keys exist: choose the one to use.
        </p>
      ) : null}
      <div className="choices" role="radiogroup" aria-label="Identity for sessions">
        {own.map((k) => option({ kind: 'key', name: k.name }, k.name, <Fingerprint value={k.fingerprint} />, k))}
        {option({ kind: 'anonymous' }, 'Anonymous', 'Connect without a key: servers treat you as "anonymous". A server still needs a key.')}
      </div>
      <ErrorLine message={error} testId="identity-error" />
    </fieldset>
  );
}

/** The exported line, whole and wrapped (a field cut to its width would hide most of it), with a copy button. */
function ShareKey({ k }: { k: KeyInfo }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(k.exportText);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard here: the text is selectable below
    }
  };
  return (
    <details className="share">
      <summary>Share {k.name}</summary>
      <p className="small muted">Give this line to others (they import it here or with "netsync key import"), and read them the fingerprint to compare.</p>
      <div className="form-row">
        <textarea
          className="grow mono export-line"
          readOnly
          rows={2}
          value={k.exportText}
          onFocus={(e) => e.currentTarget.select()}
          aria-label={`Public key of ${k.name}`}
          data-testid="key-export"
        />
        <button type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </details>
  );
}

/** Someone else's key: whether certs it signs show as trusted, and the switch (the user's own keys always are). */
function KeyTrust({ k }: { k: KeyInfo }) {
  const busy = useApp((s) => s.signers.busyKey === k.id);
  const setKeyTrust = useApp((s) => s.setKeyTrust);
  return (
    <>
      <SignerMark trusted={k.trusted} own={k.hasPrivate} />
      {k.hasPrivate ? null : (
        <div>
          <button
            type="button"
            className={k.trusted ? 'quiet' : undefined}
            disabled={busy}
            onClick={() => void setKeyTrust(k.id, !k.trusted)}
            data-testid={k.trusted ? 'untrust-key' : 'trust-key'}
          >
            {k.trusted ? 'Stop trusting' : 'Trust this key'}
          </button>
        </div>
      )}
    </>
  );
}

function KeyList() {
  const keys = useApp((s) => s.identity.keys);
  const trustError = useApp((s) => s.signers.error);
  const loadKeys = useApp((s) => s.loadKeys);
  // Public keys live in the database, which a sync or the command line may have changed since the page loaded.
  useEffect(() => {
    void loadKeys();
  }, [loadKeys]);
  return (
    <div className="card keys">
      <h2>Keys</h2>
      {keys.length === 0 ? <p className="muted">No keys yet.</p> : null}
      <table className="table key-table" data-testid="key-list">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Fingerprint</th>
            <th scope="col">Signatures</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <Fragment key={k.id}>
              <tr data-testid="key-row">
                <td>
                  {k.name}
                  <div className="muted small mono" title={`key item ${k.id}`}>
                    id {shortId(k.id)}
                  </div>
                  <div className="badges">
                    {k.hasPrivate ? <span className="badge">private</span> : <span className="badge muted">public only</span>}
                    {k.encrypted ? <span className="badge">passphrase</span> : null}
                    {k.inDatabase ? null : <span className="badge warn">not in database</span>}
                  </div>
                </td>
                <td>
                  <Fingerprint value={k.fingerprint} testId="key-fingerprint" />
                </td>
                <td>
                  <KeyTrust k={k} />
                </td>
              </tr>
              {k.hasPrivate ? (
                <tr className="share-row" data-testid="key-share">
                  <td colSpan={3}>
                    <ShareKey k={k} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </tbody>
      </table>
      <ErrorLine message={trustError} testId="key-trust-error" />
    </div>
  );
}

function GenerateKey() {
  const { busy, error, generated } = useAppShallow((s) => ({ busy: s.identity.busy, error: s.identity.error, generated: s.identity.generated }));
  const generateKey = useApp((s) => s.generateKey);
  const [name, setName] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await generateKey(name.trim(), passphrase)) {
      setName('');
      setPassphrase('');
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Generate a key">
      <h2>New signing key</h2>
      <div className="form-row">
        <label className="grow">
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="alice@example.org" required data-testid="key-name" />
        </label>
        <label className="grow">
          Passphrase (optional)
          <input type="password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} autoComplete="new-password" data-testid="key-passphrase" />
        </label>
        <button type="submit" className="primary" disabled={busy} data-testid="key-generate">
          {busy ? 'Generating…' : 'Generate'}
        </button>
      </div>
      {generated ? (
        <p className="ok-line" role="status" data-testid="key-generated">
          Made key {generated.name} ({shortId(generated.id)}). Its private half stays on this machine.
        </p>
      ) : null}
      <ErrorLine message={error} testId="key-error" />
    </form>
  );
}

function ImportKey() {
  const { imported, importError } = useAppShallow((s) => ({ imported: s.identity.imported, importError: s.identity.importError }));
  const importKey = useApp((s) => s.importKey);
  const [text, setText] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await importKey(text)) setText('');
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Import a public key">
      <h2>Import someone's public key</h2>
      <div className="form-row">
        <label className="grow">
          Their exported line
          <input
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="netsync-public-key-v1 bob@example.org BASE64…"
            required
            className="mono"
            data-testid="import-text"
          />
        </label>
        <button type="submit" data-testid="import-submit">
          Import
        </button>
      </div>
      {imported ? (
        <p className="ok-line" role="status" data-testid="key-imported">
          Imported {imported.name}; compare its fingerprint <Fingerprint value={imported.fingerprint} /> with its owner.
        </p>
      ) : null}
      <ErrorLine message={importError} testId="import-error" />
    </form>
  );
}

export function IdentityView() {
  return (
    <section aria-labelledby="identity-title">
      <header className="screen-header">
        <h1 id="identity-title">Identity</h1>
        <p className="muted">
          Keys sign what you commit and prove who you are to servers. Peers see the public half; the private half never leaves this machine.
        </p>
      </header>
      <ActiveIdentity />
      <KeyList />
      <GenerateKey />
      <ImportKey />
    </section>
  );
}
