import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { boundedLabel, createPrometheusMetrics, MAX_ERROR_CODES, MAX_OPERATION_NAMES, type FleetFigureReadings } from '../../../src/metrics/prometheus.js';
import { parseExposition } from '../../support/metrics.js';

const figures = (over: Partial<FleetFigureReadings> = {}): FleetFigureReadings => ({
  summary: {
    items: [
      { status: 'AUTHENTICATION_SUCCEEDED', count: 3 },
      { status: 'NO_AUTHENTICATION_INFO', count: 1 },
      { status: 'AUTHENTICATION_FAILED', count: 0 },
      { status: 'CLIENT_AGENTS_MUST_UPGRADE', count: 0 },
    ],
    successRate: 0.75,
    securityEnabled: true,
  },
  devicesNotFullyManageable: 1,
  certificatesByStatus: { PENDING: 2, APPROVED: 3, REJECTED: 0, REVOKED: 1 },
  certificatesExpiringSoon: 1,
  crlNextUpdate: new Date('2030-01-02T03:04:05Z'),
  caNotAfter: new Date('2040-01-01T00:00:00Z'),
  ...over,
});

function metricsWith(read: () => Promise<FleetFigureReadings>) {
  const lines: string[] = [];
  const m = createPrometheusMetrics({ readFigures: read, log: createLogger('debug', (l) => lines.push(l)) });
  return { m, lines, scrape: async () => parseExposition(await m.scrape()) };
}

describe('boundedLabel', () => {
  it('keeps the first values of the pattern up to the cap, and names every other one alike', () => {
    const label = boundedLabel(3, /^[a-z]+$/, 'other', ['kept']);
    expect(label('kept')).toBe('kept');
    expect(label('alpha')).toBe('alpha');
    expect(label('Not-A-Name')).toBe('other');
    expect(label('beta')).toBe('beta');
    // The cap is reached: a new value, however well formed, is "other"; a known one stays itself.
    expect(label('gamma')).toBe('other');
    expect(label('alpha')).toBe('alpha');
  });
});

