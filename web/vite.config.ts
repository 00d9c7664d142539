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
    // Monaco, which the explorer loads lazily on /graphql only, is one 2.8 MB chunk (its workers are
    // ~0.6 MB each). What the console loads first is held to its own budget: `npm run size:web`.
    chunkSizeWarningLimit: 3000,
    rollupOptions: {
      onwarn(warning, warn) {
        // GraphiQL's packages are compiled with the React Compiler, which marks some modules "use no memo":
        // a hint for that compiler, meaningless once bundled. Said on every build (and npm install), it
        // would only hide warnings that matter.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && /node_modules[\\/](@graphiql|graphiql|react-compiler-runtime)[\\/]/.test(warning.id ?? '')) return;
        warn(warning);
      },
      input: {
        console: `${root}index.html`,
        // The GraphQL explorer (GraphiQL, Monaco and its workers): served for a browser opening /graphql.
        graphiql: `${root}graphiql.html`,
      },
    },
  },
  // `npx vite --config web/vite.config.ts` serves the sources against a core on :4000, for working on the console.
  server: {
    proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } },
  },
});
