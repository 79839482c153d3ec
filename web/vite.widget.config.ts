import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The chat in websites' iframes, built on its own: sharing a chunk with the workspace would make
// every visitor load the parts of Vue only the workspace uses (about a third of the widget).
export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  define: {
    // The widget's components are all <script setup>: Vue's options API is dead weight here.
    __VUE_OPTIONS_API__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    rollupOptions: {
      input: { widget: fileURLToPath(new URL('./widget.html', import.meta.url)) },
    },
  },
})