describe('createPrometheusMetrics', () => {
  it('sets the fleet gauges from the figures read at the scrape, timestamps in Unix seconds', async () => {
    const { scrape } = metricsWith(async () => figures());
    const e = await scrape();
    expect(e.value('certfleet_devices', { status: 'AUTHENTICATION_SUCCEEDED' })).toBe(3);
    expect(e.value('certfleet_authentication_success_ratio')).toBe(0.75);
    expect(e.value('certfleet_devices_not_fully_manageable')).toBe(1);
    expect(e.value('certfleet_client_certificate_security_enabled')).toBe(1);
    expect(e.value('certfleet_client_certificates', { status: 'REVOKED' })).toBe(1);
    expect(e.value('certfleet_client_access_requests_pending')).toBe(2);
    expect(e.value('certfleet_crl_next_update_timestamp_seconds')).toBe(Date.UTC(2030, 0, 2, 3, 4, 5) / 1000);
    expect(e.value('certfleet_ca_not_after_timestamp_seconds')).toBe(Date.UTC(2040, 0, 1) / 1000);
    expect(e.value('certfleet_database_up')).toBe(1);
  });

  it('leaves the figures out when they cannot be read (not 0: a CRL "expiring" in 1970 would page someone), and logs that once a minute', async () => {
    let fail = true;
    const { scrape, lines } = metricsWith(async () => {
      if (fail) throw new Error('connection refused');
      return figures();
    });
    for (let i = 0; i < 3; i++) {
      const e = await scrape();
      expect(e.value('certfleet_database_up')).toBe(0);
      for (const name of ['certfleet_devices', 'certfleet_crl_next_update_timestamp_seconds', 'certfleet_authentication_success_ratio', 'certfleet_ca_not_after_timestamp_seconds']) {
        expect(e.series(name), name).toEqual([]);
        expect(e.type.get(name), name).toBe('gauge');
      }
    }
    expect(lines.filter((l) => l.includes('could not read the fleet figures'))).toHaveLength(1);
    fail = false;
    expect((await scrape()).value('certfleet_crl_next_update_timestamp_seconds')).toBeGreaterThan(0);
  });

  it('says nothing of a CRL before the first one is issued', async () => {
    const { scrape } = metricsWith(async () => figures({ crlNextUpdate: null }));
    const e = await scrape();
    expect(e.series('certfleet_crl_next_update_timestamp_seconds')).toEqual([]);
    expect(e.value('certfleet_database_up')).toBe(1);
  });

  it('bounds operation names, error codes, routes and methods, whatever the callers send', async () => {
    const { m, scrape } = metricsWith(async () => figures());
    m.sink.graphqlOperation('Q', 'not-a-type', 'error');
    for (let i = 0; i < MAX_OPERATION_NAMES * 2; i++) m.sink.graphqlOperation(`Op${i}`, 'query', 'ok', 0.01);
    m.sink.graphqlOperation('has spaces', 'query', 'ok', 0.01);
    for (let i = 0; i < MAX_ERROR_CODES * 2; i++) m.sink.graphqlError(`CODE_${i}`);
    m.sink.graphqlError('lower case');
    m.sink.gatewayRequest('/agent/v1/ca', 'BREW', 999, 0.001);
    // Routes come from the gateway's own table, never from a client; the cap is a guard against a bug.
    for (let i = 0; i < 100; i++) m.sink.gatewayRequest(`/made/up/${i}`, 'GET', 404, 0.001);
    const e = await scrape();
    const ops = new Set(e.series('certfleet_graphql_operations_total').map((s) => s.labels.operation));
    expect(ops.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 1);
    expect(ops.has('other')).toBe(true);
    expect(ops.has('has spaces')).toBe(false);
    expect(e.series('certfleet_graphql_operations_total', { operation: 'Q' })[0]!.labels.type).toBe('unknown');
    expect(new Set(e.series('certfleet_graphql_errors_total').map((s) => s.labels.code)).size).toBeLessThanOrEqual(MAX_ERROR_CODES + 1);
    expect(e.value('certfleet_graphql_errors_total', { code: 'OTHER' })).toBeGreaterThan(MAX_ERROR_CODES);
    expect(new Set(e.series('certfleet_gateway_requests_total').map((s) => s.labels.route)).size).toBeLessThanOrEqual(33);
    expect(e.value('certfleet_gateway_requests_total', { route: '/agent/v1/ca', method: 'other', status: 'other' })).toBe(1);
    // A request answered before any route saw it is counted, not timed.
    m.sink.gatewayRequest('unparsed', 'other', 400);
    const after = await scrape();
    expect(after.value('certfleet_gateway_requests_total', { route: 'unparsed' })).toBe(1);
    expect(after.series('certfleet_gateway_request_duration_seconds_count', { route: 'unparsed' })).toEqual([]);
  });

  it('never lets a measurement fail the work it measures', async () => {
    const { m, lines } = metricsWith(async () => figures());
    // Not a reason of the domain's: prom-client accepts any label value, so force a failure through a count.
    expect(() => m.sink.certificatesIssued(-1, 'manual')).not.toThrow();
    expect(() => m.sink.certificatesExpired(-5)).not.toThrow();
    expect(lines.filter((l) => l.includes('could not record a metric'))).toHaveLength(1);
  });

  it('keeps a registry per instance: two cores in one process count apart', async () => {
    const a = metricsWith(async () => figures());
    const b = metricsWith(async () => figures());
    a.m.sink.certificatesIssued(2, 'renewal');
    expect((await a.scrape()).value('certfleet_certificates_issued_total', { how: 'renewal' })).toBe(2);
    expect((await b.scrape()).value('certfleet_certificates_issued_total', { how: 'renewal' })).toBe(0);
    expect(a.m.registry).not.toBe(b.m.registry);
  });
});
