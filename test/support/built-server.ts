import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** ROOT is the checkout the tests run in. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** BUILT_CONSOLE is the console's page that the core serves at /. */
export const BUILT_CONSOLE = join(ROOT, 'web/dist/index.html');

/** BUILT_START is the compiled server that `npm start` runs. */
export const BUILT_START = join(ROOT, 'dist/cli/start.js');

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0; // not built yet
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * ensureServerBuilt compiles src/ to dist/ (npm run build's server half) when dist/ is missing or
 * older than a source file, so the tests that run the compiled server never run stale code. npm
 * install builds it, so on a fresh clone this only checks.
 */
export function ensureServerBuilt(): void {
  const built = mtimeOf(BUILT_START);
  if (built > 0 && built >= newestMtime(join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

/** ensureConsoleBuilt builds the console (about a second) when web/dist is missing or older than its sources, for the browser tests. */
export function ensureConsoleBuilt(): void {
  const built = mtimeOf(BUILT_CONSOLE);
  const sources = Math.max(newestMtime(join(ROOT, 'web/src')), mtimeOf(join(ROOT, 'web/index.html')), mtimeOf(join(ROOT, 'web/vite.config.ts')));
  if (built > 0 && built >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
