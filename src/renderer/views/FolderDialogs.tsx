/**
 * "Commit a folder…" and "Check out to a folder…" from the Collection
 * screen. A commit is previewed first (added, changed, removed, with sizes,
 * against the branch's head) and made only for the folder and branch
 * previewed, signed by the active identity's key.
 */
import { type FormEvent, useState } from 'react';
import type { CommitPreview, PreviewEntry } from '../../shared/api.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { formatBytes, plural, shortId } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';

/** A folder path: typed, or chosen with the system's picker where the host has one. */
function FolderField({
  label,
  value,
  onChange,
  testId,
  pickTitle,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  testId: string;
  pickTitle: string;
}) {
  const picker = useApp((s) => s.folders.folderPicker);
  const pickFolder = useApp((s) => s.pickFolder);
  return (
    <div className="form-row">
      <label className="grow">
        {label}
        <input value={value} onChange={(e) => onChange(e.target.value)} placeholder="/home/me/project" required data-testid={testId} data-autofocus />
      </label>
      {picker ? (
        <button
          type="button"
          onClick={async () => {
            const dir = await pickFolder(pickTitle);
            if (dir) onChange(dir);
          }}
          data-testid={`${testId}-pick`}
        >
          Choose…
        </button>
      ) : null}
    </div>
  );
}

const TYPE_WORD: Record<PreviewEntry['type'], string> = { file: '', exec: ' (executable)', dir: ' (folder)' };

function ChangeList({ title, entries, total, testId }: { title: string; entries: PreviewEntry[]; total: number; testId: string }) {
  if (total === 0) return null;
  return (
    <details open={total <= 20} className="preview-list">
      <summary>
        {title}: {total}
      </summary>
      <ul data-testid={testId}>
        {entries.map((e) => (
          <li key={e.path}>
            <span className="mono">{e.path}</span>
            <span className="muted small">
              {TYPE_WORD[e.type]}
              {e.type === 'dir' ? '' : ` ${e.before !== undefined ? `${formatBytes(e.before)} → ` : ''}${formatBytes(e.size)}`}
            </span>
          </li>
        ))}
        {total > entries.length ? <li className="muted small">… and {total - entries.length} more</li> : null}
      </ul>
    </details>
  );
}

function PreviewSummary({ preview }: { preview: CommitPreview }) {
  const { counts } = preview;
  const nothing = counts.added + counts.changed + counts.removed === 0 && preview.base !== null;
  return (
    <div className="column" data-testid="commit-preview">
      <p role="status">
        {preview.base === null ? `A new branch ${preview.branch}: ` : `Against the head of ${preview.branch} (${shortId(preview.base)}): `}
        {nothing
          ? 'nothing changed; committing would write nothing.'
          : `${counts.added} added, ${counts.changed} changed, ${counts.removed} removed, ${counts.unchanged} unchanged.`}{' '}
        The folder holds {plural(preview.files, 'file')} ({formatBytes(preview.bytes)}).
      </p>
      {preview.heads > 1 ? (
        <p className="muted small">The branch has {preview.heads} heads: this commit names each as its ancestor, so it joins them.</p>
      ) : null}
      <ChangeList title="Added" entries={preview.added} total={counts.added} testId="preview-added" />
      <ChangeList title="Changed" entries={preview.changed} total={counts.changed} testId="preview-changed" />
      <ChangeList title="Removed" entries={preview.removed} total={counts.removed} testId="preview-removed" />
    </div>
  );
}

