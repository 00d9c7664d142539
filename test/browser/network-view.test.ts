import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { DeviceDocument, EnableSecurityDocument, RevokeClientCertificateDocument } from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { closeAll, expectCleanPage, launchBrowser, openConsole, seriousAccessibilityViolations } from '../support/browser.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import type { TestCore } from '../support/test-core.js';
import { apiDevices, makeFleet, shownTotal, tableNames, type Fleet } from './device-fleet.js';

// The network view (/devices) and a device's page (/devices/<id>), on a fleet of real devices:
// imported ones, real agents approved and connected, pending agents that connected anyway, 9.x agents.
describe('console: network view and device detail', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  let browser: Browser;
  let fleet: Fleet;
  let agents: ReturnType<typeof agentsOf>;

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens());
    agents = agentsOf(() => tc.core);
    // 30 imported + 3 + 3 + 1 + the core server itself: more than one page of 25.
    fleet = await makeFleet(tc, admin, agents, { prefix: 'nv', imported: 30, succeeded: 3, pending: 3, old: 1 });
    browser = await launchBrowser();
  });
  afterAll(() => closeAll({ agents, browser, tc }));

  it("/devices?status=AUTHENTICATION_FAILED (the chart's drill-down) shows exactly the failed devices, and keeps them on reload", async () => {
    const failed = await apiDevices(tc, admin, { authStatus: ['AUTHENTICATION_FAILED'] });
    expect(failed.devices.map((d) => d.name).sort()).toEqual(fleet.pending.map((a) => a.name).sort());
    const c = await openConsole(browser, tc.url, admin, '/devices?status=AUTHENTICATION_FAILED');
    try {
      const { page } = c;
      await page.getByRole('heading', { name: 'Network view', level: 1 }).waitFor();
      await expect.poll(() => tableNames(page)).toEqual(failed.devices.map((d) => d.name));
      expect(await shownTotal(page)).toBe(failed.totalCount);
      expect(await page.getByRole('checkbox', { name: 'Authentication failed' }).isChecked()).toBe(true);
      expect(await page.getByRole('checkbox', { name: 'Authentication succeeded' }).isChecked()).toBe(false);
      // Each row says its status in the chart's words, with the chart item's class, and why it failed.
      const rows = page.getByRole('table', { name: 'Devices' }).locator('tbody tr');
      expect(await rows.count()).toBe(failed.totalCount);
      for (let i = 0; i < failed.totalCount; i++) {
        const status = rows.nth(i).locator('td').nth(3).locator('span');
        expect(await status.textContent()).toBe('Authentication failed');
        expect(await status.getAttribute('class')).toBe('status AUTHENTICATION_FAILED');
        expect(await rows.nth(i).locator('td').nth(4).textContent()).toBe('Certificate not approved');
        expect(await rows.nth(i).locator('td').nth(5).textContent()).toContain('Secure connection');
        // Security is not enabled on this core yet, so the API says every device is fully manageable.
        expect(await rows.nth(i).locator('td').nth(6).textContent()).toBe(failed.devices[i]!.fullyManageable ? 'Yes' : 'No');
      }
      await c.screenshot('network-view');
      await expectCleanPage(c);

      await page.reload();
      await expect.poll(() => tableNames(page)).toEqual(failed.devices.map((d) => d.name));
      expect(page.url()).toBe(`${c.origin}/devices?status=AUTHENTICATION_FAILED`);

      // Several statuses: the URL repeats the parameter, the history entry is replaced (not pushed).
      const historyLength = await page.evaluate('history.length');
      await page.getByRole('checkbox', { name: 'Client agents must upgrade' }).check();
      await expect.poll(() => page.url()).toBe(`${c.origin}/devices?status=AUTHENTICATION_FAILED&status=CLIENT_AGENTS_MUST_UPGRADE`);
      const both = await apiDevices(tc, admin, { authStatus: ['AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'] });
      expect(both.totalCount).toBe(fleet.pending.length + fleet.old.length);
      await expect.poll(() => tableNames(page)).toEqual(both.devices.map((d) => d.name));
      expect(await shownTotal(page)).toBe(both.totalCount);
      expect(await page.evaluate('history.length')).toBe(historyLength);

      // The failure reason narrows within them: nothing else fails here, so a reason none has shows none.
      await page.getByLabel('Failure reason').selectOption('CERTIFICATE_NOT_APPROVED');
      await expect.poll(() => tableNames(page)).toEqual(failed.devices.map((d) => d.name));
      expect(new URL(page.url()).searchParams.getAll('reason')).toEqual(['CERTIFICATE_NOT_APPROVED']);
      await page.getByLabel('Failure reason').selectOption('CERTIFICATE_REVOKED');
      await expect.poll(() => shownTotal(page)).toBe(0);
      await page.getByText('No devices match.').waitFor();
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('the search box narrows by device name or by agent id, and lives in the URL', async () => {
    const c = await openConsole(browser, tc.url, viewer, '/devices');
    try {
      const { page } = c;
      const all = await apiDevices(tc, viewer, null);
      await expect.poll(() => shownTotal(page)).toBe(all.totalCount);
      const search = page.getByLabel('Search name or agent id');
      await search.fill('nv-pend');
      await expect.poll(() => tableNames(page)).toEqual(fleet.pending.map((a) => a.name));
      expect(await shownTotal(page)).toBe(fleet.pending.length);
      expect(new URL(page.url()).searchParams.get('q')).toBe('nv-pend');
      // An agent id that is not in any name: the imported device it belongs to.
      const target = fleet.imported[7]!;
      await search.fill(target.agentId.toUpperCase());
      await expect.poll(() => tableNames(page)).toEqual([target.name]);
      const api = await apiDevices(tc, viewer, { search: target.agentId.toUpperCase() });
      expect(api.devices.map((d) => d.name)).toEqual([target.name]);
      // Search and status together.
      await page.goto(`${c.origin}/devices?status=AUTHENTICATION_SUCCEEDED&q=nv-`);
      await expect.poll(() => tableNames(page)).toEqual(fleet.succeeded.map((a) => a.name));
      expect(await search.inputValue()).toBe('nv-');
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expect.poll(() => page.url()).toBe(`${c.origin}/devices`);
      await expect.poll(() => shownTotal(page)).toBe(all.totalCount);
      expect(await search.inputValue()).toBe('');
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('pages with cursors: Next shows the rest, Previous returns to the first page', async () => {
    const all = await apiDevices(tc, admin, null);
    expect(all.totalCount).toBeGreaterThan(25);
    const c = await openConsole(browser, tc.url, admin, '/devices');
    try {
      const { page } = c;
      const firstPage = all.devices.slice(0, 25).map((d) => d.name);
      await expect.poll(() => tableNames(page)).toEqual(firstPage);
      const previous = page.getByRole('navigation', { name: 'Device pages' }).getByRole('button', { name: 'Previous' });
      const next = page.getByRole('navigation', { name: 'Device pages' }).getByRole('button', { name: 'Next' });
      expect(await previous.isDisabled()).toBe(true);
      await next.click();
      await expect.poll(() => tableNames(page)).toEqual(all.devices.slice(25).map((d) => d.name));
      expect(new URL(page.url()).searchParams.get('after')).toBeTruthy();
      expect(await next.isDisabled()).toBe(true);
      expect(await shownTotal(page)).toBe(all.totalCount);
      await previous.click();
      await expect.poll(() => tableNames(page)).toEqual(firstPage);
      expect(new URL(page.url()).searchParams.get('before')).toBeTruthy();
      await expect.poll(() => previous.isDisabled()).toBe(true);
      expect(await next.isDisabled()).toBe(false);
      // The page size is the URL's too.
      await page.goto(`${c.origin}/devices?size=10`);
      await expect.poll(() => tableNames(page)).toEqual(all.devices.slice(0, 10).map((d) => d.name));
      await next.click();
      await expect.poll(() => tableNames(page)).toEqual(all.devices.slice(10, 20).map((d) => d.name));
      expect(new URL(page.url()).searchParams.get('size')).toBe('10');
      // Back returns to the page before.
      await page.goBack();
      await expect.poll(() => tableNames(page)).toEqual(all.devices.slice(0, 10).map((d) => d.name));
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('a device page shows the inventory tree, the connection history (with unverified attempts) and the certificates; revoking moves the device to Authentication failed', async () => {
    const target = fleet.succeeded[0]!;
    // Someone else's key claiming this device: kept in its history as unverified, never applied.
    const impostor = agents.make(target.agent.agentId, { deviceName: 'impostor', agentVersion: '2024.1' });
    await impostor.connect();
    // Unverified attempts are written after the answer, gathered for up to a second (the log's flushMs):
    // wait until the API has it, for longer than that second (poll's own default is one second too).
    const targetId = (await apiDevices(tc, admin, { search: target.name })).devices[0]!.id;
    await expect
      .poll(async () => (await tc.gql(DeviceDocument, { id: targetId }, admin)).data!.device!.unverifiedAttempts, { timeout: 5_000 })
      .toBe(1);
    const c = await openConsole(browser, tc.url, admin, `/devices?q=${encodeURIComponent(target.name)}`);
    try {
      const { page } = c;
      await page.getByRole('link', { name: target.name }).click();
      await page.getByRole('heading', { name: target.name, level: 1 }).waitFor();
      const deviceId = new URL(page.url()).pathname.split('/').pop()!;
      expect(deviceId).toBe(targetId);
      const before = (await tc.gql(DeviceDocument, { id: deviceId, historyFirst: 20 }, admin)).data!.device!;
      expect(before).toMatchObject({ name: target.name, authStatus: 'AUTHENTICATION_SUCCEEDED', unverifiedAttempts: 1 });

      const header = page.locator('header.device-header');
      expect(await header.locator('.status').textContent()).toBe('Authentication succeeded');

      // The inventory tree: Ivanti Management > Client certificate-based security > Authentication status.
      const ivanti = page.getByRole('list', { name: 'Ivanti Management' });
      const ccbs = ivanti.getByRole('list', { name: 'Client certificate-based security' });
      await expect.poll(() => ccbs.getByRole('listitem').filter({ hasText: 'Authentication status' }).textContent()).toBe(
        'Authentication status: Authentication succeeded',
      );
      expect(await ccbs.getByRole('listitem').filter({ hasText: 'Fully manageable' }).textContent()).toBe('Fully manageable: Yes');
      expect(await ivanti.getByRole('list', { name: 'Agent' }).getByRole('listitem').filter({ hasText: 'Device ID' }).textContent()).toBe(
        `Device ID: ${target.agent.agentId}`,
      );

      // The connection history, newest first: the impostor's unverified attempt, then the agent's own.
      const history = page.getByRole('table', { name: 'Connection attempts, newest first' });
      const historyRows = history.locator('tbody tr');
      expect(await historyRows.count()).toBe(before.connectionHistory.edges.length);
      expect(before.connectionHistory.edges[0]!.node.verified).toBe(false);
      expect(await historyRows.nth(0).locator('td').last().textContent()).toContain('No');
      expect(await historyRows.nth(0).locator('td').last().textContent()).toContain('did not change the device');
      expect(await historyRows.nth(1).textContent()).toContain('Authentication succeeded');
      expect(await historyRows.nth(1).locator('td').last().textContent()).toBe('Yes');

      // The certificates: the approved one, with its serial, validity and key fingerprint.
      const certs = page.getByRole('table', { name: 'Client certificates and requests, oldest first' });
      const cert = (await tc.gql(DeviceDocument, { id: deviceId }, admin)).data!.device!.certificates[0]!;
      expect(cert.status).toBe('APPROVED');
      const certRow = certs.locator('tbody tr').first();
      const serial = (await certRow.locator('td').nth(1).textContent())!;
      expect(serial).toMatch(/^[0-9a-f]+$/);
      expect(await certRow.locator('td').first().textContent()).toBe('Approved');
      await c.screenshot('device-detail');
      await expectCleanPage(c);

      // Revoke, with a reason: a dialog asks first.
      await certRow.getByRole('button', { name: `Revoke certificate ${serial}` }).click();
      const dialog = page.getByRole('dialog', { name: `Revoke certificate ${serial}?` });
      await dialog.waitFor();
      expect(await seriousAccessibilityViolations(page)).toEqual([]);
      await dialog.getByLabel('Reason').selectOption('KEY_COMPROMISE');
      await dialog.getByRole('button', { name: 'Revoke certificate' }).click();
      await page.getByRole('status').filter({ hasText: `Certificate ${serial} revoked (Key compromise).` }).waitFor();
      expect(await dialog.isVisible()).toBe(false);

      const after = (await tc.gql(DeviceDocument, { id: deviceId }, admin)).data!.device!;
      expect(after).toMatchObject({ authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_REVOKED' });
      expect(after.certificates[0]!.status).toBe('REVOKED');
      await expect.poll(() => header.locator('.status').textContent()).toBe('Authentication failed');
      expect(await header.textContent()).toContain('Certificate revoked');
      await expect.poll(() => certRow.locator('td').first().textContent()).toContain('Revoked');
      expect(await certRow.locator('td').first().textContent()).toContain('Key compromise');
      expect(await certRow.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
      await expect.poll(() => ccbs.getByRole('listitem').filter({ hasText: 'Authentication status' }).textContent()).toBe(
        'Authentication status: Authentication failed',
      );

      // The network view agrees.
      await page.goto(`${c.origin}/devices?status=AUTHENTICATION_FAILED&q=${encodeURIComponent(target.name)}`);
      await expect.poll(() => tableNames(page)).toEqual([target.name]);
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it('a VIEWER sees a device and its certificates, and no Revoke', async () => {
    const target = fleet.succeeded[1]!;
    const { devices } = await apiDevices(tc, viewer, { search: target.name });
    const c = await openConsole(browser, tc.url, viewer, `/devices/${devices[0]!.id}`);
    try {
      const { page } = c;
      await page.getByRole('heading', { name: target.name, level: 1 }).waitFor();
      const certs = page.getByRole('table', { name: 'Client certificates and requests, oldest first' });
      await certs.waitFor();
      expect(await certs.locator('tbody tr').first().locator('td').first().textContent()).toBe('Approved');
      expect(await page.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  it("a device page pages its connection history, and shows the server's refusal of a revocation made stale", async () => {
    const target = fleet.succeeded[2]!;
    // 12 more connections: 13 attempts, more than one history page of 10.
    for (let i = 0; i < 12; i++) expect((await target.agent.connect()).status).toBe(200);
    const { devices } = await apiDevices(tc, admin, { search: target.name });
    const id = devices[0]!.id;
    const readAll = async () => (await tc.gql(DeviceDocument, { id, historyFirst: 50 }, admin)).data!.device!;
    await expect.poll(async () => (await readAll()).connectionHistory.edges.length).toBe(13);
    const all = await readAll();
    const c = await openConsole(browser, tc.url, admin, `/devices/${id}`);
    try {
      const { page } = c;
      const history = page.getByRole('table', { name: 'Connection attempts, newest first' });
      const times = () => history.locator('tbody tr td:first-child time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')));
      const newest = all.connectionHistory.edges.map((e) => e.node.at);
      await expect.poll(times).toEqual(newest.slice(0, 10));
      const pages = page.getByRole('navigation', { name: 'Connection history pages' });
      expect(await pages.getByRole('button', { name: 'Newer' }).isDisabled()).toBe(true);
      await pages.getByRole('button', { name: 'Older' }).click();
      await expect.poll(times).toEqual(newest.slice(10));
      await pages.getByRole('button', { name: 'Newer' }).click();
      await expect.poll(times).toEqual(newest.slice(0, 10));

      // Someone revokes it through the API while the page shows it approved: the page's Revoke is refused, and says why.
      const certId = all.certificates[0]!.id;
      expect((await tc.gql(RevokeClientCertificateDocument, { id: certId, reason: 'CESSATION_OF_OPERATION' }, admin)).errors).toBeUndefined();
      await page.getByRole('button', { name: /^Revoke certificate / }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Revoke certificate' }).click();
      await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('CONFLICT');
      await expectCleanPage(c);
      // Closing it reads the device again: revoked, and failed.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => page.locator('header.device-header .status').textContent()).toBe('Authentication failed');
      const certs = page.getByRole('table', { name: 'Client certificates and requests, oldest first' });
      await expect.poll(() => certs.locator('tbody tr').first().locator('td').first().textContent()).toContain('Device retired');
      expect(await page.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
      expect(c.errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('a device that does not exist, or a malformed id, says so', async () => {
    const c = await openConsole(browser, tc.url, viewer, '/devices/999999');
    try {
      const { page } = c;
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('NOT_FOUND');
      await page.goto(`${c.origin}/devices/not-a-number`);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('BAD_USER_INPUT');
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });

  // Last: enabling security cannot be undone, and changes every device's manageability.
  it('once security is enabled, only authenticated devices are fully manageable', async () => {
    expect((await tc.gql(EnableSecurityDocument, { confirm: true }, admin)).errors).toBeUndefined();
    const c = await openConsole(browser, tc.url, viewer, '/devices?size=100');
    try {
      const { page } = c;
      const all = await apiDevices(tc, viewer, null);
      await expect.poll(() => tableNames(page)).toEqual(all.devices.map((d) => d.name));
      const manageable = await page
        .getByRole('table', { name: 'Devices' })
        .locator('tbody tr td:nth-child(7)')
        .allTextContents();
      expect(manageable).toEqual(all.devices.map((d) => (d.authStatus === 'AUTHENTICATION_SUCCEEDED' ? 'Yes' : 'No')));
      expect(manageable.filter((m) => m === 'Yes')).toHaveLength(1);
      await expectCleanPage(c);
    } finally {
      await c.close();
    }
  });
});
