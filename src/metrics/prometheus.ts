import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REVOCATION_REASONS } from '../domain/revocation.js';
import {
  AUTH_STATUSES,
  CLIENT_CERTIFICATE_STATUSES,
  CONNECTION_SOURCES,
  FAILURE_REASONS,
  UNVERIFIED_REASONS,
  type AuthStatus,
  type ClientCertificateStatus,
} from '../domain/statuses.js';
import type { Logger } from '../logger.js';
import type { EnrollmentOutcome, IssuedHow, LimitCode, MetricsSink } from './sink.js';

/**
 * FleetFigureReadings are the figures read from the database at each scrape (services/fleet-figures-service.ts
 * shapes them): kept counters and bounded index reads, never a count over the devices.
 */
export interface FleetFigureReadings {
  summary: { items: { status: AuthStatus; count: number }[]; successRate: number; securityEnabled: boolean };
  devicesNotFullyManageable: number;
  certificatesByStatus: Record<ClientCertificateStatus, number>;
  certificatesExpiringSoon: number;
  crlNextUpdate: Date | null;
  caNotAfter: Date;
}

/** Distinct GraphQL operation names kept as labels per registry; later names count as "other". */
export const MAX_OPERATION_NAMES = 100;
/** Distinct error codes kept as labels; later codes count as "OTHER" (the server defines a few dozen). */
export const MAX_ERROR_CODES = 64;
/** Distinct gateway routes kept as labels (the gateway has eight, and "unmatched", "unparsed"). */
export const MAX_ROUTES = 32;

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const ROUTE = /^[a-z0-9/{}_.-]{1,100}$/i;
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * boundedLabel keeps a label's values to those of a pattern, the first `cap` distinct ones: what a
 * client chooses (an operation name) can never grow the number of series past the cap.
 */
export function boundedLabel(cap: number, pattern: RegExp, other: string, keep: Iterable<string> = []) {
  const seen = new Set<string>(keep);
  return (value: string): string => {
    if (seen.has(value)) return value;
    if (!pattern.test(value) || seen.size >= cap) return other;
    seen.add(value);
    return value;
  };
}

/**
 * FigureGauge is a gauge read from the database at each scrape. When a read fails it is left out of the
 * scrape (no sample at all): a gauge without labels would otherwise show 0, and a CRL "expiring" in 1970
 * would page someone.
 */
class FigureGauge<T extends string = string> extends Gauge<T> {
  /** Until the first read, and after a failed one. */
  absent = true;

  override async get() {
    const metric = await super.get();
    return this.absent ? { ...metric, values: [] } : metric;
  }
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface PrometheusMetrics {
  registry: Registry;
  /** The sink handed to the services, the live hub and the transport. */
  sink: MetricsSink;
  /** scrape reads the fleet figures and renders every metric in Prometheus's text format. */
  scrape(): Promise<string>;
  contentType: string;
}

/**
 * createPrometheusMetrics makes the core's metrics on a registry of its own (not prom-client's global
 * one: a process may run several cores, as the tests do), with Node's default process metrics.
 */
export function createPrometheusMetrics(opts: { readFigures: () => Promise<FleetFigureReadings>; log: Logger }): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  // Read at each scrape.
  const devices = new FigureGauge({
    name: 'certfleet_devices',
    help: 'Devices by authentication status: the chart of Security settings, from the kept counters.',
    labelNames: ['status'] as const,
    registers,
  });
  const successRatio = new FigureGauge({
    name: 'certfleet_authentication_success_ratio',
    help: 'Devices in AUTHENTICATION_SUCCEEDED over all devices (0 to 1; 0 with no devices): the chart success rate.',
    registers,
  });
  const notManageable = new FigureGauge({
    name: 'certfleet_devices_not_fully_manageable',
    help: 'Devices not fully manageable: while client certificate-based security is enabled, every device not in AUTHENTICATION_SUCCEEDED.',
    registers,
  });
  const securityEnabled = new FigureGauge({
    name: 'certfleet_client_certificate_security_enabled',
    help: '1 once client certificate-based security is enabled (it cannot be turned off), else 0.',
    registers,
  });
  const certificates = new FigureGauge({
    name: 'certfleet_client_certificates',
    help: 'Client certificate requests and certificates by status (PENDING: waiting for a decision), from the kept ledger.',
    labelNames: ['status'] as const,
    registers,
  });
  const pending = new FigureGauge({
    name: 'certfleet_client_access_requests_pending',
    help: 'Client access requests waiting for an admin decision (the same figure as certfleet_client_certificates{status="PENDING"}).',
    registers,
  });
  const expiringSoon = new FigureGauge({
    name: 'certfleet_client_certificates_expiring_within_30_days',
    help: 'Approved client certificates whose validity ends within 30 days, read through an index and counted up to 100000.',
    registers,
  });
  const crlNextUpdate = new FigureGauge({
    name: 'certfleet_crl_next_update_timestamp_seconds',
    help: 'When the current CRL stops being valid (nextUpdate), in seconds since the Unix epoch.',
    registers,
  });
  const caNotAfter = new FigureGauge({
    name: 'certfleet_ca_not_after_timestamp_seconds',
    help: "When this core's CA certificate expires (notAfter), in seconds since the Unix epoch.",
    registers,
  });
  const databaseUp = new Gauge({
    name: 'certfleet_database_up',
    help: 'Whether this scrape read the fleet figures from the database (1) or could not (0, and they are left out).',
    registers,
  });
  const fleetGauges = [devices, successRatio, notManageable, securityEnabled, certificates, pending, expiringSoon, crlNextUpdate, caNotAfter];

