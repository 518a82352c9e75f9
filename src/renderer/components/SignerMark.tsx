/**
 * How a signer's trust reads wherever a signer is shown: a text badge (its
 * word is the label; the tooltip says what it means). Untrusted is not
 * invalid: every stored cert's signature verified.
 */
export const UNTRUSTED_MEANING = 'Valid signature, but you have not chosen to trust this key.';

export function SignerMark({ trusted, own = false }: { trusted: boolean; own?: boolean }) {
  if (!trusted) {
    return (
      <span className="badge warn" title={UNTRUSTED_MEANING} data-testid="untrusted-mark">
        untrusted
      </span>
    );
  }
  return own ? (
    <span className="badge ok" title="One of your own keys: always trusted.">
      yours
    </span>
  ) : (
    <span className="badge ok" title="You chose to trust this key's signatures on this machine.">
      trusted
    </span>
  );
}
