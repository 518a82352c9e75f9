/**
 * Benchmarks that drive the UI (`npm run bench:ui`): the same chromium, web
 * host and engines as the end-to-end tests (playwright.config.ts), but only
 * `*.bench.ts` files, one at a time, with room for a 100,000-item sync.
 * They measure and report; they never pass or fail on a time.
 */
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testMatch: '**/*.bench.ts',
  timeout: 15 * 60_000,
  expect: { timeout: 120_000 },
  retries: 0,
  use: { ...base.use, trace: 'off', screenshot: 'off' },
});
