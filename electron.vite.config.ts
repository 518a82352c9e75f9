/**
 * Builds the desktop app into out/: main (ES module, with the engine's
 * service worker as its own chunk), preload (CommonJS: a sandboxed preload
 * cannot be an ES module) and the React renderer. Runtime dependencies
 * (better-sqlite3, ws) stay external: the native module is loaded from
 * node_modules, rebuilt for Electron when packaging (docs/PACKAGING.md).
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      rolldownOptions: { input: { index: resolve('src/main/index.ts') } },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    // Relative asset URLs: the same build is served by app:// in Electron and by the web host.
    base: './',
    build: {
      minify: true,
      rolldownOptions: { input: resolve('src/renderer/index.html') },
    },
    plugins: [react()],
  },
});
