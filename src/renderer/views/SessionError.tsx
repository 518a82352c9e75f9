/**
 * A failed session's sentence, with the way out when there is one: the
 * passphrase of a locked key, a key to choose, or (after checking with the
 * server's owner) trusting a server's new key.
 */
import { useState } from 'react';
import type { ApiError, ServerKeyChange } from '../../shared/api.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Fingerprint } from '../components/Fingerprint.js';
import { useApp } from '../store/context.js';

function KeyChanged({ peerId, change }: { peerId: string; change: ServerKeyChange }) {
  const trustNewKey = useApp((s) => s.trustNewKey);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  return (
    <div className="key-changed" data-testid="key-changed">
      <dl className="fingerprints">
        <dt>Pinned for {change.address}</dt>
        <dd>
          <Fingerprint value={change.pinned} />
        </dd>
        <dt>Presented now</dt>
        <dd>
          <Fingerprint value={change.presented} testId="key-changed-new" />
        </dd>
      </dl>
      {confirming ? (
        <div className="actions">
          <span className="small">Only if the server's owner read you this new fingerprint:</span>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              await trustNewKey(peerId, change);
              setBusy(false);
              setConfirming(false);
            }}
            data-testid="trust-new-key-confirm"
          >
            Trust the new key and connect
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep refusing
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => setConfirming(true)} data-testid="trust-new-key">
          Trust the new key…
        </button>
      )}
    </div>
  );
}

export function SessionError({ peerId, error, testId }: { peerId: string; error: ApiError | undefined; testId?: string }) {
  const requestUnlock = useApp((s) => s.requestUnlock);
  const navigate = useApp((s) => s.navigate);
  if (!error) return null;
  return (
    <>
      <ErrorLine message={error.message} testId={testId} />
      {error.code === 'key-locked' && error.key ? (
        <button type="button" className="self-start" onClick={() => requestUnlock(error.key!, { kind: 'diff', peerId })}>
          Enter the passphrase…
        </button>
      ) : null}
      {error.code === 'identity-required' ? (
        <button type="button" className="self-start" onClick={() => navigate('identity')} data-testid="choose-identity">
          Choose a key
        </button>
      ) : null}
      {error.code === 'server-key-changed' && error.serverKey ? <KeyChanged peerId={peerId} change={error.serverKey} /> : null}
    </>
  );
}
