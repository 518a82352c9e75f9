/** Signing keys: which ones this machine holds, and making a new one. */
import { type FormEvent, useState } from 'react';
import { ErrorLine } from '../components/ErrorLine.js';
import { shortId } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';

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

export function IdentityView() {
  const keys = useApp((s) => s.identity.keys);
  return (
    <section aria-labelledby="identity-title">
      <header className="screen-header">
        <h1 id="identity-title">Identity</h1>
        <p className="muted">Keys sign what you commit. Peers see the public half; the private half never leaves this machine.</p>
      </header>
      <div className="card">
        <h2>Keys</h2>
        {keys.length === 0 ? <p className="muted">No keys yet.</p> : null}
        <table className="table" data-testid="key-list">
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-testid="key-row">
                <td>{k.name}</td>
                <td className="mono" title={k.id}>
                  {shortId(k.id)}
                </td>
                <td>
                  {k.hasPrivate ? <span className="badge">private</span> : <span className="badge muted">public only</span>}
                  {k.encrypted ? <span className="badge">passphrase</span> : null}
                  {k.inDatabase ? null : <span className="badge warn">not in database</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <GenerateKey />
    </section>
  );
}
