import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { CreateChartQueryDocument, MyQueriesDocument, SavedQueryDocument } from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { closeAll, expectCleanPage, launchBrowser, openConsole, seriousAccessibilityViolations } from '../support/browser.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { errorCode, type TestCore } from '../support/test-core.js';
import { apiDevices, approveAgent, makeFleet, shownTotal, tableNames, type Fleet } from './device-fleet.js';

// My queries (/queries) and a saved query's devices (/queries/<id>): the chart's double-click saves a
// query through the API (createChartQuery), as the Security settings page does.
describe('console: My queries', () => {
  let tc: TestCore;
  let admin: string;
  let browser: Browser;
  let fleet: Fleet;
  let agents: ReturnType<typeof agentsOf>;

  beforeAll(async () => {
    ({ tc, admin } = await startCoreWithTokens());
    agents = agentsOf(() => tc.core);
    fleet = await makeFleet(tc, admin, agents, { prefix: 'mq', imported: 4, succeeded: 2, pending: 5 });
    browser = await launchBrowser();
  });
  afterAll(() => closeAll({ agents, browser, tc }));

  const chartQuery = async (status: 'AUTHENTICATION_FAILED' | 'AUTHENTICATION_SUCCEEDED') => {
    const res = await tc.gql(CreateChartQueryDocument, { status }, admin);
    expect(res.errors).toBeUndefined();
    return res.data!.createChartQuery;
  };

  it('lists a chart-generated query under My queries > Chart-generated queries; opening it shows exactly the failed devices, paged', async () => {
    const c = await openConsole(browser, tc.url, admin, '/queries');
    try {
      const { page } = c;
      await page.getByText('No saved queries yet.').waitFor();
      const saved = await chartQuery('AUTHENTICATION_FAILED');
      expect(saved.folder).toEqual(['My queries', 'Chart-generated queries']);
      await page.reload();
      const folder = page.getByRole('list', { name: 'My queries' }).getByRole('list', { name: 'Chart-generated queries' });
      const link = folder.getByRole('link', { name: 'Authentication failed' });
      await link.waitFor();
      expect(await link.getAttribute('href')).toBe(`/queries/${saved.id}`);
      await c.screenshot('my-queries');
      await expectCleanPage(c);

      await link.click();
      await page.getByRole('heading', { name: 'Authentication failed', level: 1 }).waitFor();
      expect(page.url()).toBe(`${c.origin}/queries/${saved.id}`);
      const failed = await apiDevices(tc, admin, { authStatus: ['AUTHENTICATION_FAILED'] });
      expect(failed.devices.map((d) => d.name).sort()).toEqual(fleet.pending.map((a) => a.name).sort());
      const table = `Devices of ${saved.name}`;
      await expect.poll(() => tableNames(page, table)).toEqual(failed.devices.map((d) => d.name));
      expect(await shownTotal(page)).toBe(failed.totalCount);
      // The saved query's own answer agrees.
      const own = (await tc.gql(SavedQueryDocument, { id: saved.id, first: 100 }, admin)).data!.savedQuery!.devices;
      expect(own.edges.map((e) => e.node.name)).toEqual(failed.devices.map((d) => d.name));
      await expectCleanPage(c);

      // Pages of two: forward to the end, and back to the first.
      await page.goto(`${c.origin}/queries/${saved.id}?size=2`);
      const names = failed.devices.map((d) => d.name);
      await expect.poll(() => tableNames(page, table)).toEqual(names.slice(0, 2));
      const pager = page.getByRole('navigation', { name: 'Device pages' });
      await pager.getByRole('button', { name: 'Next' }).click();
      await expect.poll(() => tableNames(page, table)).toEqual(names.slice(2, 4));
      await pager.getByRole('button', { name: 'Next' }).click();
      await expect.poll(() => tableNames(page, table)).toEqual(names.slice(4));
      expect(await pager.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
      await pager.getByRole('button', { name: 'Previous' }).click();
      await pager.getByRole('button', { name: 'Previous' }).click();
      await expect.poll(() => tableNames(page, table)).toEqual(names.slice(0, 2));
      await expect.poll(() => pager.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);

      // It is evaluated at each read: a pending agent approved and connected leaves it.
      const moved = fleet.pending[0]!;
      await approveAgent(tc, admin, moved);
      expect((await moved.agent.connect()).status).toBe(200);
      await page.goto(`${c.origin}/queries/${saved.id}`);
      const now = await apiDevices(tc, admin, { authStatus: ['AUTHENTICATION_FAILED'] });
      expect(now.totalCount).toBe(failed.totalCount - 1);
      await expect.poll(() => tableNames(page, table)).toEqual(now.devices.map((d) => d.name));
      expect(await shownTotal(page)).toBe(now.totalCount);
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('a VIEWER sees the queries saved under its subject, and no Delete', async () => {
    // The same subject with the VIEWER role only: the same queries, read-only.
    const readOnly = await tc.token('alice', ['VIEWER']);
    const c = await openConsole(browser, tc.url, readOnly, '/queries');
    try {
      const { page } = c;
      await page.getByRole('list', { name: 'Chart-generated queries' }).getByRole('link', { name: 'Authentication failed' }).waitFor();
      expect(await page.getByRole('button', { name: /Delete/ }).count()).toBe(0);
      await page.getByRole('link', { name: 'Authentication failed' }).click();
      await page.getByRole('heading', { name: 'Authentication failed', level: 1 }).waitFor();
      expect(await page.getByRole('button', { name: /Delete/ }).count()).toBe(0);
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('Delete asks first, then removes the query (the API agrees), from the list and from its own page', async () => {
    const failedQuery = (await tc.gql(MyQueriesDocument, {}, admin)).data!.myQueries.find((q) => q.authStatus === 'AUTHENTICATION_FAILED')!;
    const succeededQuery = await chartQuery('AUTHENTICATION_SUCCEEDED');
    const c = await openConsole(browser, tc.url, admin, '/queries');
    try {
      const { page } = c;
      const folder = page.getByRole('list', { name: 'Chart-generated queries' });
      await folder.getByRole('link', { name: 'Authentication succeeded' }).waitFor();
      expect(await folder.getByRole('link').allTextContents()).toEqual(['Authentication failed', 'Authentication succeeded']);

      // Cancel keeps it.
      await page.getByRole('button', { name: 'Delete Authentication failed' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete the query “Authentication failed”?' });
      await dialog.waitFor();
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => dialog.isVisible()).toBe(false);
      expect((await tc.gql(MyQueriesDocument, {}, admin)).data!.myQueries).toHaveLength(2);

      // Confirmed, it goes.
      await page.getByRole('button', { name: 'Delete Authentication failed' }).click();
      await dialog.getByRole('button', { name: 'Delete query' }).click();
      await expect.poll(() => folder.getByRole('link').allTextContents()).toEqual(['Authentication succeeded']);
      expect((await tc.gql(MyQueriesDocument, {}, admin)).data!.myQueries.map((q) => q.id)).toEqual([succeededQuery.id]);
      expect(errorCode(await tc.gql(SavedQueryDocument, { id: failedQuery.id }, admin))).toBe('NOT_FOUND');

      // From its own page: back to the list, which is empty now.
      await folder.getByRole('link', { name: 'Authentication succeeded' }).click();
      await page.getByRole('heading', { name: 'Authentication succeeded', level: 1 }).waitFor();
      const succeeded = await apiDevices(tc, admin, { authStatus: ['AUTHENTICATION_SUCCEEDED'] });
      await expect.poll(() => tableNames(page, 'Devices of Authentication succeeded')).toEqual(succeeded.devices.map((d) => d.name));
      await page.getByRole('button', { name: 'Delete Authentication succeeded' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete query' }).click();
      await page.getByText('No saved queries yet.').waitFor();
      expect(page.url()).toBe(`${c.origin}/queries`);
      expect((await tc.gql(MyQueriesDocument, {}, admin)).data!.myQueries).toEqual([]);

      // A deleted query's address says so.
      await page.goto(`${c.origin}/queries/${failedQuery.id}`);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('NOT_FOUND');
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });
});
