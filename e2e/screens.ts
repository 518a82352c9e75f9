/**
 * Every screen at every window size, light and dark: the layout checks
 * (e2e/layout.ts) and axe-core's accessibility rules. A screen is a name
 * and how to reach it with its content shown; a new screen (or a new state
 * of one worth checking) is one more entry in a list passed to checkScreens.
 */
import AxeBuilder from '@axe-core/playwright';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { type LayoutProblem, layoutProblems } from './layout.js';

export const SIZES = [
  { width: 800, height: 600 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1200 },
] as const;

export const THEMES = ['light', 'dark'] as const;

export interface ScreenCase {
  name: string;
  /** Brings the screen up in the state to check; resolves once its content is shown. */
  show(page: Page): Promise<void>;
}

/** A screen reached from the sidebar, ready once `ready` (a locator in it) is visible. */
export function navScreen(name: string, navId: string, ready: (page: Page) => Locator): ScreenCase {
  return {
    name,
    async show(page) {
      await page.getByTestId(`nav-${navId}`).click();
      await ready(page).first().waitFor();
    },
  };
}

/** axe-core impacts that fail the check; moderate and minor ones are listed but do not fail. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);

export interface ScreenFinding {
  where: string;
  kind: 'layout' | 'axe';
  impact?: string;
  detail: string;
}

async function axeFindings(page: Page, where: string): Promise<ScreenFinding[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.map((v) => ({
    where,
    kind: 'axe' as const,
    impact: v.impact ?? 'unknown',
    detail: `${v.id}: ${v.help} (${v.nodes
      .slice(0, 3)
      .map((n) => n.target.join(' '))
      .join('; ')}${v.nodes.length > 3 ? `; +${v.nodes.length - 3} more` : ''})`,
  }));
}

function layoutFindings(problems: LayoutProblem[], where: string): ScreenFinding[] {
  return problems.map((p) => ({ where, kind: 'layout' as const, detail: `${p.element}: ${p.problem}` }));
}

/**
 * Checks each screen at each size and theme; returns every finding (layout
 * problems, and axe violations of any impact). The page is left at the
 * default size and the light theme.
 */
export async function checkScreens(page: Page, screens: readonly ScreenCase[]): Promise<ScreenFinding[]> {
  const findings: ScreenFinding[] = [];
  const before = page.viewportSize();
  for (const screen of screens) {
    await screen.show(page);
    for (const theme of THEMES) {
      await page.emulateMedia({ colorScheme: theme });
      for (const size of SIZES) {
        await page.setViewportSize(size);
        const where = `${screen.name} ${size.width}x${size.height} ${theme}`;
        // To look at what was checked: NETSYNC_LAYOUT_SHOTS=/some/folder npx playwright test e2e/screens.spec.ts
        if (process.env.NETSYNC_LAYOUT_SHOTS)
          await page.screenshot({ path: join(process.env.NETSYNC_LAYOUT_SHOTS, `${where.replace(/ /g, '-')}.png`), fullPage: true });
        findings.push(...layoutFindings(await layoutProblems(page), where));
        // Contrast and names do not change with the window's size: axe once per theme, at the largest (most in view).
        if (size === SIZES[SIZES.length - 1]) findings.push(...(await axeFindings(page, where)));
      }
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (before) await page.setViewportSize(before);
  return findings;
}

/** The findings that fail: every layout problem, and axe violations of serious or critical impact. */
export function failing(findings: readonly ScreenFinding[]): ScreenFinding[] {
  return findings.filter((f) => f.kind === 'layout' || FAILING_IMPACTS.has(f.impact ?? ''));
}

/** One line per distinct finding; the same problem on several elements (rows of a list) is counted once. */
export function formatFindings(findings: readonly ScreenFinding[]): string {
  const lines = new Map<string, number>();
  for (const f of findings) {
    const line = `${f.where}: ${f.kind}${f.impact ? ` (${f.impact})` : ''} ${f.detail}`;
    lines.set(line, (lines.get(line) ?? 0) + 1);
  }
  return [...lines].map(([line, n]) => (n > 1 ? `${line} (x${n})` : line)).join('\n');
}
