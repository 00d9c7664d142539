import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { databaseKind } from './test-core.js';

// The console's end-to-end tests drive Debian's Chromium (/usr/bin/chromium, installed by .ci/run)
// through playwright-core: no browser is downloaded.

const require = createRequire(import.meta.url);

/** CHROMIUM is the browser binary (CHROMIUM_PATH overrides it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** ARTIFACTS is where screenshots from a run are kept (not committed; CI may keep them). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'screenshots');

/** launchBrowser starts headless Chromium with nothing of its own talking to the network. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
    ],
  });
}

/** ConsolePage is a tab on the console, with what it did that a test checks afterwards. */
export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  origin: string;
  /** Requests to anywhere but the core's own origin (HTTP or WebSocket). */
  offOrigin: string[];
  /** Console errors and uncaught exceptions in the page. */
  errors: string[];
  /** screenshot keeps a picture of the page as a test artifact and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * openConsole opens a fresh tab (its own session storage) on the console of the core at apiUrl,
 * signed in with token through a sign-in link (null: not signed in), at path.
 */
export async function openConsole(
  browser: Browser,
  apiUrl: string,
  token: string | null,
  path = '/',
): Promise<ConsolePage> {
  const origin = new URL(apiUrl).origin;
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const offOrigin: string[] = [];
  const errors: string[] = [];
  page.on('request', (req) => {
    const url = req.url();
    if (url.startsWith('data:') || url.startsWith('blob:')) return;
    if (new URL(url).origin !== origin) offOrigin.push(url);
  });
  page.on('websocket', (ws) => {
    const url = new URL(ws.url());
    if (`http://${url.host}` !== origin) offOrigin.push(ws.url());
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  await page.goto(`${origin}${path}${token ? `#token=${encodeURIComponent(token)}` : ''}`);
  return {
    page,
    context,
    origin,
    offOrigin,
    errors,
    async screenshot(name) {
      const dir = join(ARTIFACTS, databaseKind());
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    close: () => context.close(),
  };
}

/** AxeViolation is one rule axe-core found broken, with how bad it is and where. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** seriousAccessibilityViolations runs axe-core (from npm, injected into the page) and returns the serious and critical violations. */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: the page's own policy (no inline scripts) stays on for the check.
  const axeSource = await readFile(join(dirname(require.resolve('axe-core')), 'axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** expectQuiet is the end of every browser test: nothing went to another origin, nothing failed in the page. */
export function expectQuiet(c: ConsolePage): void {
  expect(c.offOrigin).toEqual([]);
  expect(c.errors).toEqual([]);
}

/** expectCleanPage is expectQuiet after axe-core found nothing serious or critical on the page. */
export async function expectCleanPage(c: ConsolePage): Promise<void> {
  expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
  expectQuiet(c);
}

/** poll retries an expectation for up to 10 s: live updates and page loads take their time on a busy machine. */
export const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 10_000 });

/**
 * closeAll ends a browser test file: its agents, then the browser, then the core (each as far as
 * beforeAll got): `afterAll(() => closeAll({ agents, browser, tc }))`.
 */
export async function closeAll(opened: {
  agents?: { closeAll(): void };
  browser?: Browser;
  tc?: { close(): Promise<void> };
}): Promise<void> {
  opened.agents?.closeAll();
  await opened.browser?.close();
  await opened.tc?.close();
}
