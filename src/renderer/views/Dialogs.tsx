/**
 * The questions the engine asks while a session waits: accept a server met
 * for the first time (its fingerprint, to compare with what its owner reads
 * out), and the passphrase of a locked key.
 */
import { type FormEvent, useEffect, useState } from 'react';
import type { ServerPrompt } from '../../shared/api.js';
import { Dialog } from '../components/Dialog.js';
import { CheckoutDialog, CommitDialog } from './FolderDialogs.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Fingerprint } from '../components/Fingerprint.js';
import { formatDuration } from '../format.js';
import { useApp, useAppShallow } from '../store/context.js';

function useSecondsLeft(until: string): number {
  const end = Date.parse(until);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return Math.max(0, Math.round((end - now) / 1000));
}

function ServerPromptDialog({ prompt }: { prompt: ServerPrompt }) {
  const answerPrompt = useApp((s) => s.answerPrompt);
  const left = useSecondsLeft(prompt.expiresAt);
  return (
    <Dialog title="Is this the right server?" onCancel={() => void answerPrompt(prompt.id, false)} testId="confirm-server">
      <p>
        First contact with <strong>{prompt.peerName}</strong> at <span className="mono">{prompt.address}</span>. It proves who it is with this key fingerprint:
      </p>
      <p className="fingerprint-box">
        <Fingerprint value={prompt.fingerprint} testId="confirm-server-fingerprint" />
      </p>
      <p className="muted small">
        Compare it with the one its owner reads in their Server screen (or from <span className="mono">netsync key fingerprint</span>). If you accept, it is
        pinned for {prompt.address}, and a different key later is refused. Nothing is sent until you answer; with no answer, this refuses in{' '}
        {formatDuration(left * 1000)}.
      </p>
      <div className="actions end">
        <button type="button" onClick={() => void answerPrompt(prompt.id, false)} data-testid="confirm-server-refuse">
          Refuse
        </button>
        <button type="button" className="primary" onClick={() => void answerPrompt(prompt.id, true)} data-autofocus data-testid="confirm-server-accept">
          Accept and connect
        </button>
      </div>
    </Dialog>
  );
}

function PassphraseDialog() {
  const prompt = useApp((s) => s.identity.unlock);
  const { submitPassphrase, cancelUnlock } = useAppShallow((s) => ({ submitPassphrase: s.submitPassphrase, cancelUnlock: s.cancelUnlock }));
  const [passphrase, setPassphrase] = useState('');
  if (!prompt) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await submitPassphrase(passphrase)) setPassphrase('');
  };
  return (
    <Dialog title={`Unlock key ${prompt.key}`} onCancel={cancelUnlock} testId="passphrase">
      <form onSubmit={submit}>
        <p className="muted small">
          This key is sealed with a passphrase. Netsync keeps it unlocked in memory until it quits; the passphrase is never written down.
          {prompt.retry ? ' Then it carries on with what you asked.' : ''}
        </p>
        <label>
          Passphrase
          <input
            type="password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            autoComplete="current-password"
            required
            data-autofocus
            data-testid="passphrase-input"
          />
        </label>
        <ErrorLine message={prompt.error} testId="passphrase-error" />
        <div className="actions end">
          <button type="button" onClick={cancelUnlock}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={prompt.busy || passphrase === ''} data-testid="passphrase-submit">
            {prompt.busy ? 'Unlocking…' : 'Unlock'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Whichever question is open; a first-contact question first (a session is waiting on it). */
export function Dialogs() {
  const prompt = useApp((s) => s.trust.prompts[0]);
  const folders = useApp((s) => s.folders.dialog);
  const unlocking = useApp((s) => s.identity.unlock !== null);
  // A server's question comes first, a passphrase next (a commit may need one), then the folder dialogs.
  if (prompt) return <ServerPromptDialog key={prompt.id} prompt={prompt} />;
  if (unlocking || folders === null) return <PassphraseDialog />;
  return folders === 'commit' ? <CommitDialog /> : <CheckoutDialog />;
}

export function useDialogOpen(): boolean {
  return useApp((s) => s.trust.prompts.length > 0 || s.identity.unlock !== null || s.folders.dialog !== null);
}
