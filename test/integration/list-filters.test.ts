import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApproveClientDocument,
  ClientAccessRequestsDocument,
  DevicesDocument,
  PageClientAccessRequestsDocument,
  PageDevicesDocument,
  RejectClientDocument,
  RevokeClientCertificateDocument,
  type AuthenticationFailureReason,
  type ClientAccessRequestFilter,
  type ClientAccessRequestsQuery,
  type ClientAccessRequestsQueryVariables,
  type ClientCertificateStatus,
  type DeviceFilter,
  type DevicesQuery,
  type PageClientAccessRequestsQuery,
  type PageDevicesQuery,
} from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { startCoreWithTokens, type CoreWithTokens } from '../support/core-with-tokens.js';
import { seed } from '../support/seed.js';
import type { GraphQLResult } from '../support/test-core.js';

/** expectRefused checks a refused list query: one BAD_USER_INPUT naming the argument, no data, never a 500. */
function expectRefused(res: GraphQLResult<unknown>, argument: string | undefined, message: RegExp): void {
  expect(res.status).not.toBe(500);
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
  if (argument !== undefined) expect(res.errors![0]!.extensions?.argument).toBe(argument);
  expect(res.errors![0]!.message).toMatch(message);
  expect(res.data ?? null).toBeNull();
}