  // Counted as things happen on this replica (sum them over the replicas).
  const connectionResults = new Counter({
    name: 'certfleet_connection_results_total',
    help: 'Connection results recorded (committed) by this replica, by result, failure reason ("none" unless failed) and source.',
    labelNames: ['result', 'reason', 'source'] as const,
    registers,
  });
  const unverified = new Counter({
    name: 'certfleet_unverified_attempts_total',
    help: 'Connection claims that proved no key on file for their device (by reason), or named an agent id this core does not know (UNKNOWN_AGENT).',
    labelNames: ['reason'] as const,
    registers,
  });
  const issued = new Counter({
    name: 'certfleet_certificates_issued_total',
    help: 'Client certificates issued, by how the request was approved (manual, renewal, auto-approval).',
    labelNames: ['how'] as const,
    registers,
  });
  const revoked = new Counter({
    name: 'certfleet_certificates_revoked_total',
    help: 'Client certificates revoked, by revocation reason (SUPERSEDED: replaced by a newly approved one).',
    labelNames: ['reason'] as const,
    registers,
  });
  const expired = new Counter({
    name: 'certfleet_certificates_expired_total',
    help: 'Devices the expiry sweep turned to AUTHENTICATION_FAILED because the certificate they authenticated with expired.',
    registers,
  });
  const enrollments = new Counter({
    name: 'certfleet_enrollments_total',
    help: 'Enrollment calls by outcome: requested (a new PENDING request), repeated (the same key again), renewed, auto_approved, refused.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: 'certfleet_rate_limited_requests_total',
    help: 'Requests refused with 429 by a limit: ENROLLMENT_RATE_LIMITED, TOO_MANY_PENDING_REQUESTS, PENDING_REQUESTS_FULL.',
    labelNames: ['limit'] as const,
    registers,
  });
  const graphqlOperations = new Counter({
    name: 'certfleet_graphql_operations_total',
    help: `GraphQL operations over HTTP by operation name (the first ${MAX_OPERATION_NAMES} distinct names; later ones "other"; "unresolved": refused before an operation was known), type and outcome.`,
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers,
  });
  const graphqlDuration = new Histogram({
    name: 'certfleet_graphql_operation_duration_seconds',
    help: 'Time from the start of a GraphQL operation over HTTP to its response, by operation name and type.',
    labelNames: ['operation', 'type'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const graphqlErrors = new Counter({
    name: 'certfleet_graphql_errors_total',
    help: 'Errors in GraphQL responses over HTTP, by error code.',
    labelNames: ['code'] as const,
    registers,
  });
  const gatewayRequests = new Counter({
    name: 'certfleet_gateway_requests_total',
    help: 'Agent gateway requests by route pattern, method and HTTP status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const gatewayDuration = new Histogram({
    name: 'certfleet_gateway_request_duration_seconds',
    help: 'Time from an agent gateway request to its answer, by route pattern and method.',
    labelNames: ['route', 'method'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const batchSize = new Histogram({
    name: 'certfleet_group_commit_batch_size',
    help: 'Connection results written by one group-commit transaction.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers,
  });
  const commitDuration = new Histogram({
    name: 'certfleet_group_commit_duration_seconds',
    help: 'Time of one group-commit transaction of connection results, from asking for it to its commit.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const sockets = new Gauge({
    name: 'certfleet_graphql_ws_sockets',
    help: 'Open graphql-ws sockets.',
    registers,
  });
  const subscriptions = new Gauge({
    name: 'certfleet_graphql_subscriptions',
    help: 'Active GraphQL subscriptions (over graphql-ws).',
    registers,
  });
  const pushDelay = new Histogram({
    name: 'certfleet_summary_push_delay_seconds',
    help: 'Time from a chart change reaching the live hub (at its commit; from another replica, at its notification) to the summary push that carries it.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  // Every series of a known label set starts at 0, so rate() and alerts see it before its first event.
  for (const source of CONNECTION_SOURCES) {
    for (const result of AUTH_STATUSES.filter((s) => s !== 'NO_AUTHENTICATION_INFO')) {
      const reasons = result === 'AUTHENTICATION_FAILED' ? FAILURE_REASONS : (['none'] as const);
      for (const reason of reasons) connectionResults.labels(result, reason, source).inc(0);
    }
  }
  for (const reason of [...UNVERIFIED_REASONS, 'UNKNOWN_AGENT']) unverified.labels(reason).inc(0);
  for (const how of ['manual', 'renewal', 'auto-approval'] satisfies IssuedHow[]) issued.labels(how).inc(0);
  for (const reason of REVOCATION_REASONS) revoked.labels(reason).inc(0);
  for (const outcome of ['requested', 'repeated', 'renewed', 'auto_approved', 'refused'] satisfies EnrollmentOutcome[]) {
    enrollments.labels(outcome).inc(0);
  }
  for (const limit of ['ENROLLMENT_RATE_LIMITED', 'TOO_MANY_PENDING_REQUESTS', 'PENDING_REQUESTS_FULL'] satisfies LimitCode[]) {
    rateLimited.labels(limit).inc(0);
  }

  const operationName = boundedLabel(MAX_OPERATION_NAMES, GRAPHQL_NAME, 'other', ['anonymous', 'unresolved']);
  const errorCode = boundedLabel(MAX_ERROR_CODES, ERROR_CODE, 'OTHER');
  const route = boundedLabel(MAX_ROUTES, ROUTE, 'other', ['unmatched', 'unparsed']);
  const method = (m: string) => (METHODS.has(m) ? m : 'other');
  const operationType = (t: string) => (OPERATION_TYPES.has(t) ? t : 'unknown');
  const status = (s: number) => (Number.isInteger(s) && s >= 100 && s <= 599 ? String(s) : 'other');

  // A measurement must never fail the work it measures (often already committed): a fault here is logged, once.
  let faultLogged = false;
  const safe = <A extends unknown[]>(record: (...args: A) => void) => (...args: A): void => {
    try {
      record(...args);
    } catch (err) {
      if (!faultLogged) opts.log.error('could not record a metric', { error: err });
      faultLogged = true;
    }
  };

  const sink: MetricsSink = {
    connectionResult: safe((source, result, reason) => connectionResults.labels(result, reason ?? 'none', source).inc()),
    unverifiedAttempt: safe((reason) => unverified.labels(reason).inc()),
    certificatesIssued: safe((count, how) => issued.labels(how).inc(count)),
    certificatesRevoked: safe((count, reason) => revoked.labels(reason).inc(count)),
    certificatesExpired: safe((count) => expired.inc(count)),
    enrollment: safe((outcome) => enrollments.labels(outcome).inc()),
    rateLimited: safe((code) => rateLimited.labels(code).inc()),
    groupCommit: safe((size, seconds) => {
      batchSize.observe(size);
      commitDuration.observe(seconds);
    }),
    summaryPushed: safe((delay) => pushDelay.observe(delay)),
    graphqlOperation: safe((name, type, outcome, seconds) => {
      const op = operationName(name);
      const kind = operationType(type);
      graphqlOperations.labels(op, kind, outcome).inc();
      if (seconds !== undefined) graphqlDuration.labels(op, kind).observe(seconds);
    }),
    graphqlError: safe((code) => graphqlErrors.labels(errorCode(code)).inc()),
    gatewayRequest: safe((path, verb, code, seconds) => {
      const r = route(path);
      const m = method(verb);
      gatewayRequests.labels(r, m, status(code)).inc();
      if (seconds !== undefined) gatewayDuration.labels(r, m).observe(seconds);
    }),
    websocketSockets: safe((delta) => sockets.inc(delta)),
    subscriptions: safe((delta) => subscriptions.inc(delta)),
  };

  let lastReadErrorAt = -Infinity;
  async function refreshFleetGauges(): Promise<void> {
    let f: FleetFigureReadings;
    try {
      f = await opts.readFigures();
    } catch (err) {
      // Figures that could not be read are left out rather than shown stale; certfleet_database_up says why.
      for (const g of fleetGauges) g.absent = true;
      databaseUp.set(0);
      if (performance.now() - lastReadErrorAt > 60_000) {
        lastReadErrorAt = performance.now();
        opts.log.warn('metrics: could not read the fleet figures from the database', { error: (err as Error).message });
      }
      return;
    }
    for (const item of f.summary.items) devices.labels(item.status).set(item.count);
    successRatio.set(f.summary.successRate);
    notManageable.set(f.devicesNotFullyManageable);
    securityEnabled.set(f.summary.securityEnabled ? 1 : 0);
    for (const s of CLIENT_CERTIFICATE_STATUSES) certificates.labels(s).set(f.certificatesByStatus[s]);
    pending.set(f.certificatesByStatus.PENDING);
    expiringSoon.set(f.certificatesExpiringSoon);
    if (f.crlNextUpdate) crlNextUpdate.set(f.crlNextUpdate.getTime() / 1000);
    caNotAfter.set(f.caNotAfter.getTime() / 1000);
    for (const g of fleetGauges) g.absent = false;
    // No CRL yet (a first start issues one at once): nothing to say rather than a date in 1970.
    crlNextUpdate.absent = f.crlNextUpdate === null;
    databaseUp.set(1);
  }

  return {
    registry,
    sink,
    contentType: registry.contentType,
    async scrape() {
      await refreshFleetGauges();
      return registry.metrics();
    },
  };
}
