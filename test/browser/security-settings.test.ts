import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  MyQueriesDocument,
  RegisterDevicesDocument,
  SecuritySettingsDocument,
  SummaryDocument,
  type SummaryQuery,
} from '../generated/graphql.js';
import { agentsOf, type TestAgent } from '../support/agent.js';
import { closeAll, expectCleanPage, expectQuiet, launchBrowser, openConsole, seriousAccessibilityViolations } from '../support/browser.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import type { TestCore } from '../support/test-core.js';
import { approveAgent, enrollAgent } from './device-fleet.js';

// The Security settings page (/): the chart of the four states against the API, live as real agents
// connect, the drill-down that saves one chart-generated query, and the irreversible switch behind
// its confirmation. The switch test runs last: once on, security stays on for this core.

const STATUSES = ['AUTHENTICATION_SUCCEEDED', 'NO_AUTHENTICATION_INFO', 'AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'] as const;
type Status = (typeof STATUSES)[number];
type Summary = SummaryQuery['authStatusSummary'];

describe('console: Security settings', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  let browser: Browser;
  const agents = agentsOf(() => tc.core);

  /** approvedAgent enrolls an agent, has the admin approve it and gives it its certificate (it has not connected yet). */
  async function approvedAgent(agentId: string): Promise<TestAgent> {
    const enrolled = await enrollAgent(agents, agentId);
    await approveAgent(tc, admin, enrolled);
    return enrolled.agent;
  }

  /** pendingAgent enrolls an agent nobody approves. */
  async function pendingAgent(agentId: string): Promise<TestAgent> {
    return (await enrollAgent(agents, agentId)).agent;
  }

  async function apiSummary(): Promise<Summary> {
    const res = await tc.gql(SummaryDocument, {}, admin);
    expect(res.errors).toBeUndefined();
    return res.data!.authStatusSummary;
  }

  /** shown reads the chart as the page shows it: each item's label, count and share, the success rate and the total. */
  async function shown(page: Page) {
    const items = {} as Record<Status, { label: string; count: number; countText: string; shareText: string }>;
    for (const status of STATUSES) {
      const item = page.getByTestId(`chart-item-${status}`);
      items[status] = {
        label: (await item.locator('.item-label').textContent())!,
        count: Number(await item.locator('.item-count data').getAttribute('value')),
        countText: (await item.locator('.item-count').textContent())!,
        shareText: (await item.locator('.item-share').textContent())!,
      };
    }
    const rate = page.getByTestId('success-rate').locator('data');
    const total = page.getByTestId('total-devices').locator('data');
    return {
      items,
      successRate: Number(await rate.getAttribute('value')),
      successRateText: (await rate.textContent())!,
      total: Number(await total.getAttribute('value')),
      totalText: (await total.textContent())!,
    };
  }

  /** expectChartMatches checks the page against the API's authStatusSummary, formatted as the page's locale formats numbers. */
  async function expectChartMatches(page: Page, summary: Summary) {
    const locale = (await page.evaluate('navigator.language')) as string;
    const pct = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
    const num = new Intl.NumberFormat(locale);
    const s = await shown(page);
    expect(summary.items.map((i) => i.status)).toEqual([...STATUSES]);
    for (const item of summary.items) {
      expect(s.items[item.status as Status], item.status).toEqual({
        label: item.label,
        count: item.count,
        countText: num.format(item.count),
        shareText: pct.format(summary.total > 0 ? item.count / summary.total : 0),
      });
    }
    expect(s.total).toBe(summary.total);
    expect(s.totalText).toBe(num.format(summary.total));
    expect(s.successRate).toBeCloseTo(summary.successRate, 10);
    expect(s.successRateText).toBe(pct.format(summary.successRate));
  }

  /** waitForCount waits until the page shows count for status, and says how long that took. */
  async function waitForCount(page: Page, status: Status, count: number, timeout = 5000): Promise<number> {
    const started = Date.now();
    await page
      .getByTestId(`chart-item-${status}`)
      .locator(`.item-count data[value="${count}"]`)
      .waitFor({ timeout });
    return Date.now() - started;
  }

  const canvasChartId = (page: Page) => page.locator('.status-chart canvas').getAttribute('data-chart-id');

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens());
    browser = await launchBrowser();
    // A small fleet in every state, made the real way: agents enroll, are approved and connect over mutual TLS.
    const reg = await tc.gql(
      RegisterDevicesDocument,
      {
        devices: [
          { name: 'PRINTER-2F' },
          { name: 'WS-LEGACY-1', agentId: 'legacy-1', agentVersion: '9.60' },
          { name: 'WS-LEGACY-2', agentId: 'legacy-2', agentVersion: '9.60' },
        ],
      },
      admin,
    );
    expect(reg.errors).toBeUndefined();
    for (const id of ['ws-ok-1', 'ws-ok-2', 'ws-ok-3']) expect((await (await approvedAgent(id)).connect()).status).toBe(200);
    for (const id of ['ws-pending-1', 'ws-pending-2']) expect((await (await pendingAgent(id)).connect()).status).toBe(403);
    for (const id of ['legacy-1', 'legacy-2']) {
      const legacy = agents.make(id, { agentVersion: '9.60.2' });
      expect((await legacy.connect({ cert: 'none' })).status).toBe(426);
    }
    const summary = await apiSummary();
    // The core itself and the printer have no authentication info.
    expect(summary.items.map((i) => i.count)).toEqual([3, 2, 2, 2]);
  });
  afterAll(() => closeAll({ agents, browser, tc }));

  it('shows the counts of authStatusSummary, and moves them live, without a reload, as agents connect', async () => {
    const c = await openConsole(browser, tc.url, admin);
    try {
      await c.page.getByRole('heading', { name: 'Security settings', level: 1 }).waitFor();
      await c.page.getByTestId('chart-item-AUTHENTICATION_SUCCEEDED').waitFor();
      await expectChartMatches(c.page, await apiSummary());
      // The items are a listbox a keyboard and a screen reader can use, not only a canvas.
      await expect.poll(() => c.page.getByRole('listbox', { name: 'Chart items' }).getByRole('option').count()).toBe(4);
      expect(await c.page.getByRole('img', { name: /Doughnut chart/ }).count()).toBe(1);

      await c.page.evaluate('window.__sameDocument = true');
      const chartId = await canvasChartId(c.page);
      expect(chartId).toMatch(/^\d+$/);
      const before = await apiSummary();
      const count = (s: Summary, status: Status) => s.items.find((i) => i.status === status)!.count;

      // An approved agent connects: Authentication succeeded +1 (its device was new: the total too).
      const fresh = await approvedAgent('ws-live-ok');
      await waitForCount(c.page, 'NO_AUTHENTICATION_INFO', count(before, 'NO_AUTHENTICATION_INFO') + 1);
      expect((await fresh.connect()).status).toBe(200);
      const succeededAfter = await waitForCount(c.page, 'AUTHENTICATION_SUCCEEDED', count(before, 'AUTHENTICATION_SUCCEEDED') + 1);
      await waitForCount(c.page, 'NO_AUTHENTICATION_INFO', count(before, 'NO_AUTHENTICATION_INFO'));
      // A pending agent tries to connect: Authentication failed +1.
      const pending = await pendingAgent('ws-live-pending');
      expect((await pending.connect()).status).toBe(403);
      const failedAfter = await waitForCount(c.page, 'AUTHENTICATION_FAILED', count(before, 'AUTHENTICATION_FAILED') + 1);
      // Pushed within a second of the agent's connection (the core coalesces pushes every 250 ms).
      expect(succeededAfter).toBeLessThan(1000);
      expect(failedAfter).toBeLessThan(1000);

      const after = await apiSummary();
      expect(after.total).toBe(before.total + 2);
      await expectChartMatches(c.page, after);
      // Same document (no reload), same Chart.js chart (updated in place, not made anew).
      expect(await c.page.evaluate('window.__sameDocument')).toBe(true);
      expect(await canvasChartId(c.page)).toBe(chartId);

      await c.page.waitForTimeout(500); // the chart's animation settles before the picture
      await c.screenshot('security-settings');
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('drills into a chart item: the network view filtered by it, and one saved query however often', async () => {
    const c = await openConsole(browser, tc.url, admin);
    const devicesUrl = `${c.origin}/devices?status=AUTHENTICATION_FAILED`;
    const backToChart = async () => {
      await c.page.goBack();
      await c.page.getByRole('heading', { name: 'Security settings', level: 1 }).waitFor();
      await c.page.getByTestId('chart-item-AUTHENTICATION_FAILED').waitFor();
    };
    const failedOption = () => c.page.getByRole('option', { name: /Authentication failed/ });
    try {
      await failedOption().waitFor();

      // 1. Double-click the legend item.
      await failedOption().dblclick();
      await c.page.waitForURL(devicesUrl);

      // 2. Select it and press Enter.
      await backToChart();
      await failedOption().click();
      expect(await failedOption().getAttribute('aria-selected')).toBe('true');
      await c.page.keyboard.press('Enter');
      await c.page.waitForURL(devicesUrl);

      // 3. Double-click its segment on the canvas. The doughnut starts at 12 o'clock and runs clockwise
      // in the order of the items; the point is half-way through the ring, in the middle of the segment.
      await backToChart();
      await c.page.waitForTimeout(500); // the chart's entry animation
      const summary = await apiSummary();
      const box = (await c.page.locator('.status-chart canvas').boundingBox())!;
      const index = summary.items.findIndex((i) => i.status === 'AUTHENTICATION_FAILED');
      const start = summary.items.slice(0, index).reduce((a, i) => a + i.count, 0);
      const angle = ((start + summary.items[index]!.count / 2) / summary.total) * 2 * Math.PI;
      const radius = (Math.min(box.width, box.height) / 2) * 0.75;
      await c.page.mouse.dblclick(box.x + box.width / 2 + radius * Math.sin(angle), box.y + box.height / 2 - radius * Math.cos(angle));
      await c.page.waitForURL(devicesUrl);

      // Three drill-downs, one chart-generated query for the item.
      const mine = await tc.gql(MyQueriesDocument, {}, admin);
      expect(mine.errors).toBeUndefined();
      const failedQueries = mine.data!.myQueries.filter((q) => q.authStatus === 'AUTHENTICATION_FAILED');
      expect(failedQueries).toHaveLength(1);
      expect(failedQueries[0]).toMatchObject({ name: 'Authentication failed', folder: ['My queries', 'Chart-generated queries'] });

      // Two double-clicks in one go (the second while the first is being saved): one save, one navigation.
      await backToChart();
      const saves: string[] = [];
      c.page.on('request', (req) => {
        if (req.method() === 'POST' && (req.postData() ?? '').includes('SaveChartQuery')) saves.push(req.url());
      });
      await c.page.evaluate(`(() => {
        const item = document.querySelector('[data-testid="chart-item-AUTHENTICATION_FAILED"]');
        for (let i = 0; i < 2; i++) item.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
      })()`);
      await c.page.waitForURL(devicesUrl);
      expect(saves).toHaveLength(1);
      const again = await tc.gql(MyQueriesDocument, {}, admin);
      expect(again.data!.myQueries.filter((q) => q.authStatus === 'AUTHENTICATION_FAILED')).toHaveLength(1);

      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('keyboard: arrows move the selection through the items, Enter drills into the selected one', async () => {
    const c = await openConsole(browser, tc.url, admin);
    try {
      const first = c.page.getByRole('option', { name: /Authentication succeeded/ });
      await first.waitFor();
      await first.focus();
      await c.page.keyboard.press('End');
      expect(await c.page.getByRole('option', { name: /Client agents must upgrade/ }).getAttribute('aria-selected')).toBe('true');
      await c.page.keyboard.press('ArrowUp');
      await c.page.keyboard.press('Enter');
      await c.page.waitForURL(`${c.origin}/devices?status=AUTHENTICATION_FAILED`);
      expect(c.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('a VIEWER sees the chart and the CA but no enable control, and drills down without saving', async () => {
    const c = await openConsole(browser, tc.url, viewer);
    try {
      await c.page.getByTestId('chart-item-AUTHENTICATION_FAILED').waitFor();
      await expectChartMatches(c.page, await apiSummary());
      const settings = (await tc.gql(SecuritySettingsDocument, {}, viewer)).data!.securitySettings;
      expect(await c.page.getByTestId('ca-subject').textContent()).toBe(settings.certificateAuthority.subject);
      expect(await c.page.getByTestId('ca-fingerprint').textContent()).toBe(settings.certificateAuthority.fingerprint);
      expect(await c.page.getByTestId('ca-not-after').locator('time').getAttribute('datetime')).toBe(settings.certificateAuthority.notAfter);
      await c.page.getByText('Only a security admin can enable it.').waitFor();
      expect(await c.page.getByRole('button', { name: /Enable/ }).count()).toBe(0);
      expect(await c.page.getByRole('dialog').count()).toBe(0);
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);

      await c.page.getByRole('option', { name: /Client agents must upgrade/ }).dblclick();
      await c.page.waitForURL(`${c.origin}/devices?status=CLIENT_AGENTS_MUST_UPGRADE`);
      const mine = await tc.gql(MyQueriesDocument, {}, viewer);
      expect(mine.data!.myQueries).toEqual([]);
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('enables client certificate-based security only through its confirmation; Cancel and Escape change nothing', async () => {
    const c = await openConsole(browser, tc.url, admin);
    const enabled = async () => (await tc.gql(SecuritySettingsDocument, {}, admin)).data!.securitySettings;
    const activeText = () => c.page.evaluate('document.activeElement && document.activeElement.textContent');
    try {
      const action = c.page.getByRole('button', { name: 'Enable client certificate-based security' });
      await action.waitFor();
      const ca = (await enabled()).certificateAuthority;
      expect(await c.page.getByTestId('ca-fingerprint').textContent()).toBe(ca.fingerprint);

      // Cancel: nothing changes, focus returns to the action.
      await action.click();
      const dialog = c.page.getByRole('dialog', { name: 'Enable client certificate-based security?' });
      await dialog.waitFor();
      const notReady = (await enabled()).devicesNotReady;
      expect(notReady).toBeGreaterThan(0);
      await expect.poll(() => dialog.getByTestId('dialog-devices-not-ready').textContent()).toContain(`${notReady} devices`);
      expect(await dialog.textContent()).toContain('cannot be disabled');
      expect(await activeText()).toBe('Cancel');
      await c.screenshot('security-settings-confirm');
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await activeText()).toBe('Enable client certificate-based security');
      expect((await enabled()).clientCertificateSecurityEnabled).toBe(false);

      // Escape: the same.
      await action.click();
      await dialog.waitFor();
      await c.page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect((await enabled()).clientCertificateSecurityEnabled).toBe(false);

      // Confirm: on, by whom and when; the action is gone.
      await action.click();
      await dialog.getByRole('button', { name: 'Enable permanently' }).click();
      await dialog.waitFor({ state: 'hidden' });
      const state = c.page.getByTestId('security-state');
      await expect.poll(() => state.textContent()).toContain('Enabled');
      expect(await c.page.getByTestId('enabled-by').textContent()).toBe('alice');
      const api = await enabled();
      expect(api).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice' });
      expect(await state.locator('time').getAttribute('datetime')).toBe(api.enabledAt);
      expect(await action.count()).toBe(0);
      expect(await activeText()).toBe(await state.textContent());

      // A reload: still on, still no action.
      await c.page.reload();
      await c.page.getByTestId('enabled-by').waitFor();
      expect(await c.page.getByTestId('security-state').textContent()).toContain('Enabled');
      expect(await c.page.getByRole('button', { name: /Enable/ }).count()).toBe(0);
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });
});
