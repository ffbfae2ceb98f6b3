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
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
