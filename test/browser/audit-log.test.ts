import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ApproveClientDocument } from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { closeAll, expectQuiet, launchBrowser, openConsole, poll, seriousAccessibilityViolations } from '../support/browser.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import type { TestCore } from '../support/test-core.js';
import { enrollAgent } from './device-fleet.js';

// The Audit log page: who did what, newest first, a page at a time.
describe('console: Audit log', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  let browser: Browser;
  const agents = agentsOf(() => tc.core);
  const requestIds: string[] = [];

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens());
    browser = await launchBrowser();
    // Twelve enrollments, then twelve approvals: eleven by alice, the last by bob.
    for (let i = 1; i <= 12; i++) {
      const agentId = `audit-${String(i).padStart(2, '0')}`;
      requestIds.push((await enrollAgent(agents, agentId, { deviceName: agentId.toUpperCase() })).requestId);
    }
    const bob = await tc.token('bob', ['SECURITY_ADMIN']);
    for (const [k, id] of requestIds.entries()) {
      const res = await tc.gql(ApproveClientDocument, { id }, k === 11 ? bob : admin);
      expect(res.errors).toBeUndefined();
    }
  });
  afterAll(() => closeAll({ agents, browser, tc }));

  it('lists the approvals newest first with their actors, and pages forward and back', async () => {
    const c = await openConsole(browser, tc.url, viewer, '/audit');
    c.page.setDefaultTimeout(10_000);
    try {
      await c.page.getByRole('heading', { name: 'Audit log' }).waitFor();
      const rows = c.page.locator('table.audit-table tbody tr');
      await rows.first().waitFor();
      await c.page.getByLabel('Rows per page').selectOption('10');
      await poll(() => rows.count()).toBe(10);

      const cells = async (i: number) => (await rows.nth(i).locator('td').allTextContents()).map((t) => t.trim());
      const [, actor, action, target, details] = await cells(0);
      expect([actor, action, target]).toEqual(['bob', 'clientAccess.approved', requestIds[11]]);
      expect(details).toContain('audit-12');
      // The next nine are alice's approvals, newest first: audit-11 down to audit-03.
      for (let i = 1; i < 10; i++) {
        const [, a, act, t] = await cells(i);
        expect([a, act, t]).toEqual(['alice', 'clientAccess.approved', requestIds[11 - i]]);
      }
      const ids = async () => (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-event-id'))))) as number[];
      const times = async () => (await rows.locator('time').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')))) as string[];
      const page1 = await ids();
      expect([...page1].sort((x, y) => y - x)).toEqual(page1);
      const t1 = (await times()).map((t) => Date.parse(t));
      expect([...t1].sort((x, y) => y - x)).toEqual(t1);
      // Local time shown, UTC in the datetime attribute.
      expect(await rows.first().locator('time').textContent()).toBe(
        await c.page.evaluate((iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }), (await times())[0]!),
      );
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      await c.screenshot('audit-log');

      const pager = c.page.getByRole('navigation', { name: 'Audit log pages' });
      expect(await pager.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
      await pager.getByRole('button', { name: 'Next' }).click();
      await poll(async () => (await ids())[0]).toBeLessThan(page1.at(-1)!);
      const page2 = await ids();
      expect([...page2].sort((x, y) => y - x)).toEqual(page2);
      expect((await cells(0)).slice(1, 4)).toEqual(['alice', 'clientAccess.approved', requestIds[1]]);
      expect((await cells(1)).slice(1, 4)).toEqual(['alice', 'clientAccess.approved', requestIds[0]]);
      // Then the enrollments, by their agents.
      expect((await cells(2)).slice(1, 4)).toEqual(['agent:audit-12', 'clientAccess.requested', requestIds[11]]);

      await pager.getByRole('button', { name: 'Previous' }).click();
      await poll(() => ids()).toEqual(page1);
      expect(await pager.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });
});
