/** The collection: branches, a branch's log with signers, a manifest's tree, and checkout. */
import { type FormEvent, useState } from 'react';
import { ErrorLine } from '../components/ErrorLine.js';
import { ManifestTree } from '../components/ManifestTree.js';
import { formatBytes, formatCount, formatDate, plural, shortId } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';

function Branches() {
  const branches = useApp((s) => s.collection.branches);
  const selected = useApp((s) => s.collection.selectedBranch);
  const selectBranch = useApp((s) => s.selectBranch);
  return (
    <section className="card column" aria-labelledby="branches-title">
      <h2 id="branches-title">Branches</h2>
      {branches.length === 0 ? <p className="muted">No branches yet. Commit a folder with “netsync commit DIR --branch NAME”, or sync from a peer.</p> : null}
      <ul className="list" data-testid="branch-list">
        {branches.map((b) => (
          <li key={b.name}>
            <button type="button" className="list-item" aria-current={b.name === selected ? 'true' : undefined} onClick={() => void selectBranch(b.name)} data-testid="branch-item">
              <span className="mono">{b.name}</span>
              <span className="muted small">{plural(b.items, 'item')}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Log() {
  const { log, branch, selected } = useAppShallow((s) => ({ log: s.collection.log, branch: s.collection.selectedBranch, selected: s.collection.selectedManifest }));
  const selectManifest = useApp((s) => s.selectManifest);
  if (!branch) return null;
  return (
    <section className="card column" aria-labelledby="log-title">
      <h2 id="log-title">Log of {branch}</h2>
      <ol className="log" data-testid="log">
        {log.map((e) => {
          const signers = [...new Set(e.certs.map((c) => c.signer))].join(', ');
          return (
            <li key={e.manifest}>
              <button type="button" className="list-item log-entry" aria-current={e.manifest === selected ? 'true' : undefined} onClick={() => void selectManifest(e.manifest)} data-testid="log-entry">
                <span className="log-message">{e.changelog?.split('\n')[0] || 'No message'}</span>
                <span className="muted small">
                  <span className="mono">{shortId(e.manifest)}</span> · {formatDate(e.date)} · signed by {signers || 'nobody'}
                </span>
              </button>
            </li>
          );
        })}
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
        {plural(files.length, 'file')} · {formatBytes(bytes)} · {formatCount(manifest.certs.length)} certs
      </p>
      <ManifestTree entries={manifest.entries} />
      <details className="certs">
        <summary>Certs</summary>
        <table className="table">
          <tbody>
            {manifest.certs.map((c, i) => (
              <tr key={i}>
                <td className="mono">{c.name}</td>
                <td>{c.value}</td>
                <td className="muted">{c.signer}</td>
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

export function CollectionView() {
  const error = useApp((s) => s.collection.error);
  return (
    <section aria-labelledby="collection-title">
      <header className="screen-header">
        <h1 id="collection-title">Collection</h1>
        <p className="muted">What this database holds, branch by branch.</p>
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
