/**
 * What a checkout refuses before it writes anything: two paths of a tree
 * that one file system would take for one file (case-insensitive or
 * Unicode-normalising: git's CVE-2021-21300 class), and on Windows names
 * it cannot hold (git's CVE-2019-1353/1354 class).
 */
import { describe, expect, it } from 'vitest';
import { collision, windowsNameProblem } from '../../src/engine/workspace/checkout.js';

const folding = { caseFolds: true, normalises: false };
const normalising = { caseFolds: false, normalises: true };
const plain = { caseFolds: false, normalises: false };

describe('paths that land on one file', () => {
  it('a case-insensitive system: README and readme, a link A and a folder a', () => {
    expect(collision(['README', 'docs', 'readme'], folding)).toEqual(['README', 'readme']);
    expect(collision(['A', 'a', 'a/hooks/post-checkout'], folding)).toEqual(['A', 'a']);
    expect(collision(['README', 'readme'], plain)).toBeNull();
  });

  it('a normalising system: é composed and decomposed', () => {
    expect(collision(['caf\u00e9', 'cafe\u0301'], normalising)).toEqual(['caf\u00e9', 'cafe\u0301']);
    expect(collision(['caf\u00e9', 'cafe\u0301'], folding)).toBeNull();
    expect(collision(['caf\u00e9.txt', 'cafe.txt'], { caseFolds: true, normalises: true })).toBeNull();
  });
});

describe('names Windows cannot hold', () => {
  it('reserved device names with any extension, its forbidden characters, a trailing dot or space', () => {
    for (const name of ['CON', 'con.txt', 'nul', 'COM1', 'lpt9.log', 'aux.tar.gz']) expect(windowsNameProblem(name), name).toMatch(/reserves for a device/);
    for (const name of ['a\\b', 'c:', 'x<y', 'q?', 'star*', 'pipe|', 'tab\there']) expect(windowsNameProblem(name), name).toMatch(/does not allow/);
    for (const name of ['trailing.', 'space ']) expect(windowsNameProblem(name), name).toMatch(/dot or a space/);
    for (const name of ['console', 'CONFIG.sys', 'com10', 'readme.md', '.git-like']) expect(windowsNameProblem(name), name).toBeNull();
  });
});