export function CommitDialog() {
  const { preview, committed, busy, error } = useAppShallow((s) => ({
    preview: s.folders.preview,
    committed: s.folders.committed,
    busy: s.folders.busy,
    error: s.folders.error,
  }));
  const selected = useApp((s) => s.collection.selectedBranch);
  const branches = useApp((s) => s.collection.branches);
  const identity = useApp((s) => s.identity.status?.active);
  const { previewCommit, commitFolder, closeFolderDialog } = useAppShallow((s) => ({
    previewCommit: s.previewCommit,
    commitFolder: s.commitFolder,
    closeFolderDialog: s.closeFolderDialog,
  }));
  const [dir, setDir] = useState('');
  const [branch, setBranch] = useState(selected ?? '');
  const [message, setMessage] = useState('');
  // A commit is offered only for the folder and branch the preview is of.
  const current = preview !== null && preview.dir === dir.trim() && preview.branch === branch.trim();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (current) void commitFolder(message);
    else void previewCommit(dir.trim(), branch.trim());
  };
  const signer = identity?.kind === 'key' ? identity.name : null;
  return (
    <Dialog title="Commit a folder" onCancel={closeFolderDialog} testId="commit-dialog">
      <form className="column" onSubmit={submit} aria-label="Commit a folder">
        <FolderField label="Folder (absolute path)" value={dir} onChange={setDir} testId="commit-dir" pickTitle="Folder to commit" />
        <label>
          Branch
          <input
            value={branch}
            onChange={(e) => setBranch(e.target.value)}
            list="commit-branches"
            placeholder="org.example.project"
            required
            data-testid="commit-branch"
          />
          <datalist id="commit-branches">
            {branches.map((b) => (
              <option key={b.name} value={b.name} />
            ))}
          </datalist>
        </label>
        {current ? <PreviewSummary preview={preview} /> : null}
        {current ? (
          <label>
            Message
            <textarea value={message} onChange={(e) => setMessage(e.target.value)} rows={3} data-testid="commit-message" />
          </label>
        ) : null}
        {current ? <p className="muted small">{signer ? `Signed by ${signer}.` : 'Signed by the key chosen in Identity.'}</p> : null}
        {committed ? (
          <p className="ok-line" role="status" data-testid="commit-result">
            {committed.changed
              ? `Committed ${plural(committed.files, 'file')} (${formatBytes(committed.bytes)}) to ${committed.branch} as ${shortId(committed.manifest)}, signed by ${committed.signer}.`
              : `Nothing changed: ${committed.branch}'s head already is this folder (${shortId(committed.manifest)}).`}
          </p>
        ) : null}
        <ErrorLine message={error} testId="commit-error" />
        <div className="form-row">
          <button type="submit" disabled={busy !== null} data-testid={current ? 'commit-submit' : 'commit-preview-submit'}>
            {busy === 'preview' ? 'Looking…' : busy === 'commit' ? 'Committing…' : current ? 'Commit' : 'Preview changes'}
          </button>
          <button type="button" className="quiet" onClick={closeFolderDialog} data-testid="commit-close">
            {committed ? 'Close' : 'Cancel'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function CheckoutDialog() {
  const target = useApp((s) => s.collection.selectedManifest ?? s.collection.selectedBranch);
  const { busy, result, error } = useAppShallow((s) => s.collection.checkout);
  const pickError = useApp((s) => s.folders.error);
  const checkout = useApp((s) => s.checkout);
  const close = useApp((s) => s.closeFolderDialog);
  const [dir, setDir] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (target) void checkout(target, dir.trim());
  };
  return (
    <Dialog title="Check out to a folder" onCancel={close} testId="checkout-dialog">
      <form className="column" onSubmit={submit} aria-label="Check out to a folder">
        <p>
          {target ? (
            <>
              Writes <span className="mono">{target.length === 64 ? shortId(target) : target}</span> into a new or empty folder.
            </>
          ) : (
            'Choose a branch or a version in the log first.'
          )}
        </p>
        <FolderField
          label="Folder (absolute path, new or empty)"
          value={dir}
          onChange={setDir}
          testId="checkout-dialog-dir"
          pickTitle="Folder to check out into"
        />
        {result ? (
          <p className="ok-line" role="status" data-testid="checkout-dialog-result">
            Wrote {plural(result.files, 'file')} and {plural(result.dirs, 'folder')} ({formatBytes(result.bytes)}) to {result.dir}.
          </p>
        ) : null}
        <ErrorLine message={error ?? pickError} testId="checkout-dialog-error" />
        <div className="form-row">
          <button type="submit" disabled={busy || !target} data-testid="checkout-dialog-submit">
            {busy ? 'Checking out…' : 'Check out'}
          </button>
          <button type="button" className="quiet" onClick={close}>
            {result ? 'Close' : 'Cancel'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
