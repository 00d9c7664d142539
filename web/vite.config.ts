import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The console and the GraphQL explorer, built into web/dist, which the core serves (src/server/console-assets.ts).
// Everything they need is bundled from npm packages: nothing is fetched from elsewhere at build or run time.
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        console: `${root}index.html`,
      },
    },
  },
  // `npx vite --config web/vite.config.ts` serves the sources against a core on :4000, for working on the console.
  server: {
    proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } },
  },
});
