import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApproveClientDocument, RegisterDevicesDocument, SummaryDocument } from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import type { TestCore } from '../support/test-core.js';

const ALERTS = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));

// Debian's Prometheus scrapes a running core every second; after a scenario (devices imported, an agent
// enrolls, is approved and connects), its HTTP API answers with the chart's counts and what happened.
describe('a real Prometheus scraping a core', () => {
  let tc: TestCore;
  let admin: string;
  let prometheus: RunningPrometheus | undefined;
  const agents = agentsOf(() => tc.core);

  /** one reads the value of the single series a query returns. */
  const one = async (promql: string): Promise<number> => {
    const result = await prometheus!.query(promql);
    expect(result, `${promql} → ${JSON.stringify(result)}\n${prometheus!.output()}`).toHaveLength(1);
    return Number(result[0]!.value[1]);
  };

  beforeAll(async () => {
    ({ tc, admin } = await startCoreWithTokens({ env: { METRICS_PORT: '0' } }));
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${tc.core.metricsPort}`], ruleFiles: [ALERTS] });
  });
  afterAll(async () => {
    await prometheus?.stop();
    agents.closeAll();
    await tc?.close();
  });

  it('holds the chart, the connection results, the issued certificates, a GraphQL counter and the gateway histogram', { timeout: 60_000 }, async () => {
    const reg = await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'WS-1', agentId: 'imported-1' }, { name: 'PRINTER-1' }] }, admin);
    expect(reg.errors).toBeUndefined();
    const agent = agents.make('prom-pc-1');
    const enrolled = await agent.enroll();
    expect(enrolled.status).toBe(202);
    const { requestId } = enrolled.body as { requestId: string };
    expect((await tc.gql(ApproveClientDocument, { id: requestId }, admin)).errors).toBeUndefined();
    agent.useCertificate(((await agent.poll(requestId)).body as { certificatePem: string }).certificatePem);
    expect((await agent.connect()).status).toBe(200);
    const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;

    // A scrape that started after the scenario ended (up's timestamp is its scrape's).
    const after = Date.now() / 1000;
    await expect
      .poll(async () => Number((await prometheus!.query('timestamp(up{job="certfleet"})'))[0]?.value[1] ?? 0), { timeout: 20_000, interval: 250 })
      .toBeGreaterThan(after);
    expect(await one('up{job="certfleet"}')).toBe(1);

    for (const item of summary.items) {
      expect(await one(`certfleet_devices{status="${item.status}"}`), item.status).toBe(item.count);
    }
    expect(await one('certfleet_authentication_success_ratio')).toBeCloseTo(summary.successRate, 12);
    expect(await one('sum(certfleet_devices)')).toBe(summary.total);
    expect(await one('certfleet_connection_results_total{result="AUTHENTICATION_SUCCEEDED", reason="none", source="SECURE_CONNECTION"}')).toBe(1);
    expect(await one('sum(certfleet_connection_results_total)')).toBe(1);
    expect(await one('certfleet_certificates_issued_total{how="manual"}')).toBe(1);
    expect(await one('certfleet_client_certificates{status="APPROVED"}')).toBe(1);
    expect(await one('certfleet_graphql_operations_total{operation="ApproveClient", type="mutation", outcome="ok"}')).toBe(1);
    expect(await one('certfleet_graphql_operation_duration_seconds_count{operation="ApproveClient"}')).toBe(1);
    expect(await one('certfleet_gateway_requests_total{route="/agent/v1/connect", method="POST", status="200"}')).toBe(1);
    expect(await one('certfleet_gateway_request_duration_seconds_count{route="/agent/v1/connect"}')).toBe(1);
    expect(await one('certfleet_gateway_request_duration_seconds_bucket{route="/agent/v1/connect", le="+Inf"}')).toBe(1);
    const p99 = await one('histogram_quantile(0.99, sum by (le) (certfleet_gateway_request_duration_seconds_bucket{route="/agent/v1/connect"}))');
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(10);
    expect(await one('certfleet_crl_next_update_timestamp_seconds - time()')).toBeGreaterThan(3 * 86400);
    expect(await one('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('loads the shipped alert rules and evaluates them on the series of the core without an error, none firing', { timeout: 30_000 }, async () => {
    type Rules = { groups: { name: string; rules: { name: string; health: string; lastError?: string; state: string; lastEvaluation: string }[] }[] };
    await expect
      .poll(async () => (await prometheus!.get<Rules>('/api/v1/rules')).groups[0]?.rules.every((r) => !r.lastEvaluation.startsWith('0001')), { timeout: 10_000 })
      .toBe(true);
    const { groups } = await prometheus!.get<Rules>('/api/v1/rules');
    expect(groups.map((g) => g.name)).toEqual(['certfleet']);
    const rules = groups[0]!.rules;
    expect(rules.length).toBe(10);
    for (const r of rules) {
      expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
      expect(r.state, r.name).toBe('inactive');
    }
  });
});
