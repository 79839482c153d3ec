import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

const backend = 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      // The widget's chat page is built on its own (vite.widget.config.ts).
      input: {
        workspace: fileURLToPath(new URL('./index.html', import.meta.url)),
        loader: fileURLToPath(new URL('./src/widget/loader.ts', import.meta.url)),
      },
      output: {
        // The loader's address goes into websites' pages: it must not change between builds.
        entryFileNames: (chunk) => (chunk.name === 'loader' ? 'widget/loader.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  server: {
    proxy: {
      '/api': backend,
      '/ws': { target: backend, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
  },
})
