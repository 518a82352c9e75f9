import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every test lives under test/ (src/ holds only what ships). Tiers by folder:
    // unit (engine, in process), app (service, renderer, main, web host; renderer views choose
    // jsdom per file with `// @vitest-environment jsdom`), integration, protocol and security
    // (real processes and sockets): `npm run test:fast`; reliability (fuzz, crash, stress): `npm test`.
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
