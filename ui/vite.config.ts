import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Strict CSP (no 'unsafe-inline'): the build must emit only external scripts and styles.
// Svelte component CSS goes to .css files (css: 'external' is the vite-plugin default in builds),
// the module preload polyfill is inlined by default, so it is turned off.
export default defineConfig({
  plugins: [svelte()],
  base: './',
  build: {
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
    sourcemap: false,
  },
  server: { port: 5173, strictPort: true },
  // Two test projects: the lib's pure functions in node, and the Svelte components mounted in jsdom
  // (browser build of svelte, a fake hall transport: src/test/hall.ts).
  test: {
    projects: [
      { extends: true, test: { name: 'unit', environment: 'node', include: ['src/lib/**/*.test.ts'] } },
      {
        extends: true,
        resolve: { conditions: ['browser'] },
        test: { name: 'components', environment: 'jsdom', include: ['src/{screens,components}/**/*.test.ts'], setupFiles: ['src/test/dom.ts'] },
      },
    ],
  },
});
