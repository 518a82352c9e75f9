/** The collection: branches, a branch's log with signers, a manifest's tree, and checkout. */
import { type FormEvent, Fragment, useMemo, useState } from 'react';
import type { CertView, LogEntry } from '../../shared/api.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { ManifestTree } from '../components/ManifestTree.js';
import { SignerMark, UNTRUSTED_MEANING } from '../components/SignerMark.js';
import { formatBytes, formatDate, plural, shortId } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';
import { type Signer, signersOf } from '../store/selectors.js';

function Branches() {
  const branches = useApp((s) => s.collection.branches);
  const selected = useApp((s) => s.collection.selectedBranch);
  const selectBranch = useApp((s) => s.selectBranch);
  return (
    <section className="card column" aria-labelledby="branches-title">
      <h2 id="branches-title">Branches</h2>
      {branches.length === 0 ? <p className="muted">No branches yet. Commit a folder (Commit a folder…), or sync from a peer.</p> : null}
      <ul className="list" data-testid="branch-list">
        {branches.map((b) => (
          <li key={b.name}>
            <button
              type="button"
              className="list-item"
              aria-current={b.name === selected ? 'true' : undefined}
              onClick={() => void selectBranch(b.name)}
              data-testid="branch-item"
            >
              <span className="mono">{b.name}</span>
              <span className="muted small">
                {plural(b.items, 'item')}
                {(b.heads ?? 1) > 1 ? (
                  <>
                    {' · '}
                    <span className="badge warn" data-testid="branch-heads">
                      {b.heads} heads
                    </span>
                  </>
                ) : null}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** `alice, bob [untrusted]`: each signer of an entry once, marked when the user does not trust its key. */
function SignedBy({ entry }: { entry: LogEntry }) {
  const signers = signersOf(entry.certs, []);
  if (signers.length === 0) return <>nobody</>;
  return (
    <>
      {signers.map((s, i) => (
        <Fragment key={s.keyId}>
          {i > 0 ? ', ' : null}
          {s.name}
          {s.trusted ? null : <SignerMark trusted={false} />}
        </Fragment>
      ))}
    </>
  );
}

function Log() {
  const { log, branch, selected } = useAppShallow((s) => ({
    log: s.collection.log,
    branch: s.collection.selectedBranch,
    selected: s.collection.selectedManifest,
  }));
  const selectManifest = useApp((s) => s.selectManifest);
  const merge = useApp((s) => s.merge);
  const merging = useAppShallow((s) => s.collection.merge);
  if (!branch) return null;
  const heads = log.filter((e) => e.head).length;
  const outcome = merging.result?.branch === branch ? merging.result : null;
  return (
    <section className="card column" aria-labelledby="log-title">
      <h2 id="log-title">Log of {branch}</h2>
      {heads > 1 ? (
        <p className="warn-line" role="status" data-testid="log-forked">
          {branch} has {heads} heads, versions committed concurrently (marked “head” below): nothing was lost, and netsync merge {branch} joins them.{' '}
          <button type="button" onClick={() => void merge(branch)} disabled={merging.busy} data-testid="merge-heads">
            {merging.busy ? 'Merging…' : heads > 2 ? 'Merge the two newest' : 'Merge'}
          </button>
        </p>
      ) : null}
      {outcome?.revision ? (
        <p className="ok-line" role="status" data-testid="merge-result">
          Merged into {shortId(outcome.revision)}, signed with your key; {branch} now has {plural(outcome.heads, 'head')}.
        </p>
      ) : null}
      {outcome && !outcome.revision ? (
        <div className="warn-line" role="status" data-testid="merge-conflicts">
          <p>
            Not merged: {plural(outcome.conflicts.length, 'conflict')}, so nothing was committed. Resolve them with netsync merge {branch} --into DIR, then
            commit DIR.
          </p>
          <ul>
            {outcome.conflicts.map((c) => (
              <li key={`${c.kind} ${c.path}`} className="mono">
                {c.kind}: {c.path}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {merging.error ? (
        <p className="error-line" role="alert" data-testid="merge-error">
          {merging.error}
        </p>
      ) : null}
      <ol className="log" data-testid="log">
        {log.map((e) => (
          <li key={e.manifest}>
            <button
              type="button"
              className="list-item log-entry"
              aria-current={e.manifest === selected ? 'true' : undefined}
              onClick={() => void selectManifest(e.manifest)}
              data-testid="log-entry"
            >
              <span className="log-message">{e.changelog?.split('\n')[0] || 'No message'}</span>
              <span className="muted small">
                <span className="mono">{shortId(e.manifest)}</span>
                {e.head && heads > 1 ? (
                  <>
                    {' '}
                    <span className="badge" data-testid="log-head">
                      head
                    </span>
                  </>
                ) : null}{' '}
                · {formatDate(e.date)} · signed by <SignedBy entry={e} />
              </span>
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Checkout({ target }: { target: string }) {
  const { busy, result, error } = useAppShallow((s) => s.collection.checkout);
  const checkout = useApp((s) => s.checkout);
  const [dir, setDir] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void checkout(target, dir.trim());
  };
  return (
    <form className="form-row" onSubmit={submit} aria-label="Check out">
      <label className="grow">
        Check out into folder (absolute path, new or empty)
        <input value={dir} onChange={(e) => setDir(e.target.value)} placeholder="/home/me/checkout" required data-testid="checkout-dir" />
      </label>
      <button type="submit" disabled={busy} data-testid="checkout-submit">
        {busy ? 'Checking out…' : 'Check out'}
      </button>
      {result ? (
        <p className="ok-line" role="status" data-testid="checkout-result">
          Wrote {plural(result.files, 'file')} and {plural(result.dirs, 'folder')} ({formatBytes(result.bytes)}) to {result.dir}.
        </p>
      ) : null}
      <ErrorLine message={error} testId="checkout-error" />
    </form>
  );
}

/** What the user can do about a signer's key: trust it, stop trusting it, or (unknown key) import it first. */
function TrustAction({ signer }: { signer: Signer }) {
  const busy = useApp((s) => s.signers.busyKey === signer.keyId);
  const setKeyTrust = useApp((s) => s.setKeyTrust);
  if (signer.own) return null;
  if (signer.trusted) {
    return (
      <button type="button" className="quiet" disabled={busy} onClick={() => void setKeyTrust(signer.keyId, false)} data-testid="untrust-key">
        Stop trusting
      </button>
    );
  }
  if (signer.name === '?') return <span className="muted small">Key not in this database: import it in Identity to trust it.</span>;
  return (
    <button type="button" disabled={busy} onClick={() => void setKeyTrust(signer.keyId, true)} data-testid="trust-key">
      Trust this key
    </button>
  );
}

/** Who signed the manifest's certs, whether the user trusts each key, and the way to change that. */
function Signers({ certs }: { certs: CertView[] }) {
  const keys = useApp((s) => s.identity.keys);
  const error = useApp((s) => s.signers.error);
  const signers = useMemo(() => signersOf(certs, keys), [certs, keys]);
  if (signers.length === 0) return null;
  return (
    <div className="signers">
      <h3>Signed by</h3>
      <ul className="signer-list" data-testid="signers">
        {signers.map((s) => (
          <li key={s.keyId} className="signer" data-testid="signer">
            <span>
              {s.name}
              <SignerMark trusted={s.trusted} own={s.own} />
            </span>
            <span className="mono muted small" title={`key item ${s.keyId}`}>
              key {shortId(s.keyId)}
            </span>
            <span className="muted small grow">{s.certs.join(', ')}</span>
            <TrustAction signer={s} />
          </li>
        ))}
      </ul>
      {signers.some((s) => !s.trusted) ? <p className="muted small">Untrusted: {UNTRUSTED_MEANING.toLowerCase()} Trust is kept on this machine only.</p> : null}
      <ErrorLine message={error} testId="signer-error" />
    </div>
  );
}

function Manifest() {
  const manifest = useApp((s) => s.collection.manifest);
  if (!manifest) return null;
  const files = manifest.entries.filter((e) => e.type !== 'dir');
  const bytes = files.reduce((n, e) => n + (e.size ?? 0), 0);
  return (
    <section className="card column wide" aria-labelledby="manifest-title">
      <h2 id="manifest-title">
        Manifest <span className="mono">{shortId(manifest.id)}</span>
      </h2>
      <p className="muted small">
        {plural(files.length, 'file')} · {formatBytes(bytes)} · {plural(manifest.certs.length, 'cert')}
      </p>
      <ManifestTree entries={manifest.entries} />
      <Signers certs={manifest.certs} />
      <details className="certs">
        <summary>Certs</summary>
        <table className="table">
          <tbody>
            {manifest.certs.map((c, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a cert list never reorders; two certs may share name and value
              <tr key={i}>
                <td className="mono">{c.name}</td>
                <td>{c.value}</td>
                <td className="muted">
                  {c.signer}
                  {c.trusted ? null : <SignerMark trusted={false} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <Checkout target={manifest.id} />
    </section>
  );
}

function OpenDatabase() {
  const openDatabase = useApp((s) => s.openDatabase);
  const [path, setPath] = useState('');
  return (
    <form
      className="form-row"
      aria-label="Open a database"
      onSubmit={(e) => {
        e.preventDefault();
        void openDatabase(path.trim() || undefined);
      }}
    >
      <label className="grow">
        Open another database (created when missing)
        <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="/path/to/netsync.db" data-testid="open-db-path" />
      </label>
      <button type="submit">Open</button>
    </form>
  );
}

function FolderActions() {
  const open = useApp((s) => s.openFolderDialog);
  const canCheckOut = useApp((s) => s.collection.selectedManifest !== null || s.collection.selectedBranch !== null);
  return (
    <div className="actions">
      <button type="button" onClick={() => open('commit')} data-testid="open-commit">
        Commit a folder…
      </button>
      <button type="button" onClick={() => open('checkout')} disabled={!canCheckOut} data-testid="open-checkout">
        Check out to a folder…
      </button>
    </div>
  );
}

export function CollectionView() {
  const error = useApp((s) => s.collection.error);
  return (
    <section aria-labelledby="collection-title">
      <header className="screen-header with-actions">
        <div>
          <h1 id="collection-title">Collection</h1>
          <p className="muted">What this database holds, branch by branch.</p>
        </div>
        <FolderActions />
      </header>
      <ErrorLine message={error} testId="collection-error" />
      <div className="columns">
        <Branches />
        <Log />
        <Manifest />
      </div>
      <details className="card">
        <summary>Database</summary>
        <OpenDatabase />
      </details>
    </section>
  );
}
