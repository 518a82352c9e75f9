/**
 * End-to-end tests of the UI, in Debian's chromium (Playwright downloads no
 * browser here), against the headless web host and real databases made with
 * the CLI. e2e/electron.spec.ts drives the desktop app itself where
 * Electron's binary exists and skips, saying why, where it does not.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.NETSYNC_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
