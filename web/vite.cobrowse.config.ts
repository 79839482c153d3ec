import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'

// The co-browsing recorder runs in websites' pages: one self-contained classic script, so that it
// loads from IMP's origin without module or CORS requirements, and only when sharing starts.
export default defineConfig({
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: 'dist/widget',
    emptyOutDir: false,
    lib: {
      entry: fileURLToPath(new URL('./src/widget/cobrowse.ts', import.meta.url)),
      formats: ['iife'],
      name: 'impCobrowse',
      fileName: () => 'cobrowse.js',
    },
  },
})
