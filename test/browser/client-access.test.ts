import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  ApproveClientDocument,
  ClientAccessRequestsDocument,
  RejectClientDocument,
  SummaryDocument,
  type ClientCertificateStatus,
} from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import {
  closeAll,
  expectCleanPage,
  expectQuiet,
  launchBrowser,
  openConsole,
  poll,
  seriousAccessibilityViolations,
  type ConsolePage,
} from '../support/browser.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import type { TestCore } from '../support/test-core.js';
import { enrollAgent, installCertificate } from './device-fleet.js';

// Manage client access in the console, against a real core with real agents over mutual TLS:
// live arrivals and decisions, bulk approval with per-item failures, reject, revoke, search,
// paging, and what a VIEWER is (not) offered.

describe('console: Manage client access', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  let browser: Browser;
  const agents = agentsOf(() => tc.core);

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens());
    browser = await launchBrowser();
  });
  afterAll(() => closeAll({ agents, browser, tc }));

  /** enroll makes an agent named agentId whose device asks to be called AGENTID, and sends its request. */
  const enroll = (agentId: string) => enrollAgent(agents, agentId, { deviceName: agentId.toUpperCase() });

  /** statusOf reads a request's status through the API. */
  const statusOf = async (id: string): Promise<ClientCertificateStatus | undefined> => {
    const res = await tc.gql(ClientAccessRequestsDocument, { first: 500 }, admin);
    expect(res.errors).toBeUndefined();
    return res.data!.clientAccessRequests.edges.find((e) => e.node.id === id)?.node.status;
  };

  const approveByApi = async (id: string) => {
    const res = await tc.gql(ApproveClientDocument, { id }, admin);
    expect(res.errors).toBeUndefined();
  };

  /**
   * openAccessPage opens the console on the Audit log (which subscribes to nothing), then moves to
   * Manage client access in the page, and waits until the page has sent both its subscriptions: an
   * agent acting after that is seen live.
   */
  const openAccessPage = async (token: string): Promise<ConsolePage> => {
    const c = await openConsole(browser, tc.url, token, '/audit');
    // A step that never comes fails with what it waited for, inside the test's time.
    c.page.setDefaultTimeout(10_000);
    const sent = new Set<string>();
    const subscribed = new Promise<void>((resolve) => {
      c.page.on('websocket', (ws) =>
        ws.on('framesent', (f) => {
          const payload = String(f.payload);
          for (const name of ['clientAccessRequested', 'clientAccessDecided']) if (payload.includes(name)) sent.add(name);
          if (sent.size === 2) resolve();
        }),
      );
    });
    await c.page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await c.page.getByRole('link', { name: 'Manage client access' }).click();
    await c.page.getByRole('heading', { name: 'Manage client access' }).waitFor();
    await subscribed;
    // The core registers a subscription as it reads the message; leave it that moment.
    await new Promise((r) => setTimeout(r, 200));
    return c;
  };

  const tab = (c: ConsolePage, name: string) => c.page.getByRole('tab', { name: new RegExp(`^${name}\\b`) });
  const rowOf = (c: ConsolePage, agentId: string) =>
    c.page.getByRole('tabpanel').locator('tbody tr').filter({ has: c.page.getByText(agentId, { exact: true }) });
  const search = async (c: ConsolePage, text: string) => {
    await c.page.getByLabel('Search device name or agent id').fill(text);
  };

  it('shows a new request live, approves it from the page, and the agent then authenticates', async () => {
    const c = await openAccessPage(admin);
    try {
      await poll(() => tab(c, 'Pending').getAttribute('aria-selected')).toBe('true');
      expect(c.page.url()).toContain('/client-access');
      await poll(() => rowOf(c, 'pc-live').count()).toBe(0);

      const { agent, requestId } = await enroll('pc-live');
      await rowOf(c, 'pc-live').waitFor();
      await c.page.getByText('New request from PC-LIVE').waitFor();
      await poll(() => tab(c, 'Pending').textContent()).toMatch(/Pending\s*1$/);
      const row = rowOf(c, 'pc-live');
      expect(await row.textContent()).toContain('EC-P256');
      expect(await row.locator('code[title]').getAttribute('title')).toMatch(/^[0-9a-f]{64}$/);
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);

      await c.page.getByRole('checkbox', { name: 'Select PC-LIVE (pc-live)' }).check();
      await c.page.getByText('1 selected').waitFor();
      await c.screenshot('client-access');
      await c.page.getByRole('button', { name: 'Approve', exact: true }).click();
      await c.page.getByRole('heading', { name: 'Approve: 1 approved' }).waitFor();
      await poll(() => rowOf(c, 'pc-live').count()).toBe(0);
      expect(await statusOf(requestId)).toBe('APPROVED');

      await tab(c, 'Approved').click();
      await poll(() => c.page.url()).toContain('tab=approved');
      await rowOf(c, 'pc-live').waitFor();
      expect(await rowOf(c, 'pc-live').textContent()).toContain('alice');
      await c.screenshot('client-access-approved');

      // The agent fetches its certificate and connects with it: the chart counts it.
      await installCertificate({ agent, requestId });
      const connected = await agent.connect();
      expect([connected.status, connected.body]).toEqual([200, { status: 'AUTHENTICATION_SUCCEEDED', reason: null }]);
      const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
      expect(summary.succeeded).toBe(1);

      // The Security settings chart counts it too (its succeeded item, live from authStatusSummaryChanged).
      await c.page.getByRole('link', { name: 'Security settings' }).click();
      const item = c.page.getByTestId('chart-item-AUTHENTICATION_SUCCEEDED');
      await poll(() => item.locator('.item-count data').getAttribute('value')).toBe('1');

      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('approves a selection in one call and reports the one someone decided meanwhile, with its code', async () => {
    const ids = new Map<string, string>();
    for (const a of ['bulk-1', 'bulk-2', 'bulk-3']) ids.set(a, (await enroll(a)).requestId);
    const c = await openAccessPage(admin);
    try {
      await search(c, 'bulk-');
      await poll(() => c.page.getByRole('tabpanel').locator('tbody tr').count()).toBe(3);
      for (const a of ['bulk-1', 'bulk-2', 'bulk-3']) {
        await c.page.getByRole('checkbox', { name: `Select ${a.toUpperCase()} (${a})` }).check();
      }
      await c.page.getByText('3 selected').waitFor();

      // Someone else rejects one of them: it leaves the list live, and stays in the selection.
      const rejected = await tc.gql(RejectClientDocument, { id: ids.get('bulk-2')!, reason: 'not ours' }, admin);
      expect(rejected.errors).toBeUndefined();
      await poll(() => rowOf(c, 'bulk-2').count()).toBe(0);
      await c.page.getByText('3 selected (1 not shown on this page)').waitFor();

      await c.page.getByRole('button', { name: 'Approve', exact: true }).click();
      const result = c.page.getByRole('region', { name: 'Approve: 2 approved, 1 not approved' });
      await result.waitFor();
      const failed = result.locator('ul.bulk-failed li');
      expect(await failed.count()).toBe(1);
      expect(await failed.textContent()).toContain('BULK-2');
      expect(await failed.textContent()).toContain(`request ${ids.get('bulk-2')}`);
      expect(await failed.textContent()).toContain('REQUEST_NOT_PENDING');
      expect(await result.locator('ul.bulk-done li').allTextContents()).toEqual([
        expect.stringContaining('BULK-1'),
        expect.stringContaining('BULK-3'),
      ]);
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      await c.screenshot('client-access-bulk-result');

      expect(await statusOf(ids.get('bulk-1')!)).toBe('APPROVED');
      expect(await statusOf(ids.get('bulk-2')!)).toBe('REJECTED');
      expect(await statusOf(ids.get('bulk-3')!)).toBe('APPROVED');
      await poll(() => c.page.getByRole('tabpanel').locator('tbody tr').count()).toBe(0);
      await c.page.getByText('No pending requests match “bulk-”.').waitFor();
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('rejects from the page, and revokes an approved certificate with a reason', async () => {
    const { requestId: rejectId } = await enroll('rej-1');
    const { requestId: revokeId } = await enroll('rev-1');
    await approveByApi(revokeId);
    const c = await openAccessPage(admin);
    try {
      await search(c, 'rej-1');
      await rowOf(c, 'rej-1').waitFor();
      await c.page.getByRole('checkbox', { name: 'Select REJ-1 (rej-1)' }).check();
      await c.page.getByRole('button', { name: 'Reject…' }).click();
      const rejectDialog = c.page.getByRole('dialog', { name: 'Reject 1 request' });
      await rejectDialog.waitFor();
      await rejectDialog.getByLabel('Reason (optional, kept in the audit log)').fill('unknown machine');
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      await rejectDialog.getByRole('button', { name: 'Reject 1 request' }).click();
      await c.page.getByRole('heading', { name: 'Reject: 1 rejected' }).waitFor();
      await poll(() => rejectDialog.count()).toBe(0);
      expect(await statusOf(rejectId)).toBe('REJECTED');
      await tab(c, 'Rejected').click();
      await rowOf(c, 'rej-1').waitFor();
      expect(await rowOf(c, 'rej-1').textContent()).toContain('alice');

      // Arrow keys move between the tabs (and select the one they land on).
      await tab(c, 'Rejected').focus();
      await c.page.keyboard.press('ArrowLeft');
      await poll(() => tab(c, 'Approved').getAttribute('aria-selected')).toBe('true');
      await poll(() => c.page.evaluate('document.activeElement.getAttribute("role")')).toBe('tab');
      expect(c.page.url()).toContain('tab=approved');

      await search(c, 'rev-1');
      await rowOf(c, 'rev-1').waitFor();
      await c.page.getByRole('button', { name: 'Revoke certificate of REV-1' }).click();
      const revokeDialog = c.page.getByRole('dialog', { name: 'Revoke the certificate of REV-1' });
      await revokeDialog.waitFor();
      await revokeDialog.getByLabel('Reason').selectOption('KEY_COMPROMISE');
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      await c.screenshot('client-access-revoke-dialog');
      await revokeDialog.getByRole('button', { name: 'Revoke certificate' }).click();
      await poll(() => revokeDialog.count()).toBe(0);
      await c.page.getByText('Revoked the certificate of REV-1').waitFor();
      await poll(() => rowOf(c, 'rev-1').count()).toBe(0);

      const revoked = (await tc.gql(ClientAccessRequestsDocument, { filter: { statuses: ['REVOKED'], search: 'rev-1' } }, admin)).data!
        .clientAccessRequests.edges;
      expect(revoked.map((e) => [e.node.id, e.node.revocationReason])).toEqual([[revokeId, 'KEY_COMPROMISE']]);
      await tab(c, 'Revoked').click();
      await rowOf(c, 'rev-1').waitFor();
      expect(await rowOf(c, 'rev-1').textContent()).toContain('Key compromise');
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });

  it('search narrows the list and the counts; pages go forward and back', async () => {
    for (let i = 1; i <= 12; i++) await enroll(`page-${String(i).padStart(2, '0')}`);
    await enroll('needle-7');
    const c = await openAccessPage(admin);
    try {
      const rows = c.page.getByRole('tabpanel').locator('tbody tr');
      await poll(() => rows.count()).toBeGreaterThan(12);
      await search(c, 'needle');
      await poll(() => rows.count()).toBe(1);
      await rowOf(c, 'needle-7').waitFor();
      await poll(() => tab(c, 'Pending').textContent()).toMatch(/Pending\s*1$/);
      await poll(() => tab(c, 'Approved').textContent()).toMatch(/Approved\s*0$/);

      await search(c, 'page-');
      await c.page.getByLabel('Rows per page').selectOption('10');
      await poll(() => rows.count()).toBe(10);
      const pager = c.page.getByRole('navigation', { name: 'Pending requests pages' });
      const first = await rows.first().getAttribute('data-request-id');
      expect(await pager.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
      await pager.getByRole('button', { name: 'Next' }).click();
      await poll(() => rows.count()).toBe(2);
      await rowOf(c, 'page-12').waitFor();
      expect(await pager.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
      await pager.getByRole('button', { name: 'Previous' }).click();
      await poll(() => rows.count()).toBe(10);
      await poll(() => rows.first().getAttribute('data-request-id')).toBe(first);
      await rowOf(c, 'page-01').waitFor();
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('offers a VIEWER no checkboxes, approve, reject or revoke', async () => {
    await enroll('view-1');
    await approveByApi((await enroll('view-2')).requestId);
    const c = await openConsole(browser, tc.url, viewer, '/client-access?tab=pending');
    c.page.setDefaultTimeout(10_000);
    try {
      await rowOf(c, 'view-1').waitFor();
      const panel = c.page.getByRole('tabpanel');
      expect(await panel.getByRole('checkbox').count()).toBe(0);
      expect(await c.page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
      expect(await c.page.getByRole('button', { name: /^Reject/ }).count()).toBe(0);
      expect(await seriousAccessibilityViolations(c.page)).toEqual([]);
      await tab(c, 'Approved').click();
      await rowOf(c, 'view-2').waitFor();
      expect(await c.page.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
      expect(await panel.getByRole('checkbox').count()).toBe(0);
      await c.screenshot('client-access-viewer');
      expectQuiet(c);
    } finally {
      await c.close();
    }
  });
});
