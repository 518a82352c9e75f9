/**
 * The byte-exact examples of the protocol documents, read from the
 * documents themselves and decoded by the code: an example that drifts from
 * the code (the recon examples once kept message version 1 after the grammar
 * moved to 2) fails here, not in a second implementation written from the
 * docs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, decodeMessage } from '../../src/engine/protocol/frames.js';
import { RECON_VERSION, RecordType, decodeReconMessage } from '../../src/engine/recon/messages.js';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');

/** The hex in backquotes right after `after` in the document, spaces and `|` removed; `<16-byte fp>` becomes 16 zero bytes. */
function exampleAfter(text: string, after: string, nth = 0): Buffer {
  let at = text.indexOf(after);
  expect(at, `"${after}" is in the document`).toBeGreaterThanOrEqual(0);
  let code = '';
  for (let i = 0; i <= nth; i++) {
    const open = text.indexOf('`', at);
    const close = text.indexOf('`', open + 1);
    code = text.slice(open + 1, close);
    at = close + 1;
  }
  return Buffer.from(code.replace('<16-byte fp>', '00'.repeat(16)).replace(/[\s|]/g, ''), 'hex');
}

describe('the examples in the docs decode as they say', () => {
  it('PROTOCOL.md: the RECON_PLAN frame is one PLAN for slot 0, depth 3, nodes 5, 7 and 4095, 208 cells, in the current message version', () => {
    const bytes = exampleAfter(doc('PROTOCOL.md'), 'one PLAN for slot 0, depth 3, attempt 0');
    const frames = new FrameDecoder().push(bytes);
    expect(frames).toHaveLength(1);
    const m = decodeMessage(frames[0]!);
    expect(m.type).toBe(FrameType.ReconPlan);
    const payload = (m as { payload: Buffer }).payload;
    expect(payload[0]).toBe(RECON_VERSION);
    expect(decodeReconMessage(payload)).toEqual([{ type: RecordType.Plan, slot: 0, depth: 3, attempt: 0, prefixes: [5, 7, 4095], cells: 208 }]);
  });

  it('protocol-recon.md: the empty message, and the 25-byte up-to-date check of a 1,000,000-id slot', () => {
    const text = doc('protocol-recon.md');
    const empty = exampleAfter(text, 'The empty message is');
    expect(decodeReconMessage(empty)).toEqual([]);
    expect(empty[0]).toBe(RECON_VERSION);
    const root = exampleAfter(text, 'An up-to-date check of one 1,000,000-id slot is the 23-byte');
    const answer = exampleAfter(text, 'An up-to-date check of one 1,000,000-id slot is the 23-byte', 1);
    expect(root.length + answer.length).toBe(25);
    expect(decodeReconMessage(root)).toEqual([{ type: RecordType.Root, slot: 0, count: 1_000_000, fp: Buffer.alloc(16) }]);
    expect(decodeReconMessage(answer)).toEqual([]);
  });
});
