import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Renderer view tests (*.test.tsx) choose jsdom per file with `// @vitest-environment jsdom`.
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
