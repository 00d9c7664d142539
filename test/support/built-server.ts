import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** ROOT is the checkout the tests run in. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** BUILT_START is the compiled server that `npm start` runs. */
export const BUILT_START = join(ROOT, 'dist/cli/start.js');

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
  let built = 0;
  try {
    built = statSync(BUILT_START).mtimeMs;
  } catch {
    // not built yet
  }
  if (built > 0 && built >= newestMtime(join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
