/** The contract's runtime pieces: the list of calls, the adapters built from it, the error codes, the web host's envelopes. */
import { describe, expect, it } from 'vitest';
import { type ApiError, err } from '../../src/shared/api.js';

describe('error codes', () => {
  it('are a closed list: a typo fails type-checking wherever a code is made or compared', () => {
    const error: ApiError = { code: 'key-locked', message: 'Key "alice" is protected by a passphrase.', key: 'alice' };
    // @ts-expect-error 'key-lokced' is not an ApiErrorCode, so this comparison does not compile
    const typo = error.code === 'key-lokced';
    expect(typo).toBe(false);
    // @ts-expect-error nor can err() make a code that is not in the list
    expect(err('boom', 'It broke.')).toEqual({ ok: false, error: { code: 'boom', message: 'It broke.' } });
  });
});