describe('devices: filter by failure reason (troubleshooting), with the status filter and the search', () => {
  let c: CoreWithTokens;

  /** names lists the names of the devices a filter matches (all pages of 2) and checks totalCount on every page. */
  async function names(filter: DeviceFilter): Promise<string[]> {
    const out: string[] = [];
    let after: string | null = null;
    let total: number | undefined;
    for (let i = 0; i < 20; i++) {
      const res: GraphQLResult<DevicesQuery> = await c.tc.gql(DevicesDocument, { filter, first: 2, after }, c.viewer);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      const page = res.data!.devices;
      total ??= page.totalCount;
      expect(page.totalCount).toBe(total);
      out.push(...page.edges.map((e) => e.node.name));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(out.length, 'totalCount counts what the pages hold').toBe(total);
    return out;
  }

  beforeAll(async () => {
    c = await startCoreWithTokens();
    const s = seed(c.tc);
    await s.devices([
      { name: 'Lab-PC-1', agentId: 'tr-1', agentVersion: '2024.3' },
      { name: 'Lab-PC-2', agentId: 'tr-2', agentVersion: '2024.3' },
      { name: 'Lab-PC-3', agentId: 'tr-3', agentVersion: '2024.3' },
      { name: 'Office-PC-4', agentId: 'tr-4', agentVersion: '2024.3' },
      { name: 'Office-PC-5', agentId: 'tr-5', agentVersion: '2024.3' },
      { name: 'Office-PC-6', agentId: 'tr-6', agentVersion: '9.60.2' },
      { name: 'Office-PC-7', agentId: 'tr-7', agentVersion: '2024.3' },
      { name: 'Printer_Lab' },
    ]);
    await s.record('tr-1', 'noCertificate');
    await s.record('tr-2', 'notApproved');
    await s.record('tr-3', 'revoked');
    await s.record('tr-4', 'noCertificate');
    // Failed once, then succeeded: its old reason is history, not a reason to list it.
    await s.record('tr-5', 'noCertificate');
    await s.record('tr-5', 'succeeded');
    await s.record('tr-6', 'mustUpgrade');
  });
  afterAll(async () => c?.tc.close());

  it('failureReasons alone lists the failed devices of those reasons, and totalCount counts them', async () => {
    expect(await names({ failureReasons: ['NO_CLIENT_CERTIFICATE'] })).toEqual(['Lab-PC-1', 'Office-PC-4']);
    expect(await names({ failureReasons: ['CERTIFICATE_NOT_APPROVED', 'CERTIFICATE_REVOKED'] })).toEqual(['Lab-PC-2', 'Lab-PC-3']);
    // A repeated reason is the same filter.
    expect(await names({ failureReasons: ['CERTIFICATE_REVOKED', 'CERTIFICATE_REVOKED'] })).toEqual(['Lab-PC-3']);
    expect(await names({ failureReasons: ['DEVICE_MISMATCH'] })).toEqual([]);
    // Each device shows the reason it was listed for.
    const res = await c.tc.gql(DevicesDocument, { filter: { failureReasons: ['NO_CLIENT_CERTIFICATE'] } }, c.viewer);
    expect(res.data!.devices.edges.map((e) => [e.node.authStatus, e.node.failureReason])).toEqual([
      ['AUTHENTICATION_FAILED', 'NO_CLIENT_CERTIFICATE'],
      ['AUTHENTICATION_FAILED', 'NO_CLIENT_CERTIFICATE'],
    ]);
  });

  it('an empty or null failureReasons is no restriction (as authStatus)', async () => {
    const all = await names({});
    expect(all).toContain('Office-PC-5');
    expect(await names({ failureReasons: [] })).toEqual(all);
    expect(await names({ failureReasons: null })).toEqual(all);
  });

  it('combines with authStatus (both must hold) and with the search', async () => {
    const reasons: AuthenticationFailureReason[] = ['NO_CLIENT_CERTIFICATE', 'CERTIFICATE_REVOKED'];
    expect(await names({ authStatus: ['AUTHENTICATION_FAILED'], failureReasons: reasons })).toEqual(['Lab-PC-1', 'Lab-PC-3', 'Office-PC-4']);
    expect(await names({ authStatus: ['AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'], failureReasons: reasons })).toEqual([
      'Lab-PC-1',
      'Lab-PC-3',
      'Office-PC-4',
    ]);
    // Only failed devices have a reason: with statuses that exclude AUTHENTICATION_FAILED, nothing matches.
    expect(await names({ authStatus: ['AUTHENTICATION_SUCCEEDED'], failureReasons: reasons })).toEqual([]);
    expect(await names({ failureReasons: reasons, search: 'lab' })).toEqual(['Lab-PC-1', 'Lab-PC-3']);
    expect(await names({ failureReasons: reasons, search: 'TR-4' })).toEqual(['Office-PC-4']);
    expect(await names({ authStatus: ['AUTHENTICATION_FAILED'], failureReasons: ['NO_CLIENT_CERTIFICATE'], search: 'office' })).toEqual([
      'Office-PC-4',
    ]);
  });

  it('the search still matches name or agent id, any case, LIKE characters literally', async () => {
    expect(await names({ search: 'LAB-pc' })).toEqual(['Lab-PC-1', 'Lab-PC-2', 'Lab-PC-3']);
    expect(await names({ search: 'Tr-6' })).toEqual(['Office-PC-6']);
    expect(await names({ search: 'r_l' })).toEqual(['Printer_Lab']);
    expect(await names({ search: 'lab_pc' })).toEqual([]);
    expect(await names({ search: '%' })).toEqual([]);
  });

  it('pages backward (last/before) through the same filtered list, with the same totalCount', async () => {
    const filter: DeviceFilter = { failureReasons: ['NO_CLIENT_CERTIFICATE', 'CERTIFICATE_NOT_APPROVED', 'CERTIFICATE_REVOKED'], search: 'pc' };
    const backward: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res: GraphQLResult<PageDevicesQuery> = await c.tc.gql(PageDevicesDocument, { filter, last: 2, before }, c.viewer);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.data!.devices.totalCount).toBe(4);
      backward.unshift(...res.data!.devices.edges.map((e) => e.node.name));
      if (!res.data!.devices.pageInfo.hasPreviousPage) break;
      before = res.data!.devices.pageInfo.startCursor;
    }
    expect(backward).toEqual(['Lab-PC-1', 'Lab-PC-2', 'Lab-PC-3', 'Office-PC-4']);
    expect(await names(filter)).toEqual(backward);
  });

  it('refuses an unknown reason, an over-long search and forbidden characters, and lists the same afterwards', async () => {
    const before = await names({ failureReasons: ['NO_CLIENT_CERTIFICATE'] });
    const nope = 'NOPE' as AuthenticationFailureReason;
    expectRefused(await c.tc.gql(DevicesDocument, { filter: { failureReasons: ['NO_CLIENT_CERTIFICATE', nope] } }, c.viewer), undefined, /NOPE/);
    expectRefused(
      await c.tc.gql(DevicesDocument, { filter: { failureReasons: ['NO_CLIENT_CERTIFICATE'], search: 'x'.repeat(256) } }, c.viewer),
      'filter.search',
      /longer than 255 characters \(got 256\)/,
    );
    expectRefused(
      await c.tc.gql(DevicesDocument, { filter: { failureReasons: ['NO_CLIENT_CERTIFICATE'], search: 'lab\u001b[2J' } }, c.viewer),
      'filter.search',
      /must not contain control characters/,
    );
    expectRefused(
      await c.tc.gql(DevicesDocument, { filter: { failureReasons: ['NO_CLIENT_CERTIFICATE'], search: 'lab\u202e' } }, c.viewer),
      'filter.search',
      /bidirectional formatting/,
    );
    expect(await names({ failureReasons: ['NO_CLIENT_CERTIFICATE'] })).toEqual(before);
  });
});

