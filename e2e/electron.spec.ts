/**
 * The desktop app itself, through Playwright's Electron driver. Electron's
 * binary cannot be downloaded on the machines this project is developed on
 * (docs: TOOLCHAIN), so there these tests skip and say why; on a machine
 * with the binary and a display (or xvfb-run) they run.
 */
import { _electron as electron } from '@playwright/test';
import { join } from 'node:path';
import { electronBinary } from '../scripts/electron-binary.mjs';
import { ROOT, expect, makeDemoDatabase, test } from './fixtures.js';

const binary = electronBinary(ROOT);
if (!binary.ok) console.log(`e2e/electron.spec.ts skipped: ${binary.reason}.`);

test.describe('the Electron app', () => {
  // Skipped, not failed, where Electron cannot run: the same UI is covered through the web host.
  test.skip(!binary.ok, binary.ok ? '' : binary.reason);

  test('opens a locked-down window that shows the collection', async ({ workspace }) => {
    const demo = makeDemoDatabase(workspace);
    const app = await electron.launch({
      executablePath: binary.ok ? binary.path : undefined,
      args: [join(ROOT, 'out', 'main', 'index.js')],
      env: { ...process.env, NETSYNC_DB: demo.db, NETSYNC_CONFIG_DIR: workspace.configDir },
    });
    try {
      const page = await app.firstWindow();
      await expect(page).toHaveURL(/^app:\/\/netsync\//);
      // The page has the bridge and nothing of Node.
      expect(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (window as unknown as { process?: unknown }).process)).toBe('undefined');
      expect(await page.evaluate(() => Object.keys(window.netsync ?? {}).sort())).toContain('onEvent');
      await page.getByTestId('nav-collection').click();
      await expect(page.getByTestId('branch-list')).toContainText(demo.branch);
    } finally {
      await app.close();
    }
  });
});
