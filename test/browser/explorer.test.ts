import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { closeAll, expectQuiet, launchBrowser, openConsole, seriousAccessibilityViolations, type ConsolePage } from '../support/browser.js';
import { startTestCore, type TestCore } from '../support/test-core.js';
import { issueToken } from '../../src/server/auth.js';
import { RegisterDevicesDocument, SummaryDocument } from '../generated/graphql.js';

// The GraphQL explorer a browser gets at /graphql: GraphiQL, bundled with the console and served by the
// core, signed in with the tab's console token, for queries over HTTP and subscriptions over graphql-ws.

/** The operation editor: Monaco's text area inside GraphiQL's query editor. */
const queryEditor = (page: Page) => page.locator('.graphiql-query-editor textarea').first();
/** The result pane (Monaco, read-only): its rendered text. */
const resultText = (page: Page) => page.locator('.graphiql-response').innerText();

/**
 * runInEditor replaces the operation editor's text with the operation named name and runs it (Ctrl+Enter,
 * or the run button), once GraphiQL has read it: its tab takes the operation's name (run sooner, GraphiQL
 * would send the previous operation's name with the new text, as for a person who types that fast).
 */
async function runInEditor(page: Page, name: string, query: string, run: 'keys' | 'button' = 'keys'): Promise<void> {
  const editor = queryEditor(page);
  await editor.focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // insertText sends the text as one input, as a paste would: Monaco's bracket auto-closing, which acts
  // on typed characters, does not double the braces.
  await page.keyboard.insertText(query);
  await page.getByRole('tab', { name }).waitFor();
  if (run === 'keys') await page.keyboard.press('Control+Enter');
  else await page.getByRole('button', { name: /^Execute query/ }).click();
}

/**
 * explorerViolations is the axe check on the explorer, less one finding in GraphiQL itself that this
 * project cannot fix from outside: each operation tab is an <li role="tab"> holding the tab's <button>
 * (and a close button), which axe reports as nested-interactive. That finding is left out only while
 * every element it names is one of GraphiQL's tabs; anything else fails as usual.
 */
async function explorerViolations(page: Page) {
  const violations = await seriousAccessibilityViolations(page);
  const kept = [];
  for (const v of violations) {
    if (v.id === 'nested-interactive') {
      let onlyTabs = true;
      for (const target of v.targets) {
        const named = page.locator(target);
        const tabs = named.and(page.locator('li.graphiql-tab[role="tab"]'));
        const count = await named.count();
        if (count === 0 || count !== (await tabs.count())) onlyTabs = false;
      }
      if (onlyTabs) continue;
    }
    kept.push(v);
  }
  return kept;
}

