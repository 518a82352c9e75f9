/**
 * The rooms of the house (STYLE.md §1), checked: each folder imports only
 * what its runtime has. Test files are exempt (they run under Node in vitest).
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

describe('layering', () => {
  it('sees the imports it checks (a rule that matches nothing proves nothing)', () => {
    expect(violations('main', (t) => t === 'electron').length).toBeGreaterThan(0);
    expect(violations('renderer', (t) => under(t, 'shared')).length).toBeGreaterThan(10);
  });

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
