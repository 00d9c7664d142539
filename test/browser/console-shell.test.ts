import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { closeAll, expectQuiet, launchBrowser, openConsole, seriousAccessibilityViolations } from '../support/browser.js';
import { issueToken } from '../../src/server/auth.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

// The console's frame: sign-in by link and by paste, sign-out, an expired token, the pages it serves.
describe('console: signing in and out', () => {
  let tc: TestCore;
  let browser: Browser;

  beforeAll(async () => {
    tc = await startTestCore();
    browser = await launchBrowser();
  });
  afterAll(() => closeAll({ browser, tc }));

  it('a sign-in link signs the tab in, takes the token out of the address bar, and sign-out forgets it', async () => {
    const token = await tc.token('ada', ['SECURITY_ADMIN']);
    const c = await openConsole(browser, tc.url, token);
    try {
      await expect.poll(() => c.page.getByTestId('signed-in-as').textContent()).toContain('ada');
      expect(c.page.url()).toBe(`${c.origin}/`);
      expect(await c.page.evaluate("sessionStorage.getItem('certfleet.token')")).toBe(token);
      await c.page.getByRole('button', { name: 'Sign out' }).click();
      await c.page.getByRole('heading', { name: 'Sign in to certfleet' }).waitFor();
      expect(await c.page.evaluate("sessionStorage.getItem('certfleet.token')")).toBeNull();
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('a pasted token signs in; a refused one brings the sign-in screen back with a message', async () => {
    const c = await openConsole(browser, tc.url, null);
    try {
      await c.page.getByLabel('Or paste an access token').fill('not-a-token');
      await c.page.getByRole('button', { name: 'Sign in' }).click();
      await c.page.getByText('Your session has ended').waitFor();
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      const token = await tc.token('grace', ['VIEWER']);
      await c.page.getByLabel('Or paste an access token').fill(token);
      await c.page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => c.page.getByTestId('signed-in-as').textContent()).toContain('grace');
      expect(c.offOrigin).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('an expiring token returns the tab to sign-in with a clear message', async () => {
    // Issued 57 s ago with the shortest lifetime (60 s): 3 s left.
    const token = await issueToken(tc.config.auth, { subject: 'brief', roles: ['VIEWER'], ttlSeconds: 60, now: new Date(Date.now() - 57_000) });
    const c = await openConsole(browser, tc.url, token);
    try {
      await expect.poll(() => c.page.getByTestId('signed-in-as').textContent()).toContain('brief');
      await c.page.getByText('Your session has ended').waitFor({ timeout: 10_000 });
      expect(await c.page.evaluate("sessionStorage.getItem('certfleet.token')")).toBeNull();
    } finally {
      await c.close();
    }
  });

  it('serves the console at every console path with a same-origin-only policy, and no Apollo landing page', async () => {
    for (const path of ['/', '/devices', '/devices/1', '/queries', '/client-access', '/audit']) {
      const res = await fetch(`${new URL(tc.url).origin}${path}`, { headers: { accept: 'text/html' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(await res.text()).toContain('<div id="root">');
    }
    const notConsole = await fetch(`${new URL(tc.url).origin}/nowhere`, { headers: { accept: 'text/html' } });
    expect(notConsole.status).toBe(404);
  });
});