describe('the GraphQL explorer at /graphql', () => {
  let tc: TestCore;
  let browser: Browser;
  let total: number;

  beforeAll(async () => {
    tc = await startTestCore();
    browser = await launchBrowser();
    const admin = await tc.token('setup', ['SECURITY_ADMIN']);
    const registered = await tc.gql(
      RegisterDevicesDocument,
      { devices: ['WS-E1', 'WS-E2', 'WS-E3'].map((name) => ({ name, agentId: name.toLowerCase(), agentVersion: '2024.1' })) },
      admin,
    );
    expect(registered.errors).toBeUndefined();
    const summary = await tc.gql(SummaryDocument, {}, admin);
    total = summary.data!.authStatusSummary.total;
    // The core server itself and the three devices: a figure the explorer can only show by asking.
    expect(total).toBe(4);
  });
  afterAll(() => closeAll({ browser, tc }));

  /**
   * signedInExplorer signs a tab in through a console link at /, then opens /graphql in that same tab;
   * workers lists the paths of the web workers the explorer started.
   */
  async function signedInExplorer(subject: string): Promise<{ c: ConsolePage; workers: string[] }> {
    const c = await openConsole(browser, tc.url, await tc.token(subject, ['VIEWER']));
    await expect.poll(() => c.page.getByTestId('signed-in-as').textContent()).toContain(subject);
    const workers: string[] = [];
    c.page.on('worker', (w) => workers.push(new URL(w.url()).pathname));
    await c.page.goto(`${c.origin}/graphql`);
    await c.page.getByRole('button', { name: /^Execute query/ }).waitFor();
    await queryEditor(c.page).waitFor({ state: 'attached' });
    return { c, workers };
  }

  it("runs a query typed in the editor with the tab's token and shows the result", async () => {
    const { c, workers } = await signedInExplorer('ada');
    try {
      expect(await c.page.title()).toBe('certfleet GraphQL explorer');
      await expect.poll(() => c.page.locator('.graphiql-query-editor .monaco-editor').isVisible()).toBe(true);
      await runInEditor(c.page, 'ExplorerTotal', 'query ExplorerTotal { authStatusSummary { total } }');
      // Monaco renders spaces as no-break spaces: \s matches both.
      await expect.poll(() => resultText(c.page), { timeout: 10_000 }).toMatch(new RegExp(`"total":\\s*${total}\\b`));

      // The run button, on a query that names who the server took the token for.
      await runInEditor(c.page, 'ExplorerMe', 'query ExplorerMe { me { subject roles } }', 'button');
      await expect.poll(() => resultText(c.page), { timeout: 10_000 }).toMatch(/"subject":\s*"ada"/);

      // The schema came through the same token (introspection): the documentation lists its fields.
      await c.page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      await c.page.locator('.graphiql-doc-explorer').getByText('Root Types').waitFor();
      await c.page.locator('.graphiql-doc-explorer').getByRole('link', { name: 'Query', exact: true }).click();
      await c.page.locator('.graphiql-doc-explorer').getByRole('link', { name: 'authStatusSummary', exact: true }).waitFor();

      // Monaco's language services ran in their bundled workers, from the core (had they failed to
      // start, Monaco would have run them on the page with only a warning). The GraphQL worker starts
      // once the schema is in, which may come after the first result: wait for it.
      await expect
        .poll(() => [...workers], { timeout: 10_000 })
        .toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^\/assets\/editor\.worker-[\w-]+\.js$/),
            expect.stringMatching(/^\/assets\/graphql\.worker-[\w-]+\.js$/),
          ]),
        );
      expect(await explorerViolations(c.page)).toEqual([]);
      await c.screenshot('explorer');
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('runs a subscription over graphql-ws with the token in connectionParams', async () => {
    const { c } = await signedInExplorer('grace');
    try {
      const sockets: string[] = [];
      c.page.on('websocket', (ws) => sockets.push(ws.url()));
      await runInEditor(c.page, 'ExplorerLive', 'subscription ExplorerLive { authStatusSummaryChanged { total } }');
      await expect.poll(() => resultText(c.page), { timeout: 10_000 }).toMatch(new RegExp(`"total":\\s*${total}\\b`));
      expect(sockets).toEqual([`${c.origin.replace('http', 'ws')}/graphql`]);
      // Stop it (the run button turns into a stop button while subscribed).
      await c.page.getByRole('button', { name: /^Stop query/ }).click();
      await c.page.getByRole('button', { name: /^Execute query/ }).waitFor();
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it("returns to the sign-in hint when the tab's token expires", async () => {
    // Issued 55 s ago with the shortest lifetime (60 s): 5 s left.
    const token = await issueToken(tc.config.auth, { subject: 'brief', roles: ['VIEWER'], ttlSeconds: 60, now: new Date(Date.now() - 55_000) });
    const c = await openConsole(browser, tc.url, token, '/graphql');
    try {
      // A sign-in link to /graphql itself works as at /: the fragment's token is taken and kept for the tab.
      await c.page.getByRole('button', { name: /^Execute query/ }).waitFor();
      expect(c.page.url()).toBe(`${c.origin}/graphql`);
      await c.page.getByText('Your session has ended').waitFor({ timeout: 10_000 });
      await c.page.getByRole('link', { name: 'Sign in at the console' }).waitFor();
      expect(await c.page.evaluate("sessionStorage.getItem('certfleet.token')")).toBeNull();
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('without a sign-in says to sign in at the console, with a link', async () => {
    const c = await openConsole(browser, tc.url, null, '/graphql');
    try {
      await c.page.getByRole('heading', { name: 'GraphQL explorer' }).waitFor();
      const link = c.page.getByRole('link', { name: 'Sign in at the console' });
      expect(await link.getAttribute('href')).toBe('/');
      expect(await c.page.locator('.graphiql-container').count()).toBe(0);
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      await link.click();
      await c.page.getByRole('heading', { name: 'Sign in to certfleet' }).waitFor();
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it("loads none of the explorer's code with the console", async () => {
    const c = await openConsole(browser, tc.url, await tc.token('lin', ['VIEWER']));
    try {
      const scripts: string[] = [];
      c.page.on('request', (req) => {
        if (req.resourceType() === 'script') scripts.push(new URL(req.url()).pathname);
      });
      await expect.poll(() => c.page.getByTestId('signed-in-as').textContent()).toContain('lin');
      const loaded = await c.page.evaluate(() =>
        performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
      );
      const all = [...new Set([...loaded, ...scripts])];
      expect(all.some((p) => p.startsWith('/assets/console-'))).toBe(true);
      expect(all.filter((p) => /graphiql|monaco|worker/i.test(p))).toEqual([]);
      expect(c.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
