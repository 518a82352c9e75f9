/**
 * The rooms of the house (the folder map at the top of docs/ARCHITECTURE.md), checked: each folder imports only
 * what its runtime has, and inside the engine each folder only the folders
 * below it (docs/ARCHITECTURE.md). Test files are exempt (they run under
 * Node in vitest).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const NODE = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const UI = ['react', 'react-dom', 'zustand'];

function sources(dir: string): string[] {
  return readdirSync(join(SRC, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f) && !f.includes(`test${'/'}`))
    .map((f) => join(SRC, dir, f));
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

/** Where an import leads: a package name, or a folder under src/ for a relative path. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
  return `src/${relative(SRC, join(file, '..', spec))}`;
}

function violations(dir: string, forbidden: (t: string) => boolean): string[] {
  return sources(dir).flatMap((f) =>
    imports(f)
      .filter((s) => forbidden(target(f, s)))
      .map((s) => `${relative(SRC, f)} imports ${s}`),
  );
}

const under = (t: string, ...folders: string[]) => folders.some((d) => t === `src/${d}` || t.startsWith(`src/${d}/`));

/**
 * The engine's folders, low to high: a folder imports only from the folders
 * before it, and from the engine's root files (errors.ts, hash.ts, paths.ts,
 * codec.ts...), which are lowest of all and import no folder. So there is no
 * cycle between folders.
 */
const ENGINE_ORDER = ['items', 'keys', 'index', 'recon', 'store', 'security', 'workspace', 'protocol', 'service', 'cli'];

/** The engine folder an import leads to: '' for a root file, null outside the engine. */
function engineFolder(t: string): string | null {
  if (!under(t, 'engine')) return null;
  const rest = t.slice('src/engine/'.length);
  return rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : '';
}

/** Imports from `folder` ('' for the root files) into the engine folders that are not below it in `order`. */
function upwardImports(folder: string, order = ENGINE_ORDER): string[] {
  const rank = (f: string) => (f === '' ? -1 : order.indexOf(f));
  const files = folder === '' ? sources('engine').filter((f) => relative(join(SRC, 'engine'), f).indexOf('/') < 0) : sources(`engine/${folder}`);
  return files.flatMap((f) =>
    imports(f)
      .filter((s) => {
        const to = engineFolder(target(f, s));
        return to !== null && to !== folder && rank(to) >= rank(folder);
      })
      .map((s) => `${relative(SRC, f)} imports ${s}`),
  );
}

describe('layering', () => {
  it('sees the imports it checks (a rule that matches nothing proves nothing)', () => {
    expect(violations('main', (t) => t === 'electron').length).toBeGreaterThan(0);
    expect(violations('renderer', (t) => under(t, 'shared')).length).toBeGreaterThan(10);
  });

  it("sees the imports between the engine's folders (a rule against them would fail)", () => {
    expect(violations('engine/protocol', (t) => under(t, 'engine/recon', 'engine/store', 'engine/security')).length).toBeGreaterThan(5);
    expect(violations('engine/store', (t) => engineFolder(t) === '').length).toBeGreaterThan(3);
    // The order turned upside down: every import between folders is then an upward one.
    const reversed = [...ENGINE_ORDER].reverse();
    expect(upwardImports('protocol', reversed).length).toBeGreaterThan(10);
    expect(upwardImports('cli', reversed).length).toBeGreaterThan(10);
  });

  it('every folder of the engine has its place in the order', () => {
    const folders = readdirSync(join(SRC, 'engine'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.sort()).toEqual([...ENGINE_ORDER].sort());
  });

  for (const folder of ['', ...ENGINE_ORDER]) {
    const lower = ENGINE_ORDER.slice(0, ENGINE_ORDER.indexOf(folder));
    const name =
      folder === '' ? "the engine's root files import no engine folder" : `src/engine/${folder} imports only ${[...lower, 'the root files'].join(', ')}`;
    it(name, () => {
      expect(upwardImports(folder)).toEqual([]);
    });
  }

  it('src/shared imports neither Node, Electron, UI libraries nor any other layer', () => {
    expect(violations('shared', (t) => NODE.has(t) || t === 'electron' || UI.includes(t) || (t.startsWith('src/') && !under(t, 'shared')))).toEqual([]);
  });

  it('src/engine (the service included) never imports Electron, React or the app layers', () => {
    expect(violations('engine', (t) => t === 'electron' || UI.includes(t) || under(t, 'main', 'preload', 'renderer', 'webhost'))).toEqual([]);
  });

  it('src/renderer talks only to the shared contract: no Node, no Electron, no engine', () => {
    expect(violations('renderer', (t) => NODE.has(t) || t === 'electron' || under(t, 'engine', 'main', 'preload', 'webhost'))).toEqual([]);
  });

  it('src/preload is the bridge and nothing else', () => {
    expect(violations('preload', (t) => t !== 'electron' && !under(t, 'shared'))).toEqual([]);
  });

  it('src/webhost runs without Electron or React', () => {
    expect(violations('webhost', (t) => t === 'electron' || UI.includes(t) || under(t, 'main', 'preload', 'renderer'))).toEqual([]);
  });
});