describe('clientAccessRequests: a filter of statuses and a search, besides the old status argument', () => {
  let c: CoreWithTokens;
  const agents = agentsOf(() => c.tc.core);
  const ids: Record<string, string> = {};

  /** list reads every page (of 2) of clientAccessRequests and checks totalCount on each; it returns the agent ids, in order. */
  async function list(vars: Omit<ClientAccessRequestsQueryVariables, 'first' | 'after'>): Promise<string[]> {
    const out: string[] = [];
    let after: string | null = null;
    let total: number | undefined;
    for (let i = 0; i < 20; i++) {
      const res: GraphQLResult<ClientAccessRequestsQuery> = await c.tc.gql(ClientAccessRequestsDocument, { ...vars, first: 2, after }, c.viewer);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      const page = res.data!.clientAccessRequests;
      total ??= page.totalCount;
      expect(page.totalCount).toBe(total);
      out.push(...page.edges.map((e) => e.node.device.agentId!));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(out.length, 'totalCount counts what the pages hold').toBe(total);
    return out;
  }
  const byFilter = (filter: ClientAccessRequestFilter) => list({ filter });

  const enroll = async (agentId: string, deviceName: string) => {
    const res = await agents.make(agentId, { deviceName }).enroll();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    ids[agentId] = (res.body as { requestId: string }).requestId;
  };
  const ok = <T>(res: GraphQLResult<T>) => {
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!;
  };

  beforeAll(async () => {
    c = await startCoreWithTokens();
    // A device the inventory knows as Kiosk-Lobby asks to be called Reception-PC: until approved, the
    // request's requested name and the device's name differ.
    await seed(c.tc).devices([{ name: 'Kiosk-Lobby', agentId: 'ca-kiosk-5' }]);
    await enroll('ca-alpha-1', 'WS-Alpha-1');
    await enroll('ca-beta-2', 'WS-Beta-2');
    await enroll('ca-gamma-3', 'WS-Gamma-3');
    await enroll('ca-delta-4', 'WS-Delta-4');
    await enroll('ca-kiosk-5', 'Reception-PC');
    await enroll('ca-echo-6', 'WS_Echo-6');
    ok(await c.tc.gql(ApproveClientDocument, { id: ids['ca-beta-2']! }, c.admin));
    ok(await c.tc.gql(RejectClientDocument, { id: ids['ca-gamma-3']!, reason: 'not ours' }, c.admin));
    ok(await c.tc.gql(ApproveClientDocument, { id: ids['ca-delta-4']! }, c.admin));
    ok(await c.tc.gql(RevokeClientCertificateDocument, { id: ids['ca-delta-4']!, reason: 'KEY_COMPROMISE' }, c.admin));
  });
  afterAll(async () => {
    agents.closeAll();
    await c?.tc.close();
  });

  it('filter.statuses alone: one tab, several, none (any status)', async () => {
    const all = ['ca-alpha-1', 'ca-beta-2', 'ca-gamma-3', 'ca-delta-4', 'ca-kiosk-5', 'ca-echo-6'];
    expect(await list({})).toEqual(all);
    expect(await byFilter({ statuses: ['PENDING'] })).toEqual(['ca-alpha-1', 'ca-kiosk-5', 'ca-echo-6']);
    expect(await byFilter({ statuses: ['APPROVED'] })).toEqual(['ca-beta-2']);
    expect(await byFilter({ statuses: ['REJECTED'] })).toEqual(['ca-gamma-3']);
    expect(await byFilter({ statuses: ['REVOKED'] })).toEqual(['ca-delta-4']);
    expect(await byFilter({ statuses: ['REJECTED', 'REVOKED', 'REJECTED'] })).toEqual(['ca-gamma-3', 'ca-delta-4']);
    expect(await byFilter({ statuses: [] })).toEqual(all);
    expect(await byFilter({})).toEqual(all);
  });

  it('the old status argument works as before, alone and with filter.search', async () => {
    expect(await list({ status: 'PENDING' })).toEqual(['ca-alpha-1', 'ca-kiosk-5', 'ca-echo-6']);
    expect(await list({ status: 'APPROVED' })).toEqual(['ca-beta-2']);
    expect(await list({ status: 'PENDING', filter: { search: 'alpha' } })).toEqual(['ca-alpha-1']);
    expect(await list({ status: 'APPROVED', filter: { search: 'alpha' } })).toEqual([]);
  });

  it("filter.search matches the device's name, its agent id and the requested name, in any case", async () => {
    // The device's name (and, approved or not, the name asked for: here the same).
    expect(await byFilter({ search: 'ws-ALPHA' })).toEqual(['ca-alpha-1']);
    // The device's current name, which the pending request would change.
    expect(await byFilter({ search: 'kiosk-lobby' })).toEqual(['ca-kiosk-5']);
    // The name the pending request asks for, which the device does not have yet.
    expect(await byFilter({ search: 'RECEPTION' })).toEqual(['ca-kiosk-5']);
    // The agent id.
    expect(await byFilter({ search: 'CA-GAMMA-3' })).toEqual(['ca-gamma-3']);
    expect(await byFilter({ search: 'ca-' })).toEqual(['ca-alpha-1', 'ca-beta-2', 'ca-gamma-3', 'ca-delta-4', 'ca-kiosk-5', 'ca-echo-6']);
    // LIKE's wildcards match only themselves.
    expect(await byFilter({ search: 'ws_' })).toEqual(['ca-echo-6']);
    expect(await byFilter({ search: '%' })).toEqual([]);
    expect(await byFilter({ search: 'no such device' })).toEqual([]);
    // Blank is no search.
    expect(await byFilter({ search: '   ' })).toHaveLength(6);
  });

  it('statuses and search together: both must hold; totalCount counts only those', async () => {
    expect(await byFilter({ statuses: ['PENDING'], search: 'ws-' })).toEqual(['ca-alpha-1']);
    expect(await byFilter({ statuses: ['PENDING', 'APPROVED'], search: 'WS' })).toEqual(['ca-alpha-1', 'ca-beta-2', 'ca-echo-6']);
    expect(await byFilter({ statuses: ['REVOKED'], search: 'delta' })).toEqual(['ca-delta-4']);
    expect(await byFilter({ statuses: ['REVOKED'], search: 'reception' })).toEqual([]);
    const one = ok(await c.tc.gql(ClientAccessRequestsDocument, { filter: { statuses: ['PENDING'], search: 'ca-' }, first: 1 }, c.viewer));
    expect(one.clientAccessRequests.totalCount).toBe(3);
    expect(one.clientAccessRequests.edges).toHaveLength(1);
    expect(one.clientAccessRequests.pageInfo.hasNextPage).toBe(true);
  });

  it('counts a list without a search from the ledger of statuses, not by reading the requests, also after a fold', async () => {
    const ran = c.tc.queries.length;
    expect(await byFilter({ statuses: ['PENDING', 'REVOKED'] })).toHaveLength(4);
    const reads = c.tc.queries.slice(ran);
    expect(reads.some((q) => /from client_certificate_status_ledger/.test(q))).toBe(true);
    expect(reads.filter((q) => /select count\(\*\) from "client_certificates"/i.test(q))).toEqual([]);
    await c.tc.core.services.maintenance.runOnce();
    expect(await list({})).toHaveLength(6);
    expect(await byFilter({ statuses: ['APPROVED'] })).toEqual(['ca-beta-2']);
  });

  it('pages backward (last/before) through a search, with and without statuses, as forward', async () => {
    for (const filter of [{ search: 'ca-' }, { search: 'WS', statuses: ['PENDING', 'APPROVED'] }] as ClientAccessRequestFilter[]) {
      const backward: string[] = [];
      let before: string | null = null;
      for (let i = 0; i < 10; i++) {
        const res: GraphQLResult<PageClientAccessRequestsQuery> = await c.tc.gql(PageClientAccessRequestsDocument, { filter, last: 2, before }, c.viewer);
        expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
        const page = res.data!.clientAccessRequests;
        backward.unshift(...page.edges.map((e) => e.node.id));
        if (!page.pageInfo.hasPreviousPage) break;
        before = page.pageInfo.startCursor;
      }
      const forward = ok(await c.tc.gql(ClientAccessRequestsDocument, { filter, first: 500 }, c.viewer)).clientAccessRequests;
      expect(backward).toEqual(forward.edges.map((e) => e.node.id));
      expect(backward).toHaveLength(forward.totalCount);
      expect(backward.length).toBeGreaterThan(2);
    }
  });

  it('refuses status with filter.statuses, unknown statuses and bad searches, and lists the same afterwards', async () => {
    const before = await list({});
    const pendingBefore = await byFilter({ statuses: ['PENDING'] });
    expectRefused(
      await c.tc.gql(ClientAccessRequestsDocument, { status: 'PENDING', filter: { statuses: ['PENDING'] } }, c.viewer),
      'status',
      /give status or filter\.statuses, not both/,
    );
    expectRefused(
      await c.tc.gql(ClientAccessRequestsDocument, { status: 'PENDING', filter: { statuses: [] } }, c.viewer),
      'status',
      /not both/,
    );
    const nope = 'NOPE' as ClientCertificateStatus;
    expectRefused(await c.tc.gql(ClientAccessRequestsDocument, { filter: { statuses: ['PENDING', nope] } }, c.viewer), undefined, /NOPE/);
    expectRefused(
      await c.tc.gql(ClientAccessRequestsDocument, { filter: { search: 'a'.repeat(256) } }, c.viewer),
      'filter.search',
      /filter\.search is longer than 255 characters \(got 256\)/,
    );
    expectRefused(
      await c.tc.gql(ClientAccessRequestsDocument, { filter: { search: 'ws\n01' } }, c.viewer),
      'filter.search',
      /filter\.search must not contain control characters/,
    );
    expectRefused(
      await c.tc.gql(ClientAccessRequestsDocument, { filter: { statuses: ['PENDING'], search: 'ws\u2028x' } }, c.viewer),
      'filter.search',
      /line or paragraph separators/,
    );
    // The longest search allowed is accepted (and matches nothing here).
    expect(await byFilter({ search: 'a'.repeat(255) })).toEqual([]);
    expect(await list({})).toEqual(before);
    expect(await byFilter({ statuses: ['PENDING'] })).toEqual(pendingBefore);
  });
});
