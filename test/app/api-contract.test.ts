/** The contract's runtime pieces: the list of calls, the adapters built from it, the error codes, the web host's envelopes. */
import { describe, expect, it } from 'vitest';
import { API_METHODS, apiFromInvoker } from '../../src/shared/api-calls.js';
import { argSchemas } from '../../src/shared/api-validate.js';
import { type ApiError, type ApiMethod, err } from '../../src/shared/api.js';
import { readWsHostMessage } from '../../src/shared/webhost.js';

describe('the list of calls', () => {
  it('is the argument schemas, in their order, each call once', () => {
    expect(API_METHODS).toEqual(Object.keys(argSchemas));
    expect(new Set(API_METHODS).size).toBe(API_METHODS.length);
    expect(API_METHODS).toContain('openDatabase');
    expect(API_METHODS).toContain('setPermissions');
  });

  it('builds named calls that pass their own name and arguments, leaving out a trailing undefined', async () => {
    const seen: { method: ApiMethod; args: unknown[] }[] = [];
    const api = apiFromInvoker(async (method, args) => {
      seen.push({ method, args });
      return { ok: true, value: null };
    });
    await api.diffItems('s1', 'weLack', 0, 10, undefined);
    await api.openDatabase(undefined);
    await api.log('org.example.web');
    expect(seen).toEqual([
      { method: 'diffItems', args: ['s1', 'weLack', 0, 10] },
      { method: 'openDatabase', args: [] },
      { method: 'log', args: ['org.example.web'] },
    ]);
  });
});

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

describe("the web host's messages, as the page reads them", () => {
  it('takes responses and events, and nothing else', () => {
    expect(readWsHostMessage('{"id":3,"result":{"ok":true,"value":1}}')).toEqual({ id: 3, result: { ok: true, value: 1 } });
    expect(readWsHostMessage('{"event":{"type":"collection-changed"}}')).toEqual({ event: { type: 'collection-changed' } });
    for (const junk of ['', 'null', '42', '"x"', '{"id":"3","result":{}}', '{"id":3}', '{"event":null}']) expect(readWsHostMessage(junk)).toBeNull();
  });
});
