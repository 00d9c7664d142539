import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDevicesByStatus } from '../../src/db/device-queries.js';
import { getCountersAndSwitch } from '../../src/db/counter-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import type { AuthStatus } from '../../src/domain/statuses.js';
import {
  DeviceDocument,
  DevicesDocument,
  DevicesWithHistoryDocument,
  RegisterDevicesDocument,
  SummaryDocument,
} from '../generated/graphql.js';
import { seed, type ResultKind } from '../support/seed.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

describe('the chart: kept counters, statuses and the drill-down', () => {
  let tc: TestCore;
  let admin: string;

  beforeAll(async () => {
    tc = await startTestCore();
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
  });
  afterAll(async () => tc?.close());

  it('counts every kind of result in the right chart item, with the success rate', async () => {
    const reg = await tc.gql(
      RegisterDevicesDocument,
      {
        devices: [
          { name: 'WS-OK-1', agentId: 'ok-1', agentVersion: '2024.1' },
          { name: 'WS-OK-2', agentId: 'ok-2', agentVersion: '2024.1' },
          { name: 'WS-OLD', agentId: 'old-1', agentVersion: '9.60' },
          { name: 'WS-PENDING', agentId: 'pending-1' },
          { name: 'WS-REVOKED', agentId: 'revoked-1' },
          { name: 'WS-SCANNED', agentId: 'scanned-1' },
          { name: 'WS-SILENT', agentId: 'silent-1' },
          { name: 'PRINTER-NO-AGENT' },
        ],
      },
      admin,
    );
    expect(reg.errors).toBeUndefined();
    expect(reg.data!.registerDevices.every((d) => d.authStatus === 'NO_AUTHENTICATION_INFO')).toBe(true);

    const s = seed(tc);
    await s.record('ok-1', 'succeeded');
    await s.record('ok-2', 'succeeded');
    await s.record('old-1', 'mustUpgrade');
    await s.record('pending-1', 'notApproved');
    await s.record('revoked-1', 'revoked');
    // vulscan's result counts like the agent's own.
    await s.record('scanned-1', 'succeeded', 'SECURITY_SCANNER');

    const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    // 8 registered + the core server.
    expect(summary).toMatchObject({ total: 9, succeeded: 3, noAuthenticationInfo: 3, failed: 2, mustUpgrade: 1 });
    expect(summary.successRate).toBeCloseTo(3 / 9, 10);
    expect(summary.items.map((i) => i.count)).toEqual([3, 3, 2, 1]);
  });

  it('moves a device with its newest result, whichever its source', async () => {
    const s = seed(tc);
    await s.record('ok-1', 'expired', 'SECURITY_SCANNER');
    let d = (await s.record('ok-1', 'expired')).device;
    expect(d).toMatchObject({ authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_EXPIRED' });
    d = (await s.record('ok-1', 'succeeded')).device;
    expect(d).toMatchObject({ authStatus: 'AUTHENTICATION_SUCCEEDED', failureReason: null });
    const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    expect(summary).toMatchObject({ total: 9, succeeded: 3, failed: 2 });
  });

  it('records each failure reason precisely, with history and inventory', async () => {
    const cases: [ResultKind, string][] = [
      ['noCertificate', 'NO_CLIENT_CERTIFICATE'],
      ['notApproved', 'CERTIFICATE_NOT_APPROVED'],
      ['rejected', 'CERTIFICATE_REJECTED'],
      ['revoked', 'CERTIFICATE_REVOKED'],
      ['expired', 'CERTIFICATE_EXPIRED'],
      ['notYetValid', 'CERTIFICATE_NOT_YET_VALID'],
      ['untrusted', 'UNTRUSTED_ISSUER'],
      ['mismatch', 'DEVICE_MISMATCH'],
    ];
    const s = seed(tc);
    let id = '';
    for (const [kind, reason] of cases) {
      const { device } = await s.record('reasons-1', kind);
      id = device.id;
      expect([kind, device.authStatus, device.failureReason]).toEqual([kind, 'AUTHENTICATION_FAILED', reason]);
    }
    const res = await tc.gql(DeviceDocument, { id, historyFirst: 3 }, admin);
    expect(res.errors).toBeUndefined();
    const dev = res.data!.device!;
    expect(dev.lastConnection).toMatchObject({ result: 'AUTHENTICATION_FAILED', failureReason: 'DEVICE_MISMATCH', source: 'SECURE_CONNECTION' });
    expect(dev.connectionHistory.edges.map((e) => e.node.failureReason)).toEqual([
      'DEVICE_MISMATCH',
      'UNTRUSTED_ISSUER',
      'CERTIFICATE_NOT_YET_VALID',
    ]);
    expect(dev.connectionHistory.pageInfo.hasNextPage).toBe(true);
    const next = await tc.gql(DeviceDocument, { id, historyFirst: 10, historyAfter: dev.connectionHistory.pageInfo.endCursor }, admin);
    expect(next.data!.device!.connectionHistory.edges).toHaveLength(5);
    expect(next.data!.device!.connectionHistory.pageInfo.hasNextPage).toBe(false);
    const inv = Object.fromEntries(dev.inventory.map((a) => [a.path.join(' > '), a.value]));
    expect(inv['Ivanti Management > Client certificate-based security > Authentication status']).toBe('Authentication failed');
    expect(inv['Ivanti Management > Client certificate-based security > Failure reason']).toBe('DEVICE_MISMATCH');
    expect(inv['Ivanti Management > Client certificate-based security > Source']).toMatch(/Secure connection/);
    expect(inv['Ivanti Management > Client certificate-based security > Agent version']).toBe('2024.3');
  });

  it('lists a chart item’s devices, pages them by cursor and counts them from the counters', async () => {
    const failed = await tc.gql(DevicesDocument, { filter: { authStatus: ['AUTHENTICATION_FAILED'] }, first: 2 }, admin);
    expect(failed.errors).toBeUndefined();
    const all: string[] = failed.data!.devices.edges.map((e) => e.node.agentId!);
    expect(failed.data!.devices.totalCount).toBe(3);
    expect(failed.data!.devices.pageInfo.hasNextPage).toBe(true);
    const rest = await tc.gql(
      DevicesDocument,
      { filter: { authStatus: ['AUTHENTICATION_FAILED'] }, first: 2, after: failed.data!.devices.pageInfo.endCursor },
      admin,
    );
    all.push(...rest.data!.devices.edges.map((e) => e.node.agentId!));
    expect(rest.data!.devices.pageInfo.hasNextPage).toBe(false);
    expect(all.sort()).toEqual(['pending-1', 'reasons-1', 'revoked-1']);

    const search = await tc.gql(DevicesDocument, { filter: { search: 'ws-ok' } }, admin);
    expect(search.data!.devices.edges.map((e) => e.node.name).sort()).toEqual(['WS-OK-1', 'WS-OK-2']);
    expect(search.data!.devices.totalCount).toBe(2);
    // LIKE wildcards in the search are taken literally.
    const literal = await tc.gql(DevicesDocument, { filter: { search: '%' } }, admin);
    expect(literal.data!.devices.totalCount).toBe(0);
  });

  it('reads histories and certificates of a whole page in one query each, not one per device', async () => {
    const queriesFor = async (first: number) => {
      const before = tc.queries.length;
      const res = await tc.gql(DevicesWithHistoryDocument, { first, historyFirst: 2 }, admin);
      expect(res.errors).toBeUndefined();
      expect(res.data!.devices.edges).toHaveLength(first);
      expect(res.data!.devices.edges.every((e) => e.node.connectionHistory.edges.length <= 2)).toBe(true);
      return { count: tc.queries.length - before, res };
    };
    const small = await queriesFor(2);
    const large = await queriesFor(10);
    const withHistory = large.res.data!.devices.edges.filter((e) => e.node.connectionHistory.edges.length > 0);
    expect(withHistory.length).toBeGreaterThan(3);
    // Five times the devices, the same number of queries.
    expect(large.count).toBe(small.count);
    expect(large.count).toBeLessThanOrEqual(5);
  });

  it('keeps the counters equal to a GROUP BY recount after random operations', async () => {
    const kinds: ResultKind[] = ['succeeded', 'mustUpgrade', 'noCertificate', 'notApproved', 'revoked', 'expired', 'mismatch'];
    const s = seed(tc);
    // A fixed-seed generator: a failure can be replayed.
    let state = 20261126;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const agent = `rand-${rand(25)}`;
      if (rand(5) === 0) {
        ops.push(s.devices([{ name: `Random ${agent}`, agentId: agent }]));
      } else {
        ops.push(s.record(agent, kinds[rand(kinds.length)]!, rand(2) ? 'SECURE_CONNECTION' : 'SECURITY_SCANNER'));
      }
      // Some concurrency, as agents report at once.
      if (ops.length === 8) await Promise.all(ops.splice(0));
    }
    await Promise.all(ops);
    const db = tc.core.database.db;
    const kept = (await getCountersAndSwitch(db)).counts;
    const recount = await countDevicesByStatus(db);
    expect(kept).toEqual(recount);
    const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    const total = rowsOf<{ n: string | number }>(await db.execute(sql`select count(*) as n from devices`))[0]!.n;
    expect(summary.total).toBe(Number(total));
    const byItem = Object.fromEntries(summary.items.map((i) => [i.status, i.count])) as Record<AuthStatus, number>;
    expect(byItem).toEqual(recount);
  });
});
