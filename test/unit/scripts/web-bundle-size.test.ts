import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialJavaScript, scriptsOfPage, staticImportsOf } from '../../../scripts/web-bundle-size.js';

// npm run size:web counts what a page fetches before it runs: its entry, its modulepreloads and what they
// import statically, never what they load later with import().
describe('web-bundle-size', () => {
  let dist: string;

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'certfleet-size-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(
      join(dist, 'index.html'),
      `<!doctype html><html><head>
        <script type="module" crossorigin src="/assets/entry-1.js"></script>
        <link rel="modulepreload" crossorigin href="/assets/shared-2.js">
        <link rel="stylesheet" crossorigin href="/assets/entry-1.css">
      </head><body><div id="root"></div></body></html>`,
    );
    await writeFile(join(dist, 'assets/entry-1.js'), 'import{a as b}from"./shared-2.js";import"./side-3.js";const l=()=>import("./lazy-4.js");b(l);');
    await writeFile(join(dist, 'assets/shared-2.js'), 'export{x as a}from"./side-3.js";');
    await writeFile(join(dist, 'assets/side-3.js'), `export const x=()=>${JSON.stringify('x'.repeat(2000))};`);
    await writeFile(join(dist, 'assets/lazy-4.js'), 'export default 1;');
  });
  afterAll(async () => {
    await rm(dist, { recursive: true, force: true });
  });

  it('reads the module scripts and modulepreloads of a page, not its styles', () => {
    expect(scriptsOfPage('<script type="module" src="/assets/a.js"></script><link rel="modulepreload" href="/assets/b.js"><link rel="stylesheet" href="/assets/c.css">')).toEqual([
      'assets/a.js',
      'assets/b.js',
    ]);
    expect(() => scriptsOfPage('<script type="module" src="https://cdn.example/x.js"></script>')).toThrow(/from elsewhere/);
  });

  it('follows static imports and re-exports, not import()', () => {
    expect(staticImportsOf('import{a as b}from"./s.js";import"./t.js";export{c}from"./u.js";import("./lazy.js");')).toEqual([
      './s.js',
      './t.js',
      './u.js',
    ]);
  });

  it('sizes every chunk fetched before the page runs, once each, gzipped at level 6', () => {
    const sizes = initialJavaScript(dist, 'index.html');
    expect(sizes.map((s) => s.file).sort()).toEqual(['assets/entry-1.js', 'assets/shared-2.js', 'assets/side-3.js']);
    const side = sizes.find((s) => s.file === 'assets/side-3.js')!;
    const code = Buffer.from(`export const x=()=>${JSON.stringify('x'.repeat(2000))};`);
    expect(side).toEqual({ file: 'assets/side-3.js', raw: code.length, gzipped: gzipSync(code, { level: 6 }).length });
  });
});
