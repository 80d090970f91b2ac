import { defineConfig } from 'vite';

// Served by the gateway under /console/; everything bundled, nothing fetched from elsewhere.
export default defineConfig({
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0 },
});
