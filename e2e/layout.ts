/**
 * Layout checks for the end-to-end tests: the page never scrolls sideways,
 * and no visible element clips or spills what it holds. In the page, for
 * every rendered element:
 * - content wider or taller than a box that hides its overflow (`hidden`,
 *   `clip`) or is not a scroll container at all (`visible`): the deepest
 *   such element is reported, not each of its ancestors;
 * - `text-overflow: ellipsis` that actually cuts its text (every value we
 *   show is one the user needs: a branch, a path, a count);
 * - an input's value or placeholder wider than its field.
 * Scroll containers by design (`overflow: auto|scroll`: the virtualised
 * lists, text areas) are left alone. An element may opt out with
 * `data-layout-ok="why"`; none does today.
 */
import type { Page } from '@playwright/test';

export interface LayoutProblem {
  /** A short description of the element: tag, test id or class, and the start of its text. */
  element: string;
  problem: string;
}

/** Runs in the page: everything here must be self-contained (no imports, no closures). */
function inspect(): LayoutProblem[] {
  const SLACK = 1; // sub-pixel rounding of scroll sizes
  const problems: { el: Element; problem: string }[] = [];
  const canvas = document.createElement('canvas').getContext('2d')!;

  const nameOf = (el: Element): string => {
    const testId = el.getAttribute('data-testid');
    const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
    const text = (el instanceof HTMLInputElement ? el.value || el.placeholder : (el.textContent ?? '')).trim().replace(/\s+/g, ' ').slice(0, 40);
    return `${el.tagName.toLowerCase()}${testId ? `[data-testid=${testId}]` : cls}${text ? ` "${text}"` : ''}`;
  };
  const textWidth = (text: string, style: CSSStyleDeclaration): number => {
    canvas.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const spacing = Number.parseFloat(style.letterSpacing); // 'normal' is NaN: none
    return canvas.measureText(text).width + (Number.isNaN(spacing) ? 0 : spacing * text.length);
  };
  const rendered = (el: Element, style: CSSStyleDeclaration): boolean => {
    if (style.display === 'none' || style.visibility !== 'visible' || el.closest('[data-layout-ok]')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  // Screen-reader-only text is a 1-pixel clipped box by design.
  const hiddenByDesign = (style: CSSStyleDeclaration) => style.clipPath !== 'none' || style.clip !== 'auto';

  const root = document.scrollingElement ?? document.documentElement;
  if (root.scrollWidth > root.clientWidth + SLACK)
    problems.push({ el: root, problem: `the page is ${root.scrollWidth} px wide in a ${root.clientWidth} px window` });

  for (const el of document.body.querySelectorAll('*')) {
    if (!(el instanceof HTMLElement)) continue;
    const style = getComputedStyle(el);
    if (!rendered(el, style) || hiddenByDesign(style)) continue;
    if (el instanceof HTMLInputElement && ['text', 'search', 'password', 'url', ''].includes(el.type)) {
      const box = el.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
      const shown = el.type === 'password' ? '' : el.value;
      const text = shown || el.placeholder;
      const width = textWidth(text, style);
      if (width > box + SLACK)
        problems.push({ el, problem: `${shown ? 'value' : 'placeholder'} needs ${Math.ceil(width)} px, the field shows ${Math.floor(box)}` });
      continue;
    }
    if (el instanceof HTMLTextAreaElement || el instanceof HTMLProgressElement || el instanceof HTMLImageElement) continue;
    if (style.display === 'inline' || style.display === 'contents') continue; // no box of its own to overflow
    const ellipsis = style.textOverflow === 'ellipsis';
    for (const [axis, scroll, client, overflow] of [
      ['width', el.scrollWidth, el.clientWidth, style.overflowX],
      ['height', el.scrollHeight, el.clientHeight, style.overflowY],
    ] as const) {
      if (scroll <= client + SLACK) continue;
      if (overflow === 'auto' || overflow === 'scroll') continue; // a scroll container by design
      const how =
        ellipsis && axis === 'width' ? 'its text is cut with an ellipsis' : overflow === 'visible' ? 'its content spills out' : 'its content is clipped';
      problems.push({ el, problem: `${how}: ${axis} ${scroll} px in a ${client} px box` });
    }
  }
  // A box whose content spills out makes every ancestor that does not clip spill too: of such a
  // chain only the deepest is reported. A clipped, cut or too narrow box says nothing of its ancestors.
  const spilling = problems.filter((p) => p.problem.startsWith('its content spills')).map((p) => p.el);
  return problems
    .filter((p) => p.el === root || !spilling.some((other) => other !== p.el && p.el.contains(other)))
    .map((p) => ({ element: p.el === root ? 'the page' : nameOf(p.el), problem: p.problem }));
}

export async function layoutProblems(page: Page): Promise<LayoutProblem[]> {
  return page.evaluate(inspect);
}
