import { sql } from 'drizzle-orm';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/rows.js';
import { MAX_OPERATION_NAMES } from '../../src/metrics/prometheus.js';
import {
  ApproveClientDocument,
  RegisterDevicesDocument,
  RejectClientDocument,
  RevokeClientCertificateDocument,
  SummaryChangedDocument,
  SummaryDocument,
  type SummaryChangedSubscription,
} from '../generated/graphql.js';
import { agentsOf, type TestAgent } from '../support/agent.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { subscribeLive } from '../support/live-client.js';
import { scrape, type Exposition } from '../support/metrics.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

const DAY_MS = 24 * 3600_000;

// The metrics listener of a core (METRICS_PORT=0: any free port): what it serves, that its figures are
// the chart's own, that a scrape costs the same at any fleet size, and that no caller can grow its labels.
describe('the metrics endpoint', () => {
  let tc: TestCore;
  let admin: string;
  let clockOffsetMs = 0;
  const agents = agentsOf(() => tc.core);
  const metricsUrl = () => tc.core.metricsUrl!;

  const enrollAndApprove = async (a: TestAgent) => {
    const enrolled = await a.enroll();
    expect(enrolled.status).toBe(202);
    const { requestId } = enrolled.body as { requestId: string };
    const approved = await tc.gql(ApproveClientDocument, { id: requestId }, admin);
    expect(approved.errors).toBeUndefined();
    const polled = (await a.poll(requestId)).body as { certificatePem: string };
    a.useCertificate(polled.certificatePem);
    return requestId;
  };

  beforeAll(async () => {
    ({ tc, admin } = await startCoreWithTokens({
      // No maintenance round of its own during the test: a scrape's queries are told apart from the sweep's.
      env: { METRICS_PORT: '0', CLIENT_CERT_DAYS: '20', SWEEP_INTERVAL_MS: '3600000' },
      clock: () => new Date(Date.now() + clockOffsetMs),
    }));
  });
  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  it('serves the text format on its own port, bound to 127.0.0.1, with HELP and TYPE for every metric', async () => {
    expect(tc.core.metricsPort).toBeGreaterThan(0);
    expect(tc.core.metricsPort).not.toBe(tc.core.port);
    expect(metricsUrl()).toBe(`http://127.0.0.1:${tc.core.metricsPort}/metrics`);
    const res = await fetch(metricsUrl());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = await scrape(metricsUrl());

    const families = [...m.type.keys()].filter((n) => n.startsWith('certfleet_'));
    expect(families.sort()).toEqual(
      [
        'certfleet_authentication_success_ratio',
        'certfleet_ca_not_after_timestamp_seconds',
        'certfleet_certificates_expired_total',
        'certfleet_certificates_issued_total',
        'certfleet_certificates_revoked_total',
        'certfleet_client_access_requests_pending',
        'certfleet_client_certificate_security_enabled',
        'certfleet_client_certificates',
        'certfleet_client_certificates_expiring_within_30_days',
        'certfleet_connection_results_total',
        'certfleet_crl_next_update_timestamp_seconds',
        'certfleet_database_up',
        'certfleet_devices',
        'certfleet_devices_not_fully_manageable',
        'certfleet_enrollments_total',
        'certfleet_gateway_request_duration_seconds',
        'certfleet_gateway_requests_total',
        'certfleet_graphql_errors_total',
        'certfleet_graphql_operation_duration_seconds',
        'certfleet_graphql_operations_total',
        'certfleet_graphql_subscriptions',
        'certfleet_graphql_ws_sockets',
        'certfleet_group_commit_batch_size',
        'certfleet_group_commit_duration_seconds',
        'certfleet_rate_limited_requests_total',
        'certfleet_summary_push_delay_seconds',
        'certfleet_unverified_attempts_total',
      ].sort(),
    );
    for (const name of families) {
      expect(m.help.get(name), name).toMatch(/\S/);
      // Prometheus conventions: counters end in _total, and only counters do; times in seconds.
      expect(m.type.get(name) === 'counter', name).toBe(name.endsWith('_total'));
      if (/duration|delay|timestamp/.test(name)) expect(name, name).toMatch(/_seconds$/);
    }
    // Node's default process metrics, under their standard names.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(m.type.has(name), name).toBe(true);
    }
    // Every series of a known label set is there from the start, at 0.
    expect(m.value('certfleet_certificates_issued_total', { how: 'manual' })).toBe(0);
    expect(m.value('certfleet_connection_results_total', { result: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED', source: 'SECURITY_SCANNER' })).toBe(0);
    expect(m.value('certfleet_unverified_attempts_total', { reason: 'UNKNOWN_AGENT' })).toBe(0);
    expect(m.value('certfleet_database_up')).toBe(1);
    expect(m.value('certfleet_ca_not_after_timestamp_seconds')).toBe(Math.floor(new Date(tc.core.authority.notAfter).getTime() / 1000));
    expect(m.value('certfleet_crl_next_update_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000);

    expect((await fetch(metricsUrl().replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(metricsUrl(), { method: 'POST' })).status).toBe(405);
  });

  it('shows the chart of authStatusSummary and what happened: enrollments, issuance, connections, gateway and GraphQL traffic', async () => {
    const reg = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'WS-IMPORTED', agentId: 'imported-1' }, { name: 'PRINTER-1' }] }, admin);
    expect(reg.errors).toBeUndefined();
    const a = agents.make('metrics-pc-1');
    await enrollAndApprove(a);
    expect((await a.connect()).status).toBe(200);
    // A claim about a device with a key on file that proves none, and one about an agent id nobody knows.
    expect((await a.connect({ cert: 'none' })).status).toBeGreaterThanOrEqual(400);
    expect((await agents.make('nobody-knows-me').connect({ cert: 'self-signed' })).status).toBeGreaterThanOrEqual(400);
    const pending = agents.make('metrics-pc-2');
    expect((await pending.enroll()).status).toBe(202);
    expect((await pending.enroll()).status).toBe(202);

    const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    const m = await scrape(metricsUrl());
    for (const item of summary.items) expect(m.value('certfleet_devices', { status: item.status }), item.status).toBe(item.count);
    expect(m.value('certfleet_authentication_success_ratio')).toBeCloseTo(summary.successRate, 12);
    expect(m.value('certfleet_client_certificate_security_enabled')).toBe(0);
    // Security is off: every device is fully manageable.
    expect(m.value('certfleet_devices_not_fully_manageable')).toBe(0);
    expect(m.value('certfleet_client_certificates', { status: 'APPROVED' })).toBe(1);
    expect(m.value('certfleet_client_certificates', { status: 'PENDING' })).toBe(1);
    expect(m.value('certfleet_client_access_requests_pending')).toBe(1);
    // CLIENT_CERT_DAYS=20: the certificate just issued expires within 30 days.
    expect(m.value('certfleet_client_certificates_expiring_within_30_days')).toBe(1);

    expect(m.value('certfleet_enrollments_total', { outcome: 'requested' })).toBe(2);
    expect(m.value('certfleet_enrollments_total', { outcome: 'repeated' })).toBe(1);
    expect(m.value('certfleet_certificates_issued_total', { how: 'manual' })).toBe(1);
    expect(m.value('certfleet_connection_results_total', { result: 'AUTHENTICATION_SUCCEEDED', reason: 'none', source: 'SECURE_CONNECTION' })).toBe(1);
    expect(m.value('certfleet_unverified_attempts_total', { reason: 'NO_CLIENT_CERTIFICATE' })).toBe(1);
    expect(m.value('certfleet_unverified_attempts_total', { reason: 'UNKNOWN_AGENT' })).toBe(1);
    expect(m.value('certfleet_group_commit_batch_size_count')).toBe(1);
    expect(m.value('certfleet_group_commit_duration_seconds_count')).toBe(1);

    expect(m.value('certfleet_gateway_requests_total', { route: '/agent/v1/connect', method: 'POST', status: '200' })).toBe(1);
    const refused = m.series('certfleet_gateway_requests_total', { route: '/agent/v1/connect', method: 'POST' }).filter((x) => x.labels.status !== '200');
    expect(refused.reduce((n, x) => n + x.value, 0)).toBe(2);
    expect(m.value('certfleet_gateway_requests_total', { route: '/agent/v1/enroll', method: 'POST', status: '202' })).toBe(3);
    expect(m.value('certfleet_gateway_requests_total', { route: '/agent/v1/enroll/{requestId}', method: 'GET', status: '200' })).toBe(1);
    expect(m.value('certfleet_gateway_request_duration_seconds_count', { route: '/agent/v1/connect', method: 'POST' })).toBe(3);
    expect(m.value('certfleet_gateway_request_duration_seconds_bucket', { route: '/agent/v1/connect', method: 'POST', le: '+Inf' })).toBe(3);

    expect(m.value('certfleet_graphql_operations_total', { operation: 'ApproveClient', type: 'mutation', outcome: 'ok' })).toBe(1);
    expect(m.value('certfleet_graphql_operations_total', { operation: 'Summary', type: 'query', outcome: 'ok' })).toBe(1);
    expect(m.value('certfleet_graphql_operation_duration_seconds_count', { operation: 'Summary', type: 'query' })).toBe(1);
  });

  it('counts errors by code, and requests refused before an operation was known', async () => {
    const noToken = await tc.gql(SummaryDocument, {}, null);
    expect(noToken.status).toBe(401);
    const forbidden = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'X' }] }, await tc.token('victor', ['VIEWER']));
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const deep = await fetch(tc.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: `query Deep { ${'a { '.repeat(40)}b${' }'.repeat(40)} }` }),
    });
    expect(deep.status).toBe(400);
    const m = await scrape(metricsUrl());
    expect(m.value('certfleet_graphql_errors_total', { code: 'UNAUTHENTICATED' })).toBe(1);
    expect(m.value('certfleet_graphql_errors_total', { code: 'FORBIDDEN' })).toBe(1);
    expect(m.value('certfleet_graphql_operations_total', { operation: 'RegisterDevices', type: 'mutation', outcome: 'error' })).toBe(1);
    expect(m.value('certfleet_graphql_operations_total', { operation: 'unresolved', type: 'unknown', outcome: 'error' })).toBe(2);
  });

  it('keeps every label set bounded, whatever names and paths clients send', async () => {
    const names = Array.from({ length: MAX_OPERATION_NAMES + 20 }, (_, i) => `Made_Up_${i}`);
    for (const name of [...names, 'not a name', 'x'.repeat(200)]) {
      await fetch(tc.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ query: `query ${/^\w+$/.test(name) && name.length < 100 ? name : ''} { authStatusSummary { total } }`, operationName: name }),
      });
    }
    const a = agents.make('path-prober');
    for (const path of ['/agent/v1/nothing', '/agent/v1/enroll/1/2', `/${'x'.repeat(300)}`, '/agent/v1/secure-data/a/b']) {
      await a.raw('GET', path);
    }
    // A method Node's parser knows and the gateway does not serve.
    expect((await a.raw('PROPFIND', '/agent/v1/ca')).status).toBe(405);
    const m = await scrape(metricsUrl());
    const operations = new Set(m.series('certfleet_graphql_operations_total').map((s) => s.labels.operation));
    expect(operations.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 3);
    expect(operations.has('other')).toBe(true);
    expect([...operations].every((o) => /^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(o))).toBe(true);
    const routes = new Set(m.series('certfleet_gateway_requests_total').map((s) => s.labels.route));
    expect([...routes].sort()).toEqual(
      ['/agent/v1/ca', '/agent/v1/connect', '/agent/v1/enroll', '/agent/v1/enroll/{requestId}', 'unmatched'].sort(),
    );
    const methods = new Set(m.series('certfleet_gateway_requests_total').map((s) => s.labels.method));
    expect([...methods].sort()).toEqual(['GET', 'POST', 'other']);
  });

  it('reads no device rows at a scrape: kept counters, the ledger, an index range and one row', async () => {
    await tc.core.services.unverified.flush();
    const before = tc.queries.length;
    await scrape(metricsUrl());
    const ran = tc.queries.slice(before);
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.length).toBeLessThanOrEqual(4);
    for (const q of ran) {
      expect(q, q).not.toMatch(/\bfrom\s+"?devices"?/i);
      expect(q, q).not.toMatch(/\bjoin\s+"?devices"?/i);
      expect(q, q).not.toMatch(/\bconnection_results\b/i);
    }
    expect(ran.join('\n')).toMatch(/auth_status_counters/);
    expect(ran.join('\n')).toMatch(/client_certificate_status_ledger/);
  });

  it('keeps the certificate ledger equal to a recount through rejections, revocations and folds', async () => {
    const b = agents.make('metrics-pc-3');
    const approvedId = await enrollAndApprove(b);
    const c = agents.make('metrics-pc-4');
    const enrolled = await c.enroll();
    const rejected = await tc.gql(RejectClientDocument, { id: (enrolled.body as { requestId: string }).requestId, reason: 'not ours' }, admin);
    expect(rejected.errors).toBeUndefined();
    expect((await b.connect()).status).toBe(200);
    const revoked = await tc.gql(RevokeClientCertificateDocument, { id: approvedId, reason: 'KEY_COMPROMISE' }, admin);
    expect(revoked.errors).toBeUndefined();

    const recount = async () =>
      Object.fromEntries(
        rowsOf<{ status: string; n: number }>(
          await tc.core.database.db.execute(sql`select status, count(*)::int as n from client_certificates group by status`),
        ).map((r) => [r.status, r.n]),
      );
    const check = async (m: Exposition) => {
      const counted = await recount();
      for (const status of ['PENDING', 'APPROVED', 'REJECTED', 'REVOKED']) {
        expect(m.value('certfleet_client_certificates', { status }), status).toBe(counted[status] ?? 0);
      }
    };
    const m = await scrape(metricsUrl());
    await check(m);
    expect(m.value('certfleet_certificates_revoked_total', { reason: 'KEY_COMPROMISE' })).toBe(1);
    expect(m.value('certfleet_connection_results_total', { result: 'AUTHENTICATION_SUCCEEDED', reason: 'none', source: 'SECURE_CONNECTION' })).toBe(2);
    const ledgerRows = async () =>
      rowsOf<{ n: number }>(await tc.core.database.db.execute(sql`select count(*)::int as n from client_certificate_status_ledger`))[0]!.n;
    expect(await ledgerRows()).toBeGreaterThan(4);
    await tc.core.services.maintenance.runOnce();
    expect(await ledgerRows()).toBeLessThanOrEqual(4);
    await check(await scrape(metricsUrl()));
  });

  it('counts certificates expired by the sweep, and stops counting them as expiring soon', async () => {
    const d = agents.make('metrics-pc-5');
    await enrollAndApprove(d);
    expect((await d.connect()).status).toBe(200);
    const soon = (await scrape(metricsUrl())).value('certfleet_client_certificates_expiring_within_30_days')!;
    expect(soon).toBeGreaterThanOrEqual(2);
    clockOffsetMs = 21 * DAY_MS;
    try {
      await tc.core.services.maintenance.expireCertificates();
      const m = await scrape(metricsUrl());
      expect(m.value('certfleet_certificates_expired_total')).toBeGreaterThanOrEqual(1);
      expect(m.value('certfleet_client_certificates_expiring_within_30_days')).toBe(0);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('counts graphql-ws sockets and subscriptions, and times summary pushes', async () => {
    const s = subscribeLive<SummaryChangedSubscription>(tc.url, { authorization: `Bearer ${admin}` }, print(SummaryChangedDocument));
    try {
      await s.until(() => true);
      let m = await scrape(metricsUrl());
      expect(m.value('certfleet_graphql_ws_sockets')).toBe(1);
      expect(m.value('certfleet_graphql_subscriptions')).toBe(1);
      const pushesBefore = m.value('certfleet_summary_push_delay_seconds_count')!;
      const reg = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'PUSHED-1' }] }, admin);
      expect(reg.errors).toBeUndefined();
      await s.until((msg) => msg.authStatusSummaryChanged.total === reg.data!.registerDevices.length + (s.messages[0]!.authStatusSummaryChanged.total));
      m = await scrape(metricsUrl());
      expect(m.value('certfleet_summary_push_delay_seconds_count')).toBeGreaterThan(pushesBefore);
      expect(m.value('certfleet_summary_push_delay_seconds_sum')).toBeGreaterThan(0);
    } finally {
      s.dispose();
    }
    await expect.poll(async () => (await scrape(metricsUrl())).value('certfleet_graphql_ws_sockets'), { timeout: 5000 }).toBe(0);
    expect((await scrape(metricsUrl())).value('certfleet_graphql_subscriptions')).toBe(0);
  });

  it('leaves the figures out, not at 0, while the database does not answer', async () => {
    const other = await startTestCore({ env: { METRICS_PORT: '0' } });
    try {
      expect((await scrape(other.core.metricsUrl!)).value('certfleet_database_up')).toBe(1);
      await other.core.database.close();
      const m = await scrape(other.core.metricsUrl!);
      expect(m.value('certfleet_database_up')).toBe(0);
      expect(m.series('certfleet_devices')).toEqual([]);
      expect(m.series('certfleet_crl_next_update_timestamp_seconds')).toEqual([]);
      expect(m.type.get('certfleet_crl_next_update_timestamp_seconds')).toBe('gauge');
      // Process metrics still answer.
      expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    } finally {
      await other.close().catch(() => {});
    }
  });

  it('keeps one registry per core: two cores in one process count apart', async () => {
    const other = await startTestCore({ env: { METRICS_PORT: '0' } });
    try {
      const mine = await scrape(metricsUrl());
      const theirs = await scrape(other.core.metricsUrl!);
      expect(mine.value('certfleet_certificates_issued_total', { how: 'manual' })).toBeGreaterThan(0);
      expect(theirs.value('certfleet_certificates_issued_total', { how: 'manual' })).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('refuses to start, in one line naming the setting, when the metrics port is taken', async () => {
    await expect(startTestCore({ env: { METRICS_PORT: String(tc.core.metricsPort) } })).rejects.toThrow(
      `METRICS_PORT/METRICS_HOST: cannot listen on 127.0.0.1:${tc.core.metricsPort} (EADDRINUSE)`,
    );
  });

  it('opens no listener without METRICS_PORT', async () => {
    const other = await startTestCore();
    try {
      expect(other.core.metricsUrl).toBeUndefined();
      expect(other.core.metricsPort).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
