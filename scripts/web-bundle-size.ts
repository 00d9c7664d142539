// npm run size:web: what the console's first page load costs in JavaScript, held to a budget.
//
// It reads the built console (web/dist/index.html), takes its entry script and modulepreload links and,
// through them, every chunk they import statically (what the browser must fetch before the console
// runs; chunks loaded later with import() are not counted), gzips each at level 6 (zlib's default, which
// is what Express's compression middleware and most servers use) and prints the sizes. Above the budget
// it exits 1. The GraphQL explorer (web/dist/graphiql.html, a separate entry) is measured the same way
// and reported, not budgeted: it loads only for a browser that opens /graphql.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** BUDGET_KB is the most the console's initial JavaScript may weigh, gzipped (1 KB = 1024 bytes). */
export const BUDGET_KB = 300;
const GZIP_LEVEL = 6;

const DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

export interface ChunkSize {
  file: string;
  raw: number;
  gzipped: number;
}

/** scriptsOfPage lists the module scripts and modulepreload links of a built page, as paths under dist. */
export function scriptsOfPage(html: string): string[] {
  const found: string[] = [];
  for (const tag of html.match(/<(?:script|link)\b[^>]*>/g) ?? []) {
    const isModuleScript = tag.startsWith('<script') && /\btype=["']module["']/.test(tag);
    const isPreload = tag.startsWith('<link') && /\brel=["']modulepreload["']/.test(tag);
    if (!isModuleScript && !isPreload) continue;
    const url = /\b(?:src|href)=["']([^"']+)["']/.exec(tag)?.[1];
    if (!url) continue;
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(url)) throw new Error(`the page loads a script from elsewhere: ${url}`);
    found.push(url.replace(/^\//, ''));
  }
  return found;
}

/**
 * staticImportsOf lists the files a built chunk imports statically (import … from "./x.js", import "./x.js",
 * export … from "./x.js"), relative to the chunk; import("./x.js"), loaded later, is left out.
 */
export function staticImportsOf(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s*(?:[^'"`();=]*?\bfrom\s*)?["'](\.{1,2}\/[^"']+\.js)["']/g)) {
    found.push(m[1]!);
  }
  return found;
}

/** initialJavaScript is every chunk a page fetches before it runs, with its raw and gzipped size. */
export function initialJavaScript(dist: string, page: string): ChunkSize[] {
  const html = readFileSync(join(dist, page), 'utf8');
  const pending = scriptsOfPage(html).map((p) => resolve(dist, p));
  const seen = new Set<string>();
  const sizes: ChunkSize[] = [];
  while (pending.length > 0) {
    const path = pending.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const code = readFileSync(path);
    sizes.push({ file: relative(dist, path), raw: code.length, gzipped: gzipSync(code, { level: GZIP_LEVEL }).length });
    for (const imported of staticImportsOf(code.toString('utf8'))) pending.push(resolve(dirname(path), imported));
  }
  return sizes;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function report(title: string, sizes: ChunkSize[]): number {
  const total = sizes.reduce((sum, s) => sum + s.gzipped, 0);
  const raw = sizes.reduce((sum, s) => sum + s.raw, 0);
  const width = Math.max(...sizes.map((s) => s.file.length), 5);
  console.log(title);
  for (const s of sizes) console.log(`  ${s.file.padEnd(width)}  ${kb(s.raw).padStart(10)} raw  ${kb(s.gzipped).padStart(10)} gzipped`);
  console.log(`  ${'total'.padEnd(width)}  ${kb(raw).padStart(10)} raw  ${kb(total).padStart(10)} gzipped`);
  return total;
}

function main(): number {
  if (!existsSync(join(DIST, 'index.html'))) {
    console.error('web-bundle-size: web/dist/index.html is missing: build the console first (npm run build:web)');
    return 1;
  }
  const consoleTotal = report(
    `The console's initial JavaScript (web/dist/index.html: entry, modulepreloads, their static imports; gzip level ${GZIP_LEVEL}, 1 KB = 1024 bytes):`,
    initialJavaScript(DIST, 'index.html'),
  );
  if (existsSync(join(DIST, 'graphiql.html'))) {
    report("The GraphQL explorer's initial JavaScript (web/dist/graphiql.html; reported, not budgeted):", initialJavaScript(DIST, 'graphiql.html'));
  }
  if (consoleTotal > BUDGET_KB * 1024) {
    console.error(`web-bundle-size: the console's initial JavaScript is ${kb(consoleTotal)} gzipped, over its budget of ${BUDGET_KB} KB`);
    return 1;
  }
  console.log(`The console is within its budget: ${kb(consoleTotal)} of ${BUDGET_KB} KB gzipped.`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
