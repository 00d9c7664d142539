// One fault against a fresh database: core(s) started, a fleet connecting, the fault, then the checks.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchCaCertificate } from '../agent-client/agent-client.js';
import { loadConfig } from '../config.js';
import { issueToken, loadOrCreateSigningKey } from '../server/auth.js';
import { createAdminApi } from '../simulator/admin-api.js';
import { localAdminTokenSource } from '../simulator/admin-token.js';
import { createCoreProcess, type CoreProcess } from './core-process.js';
import { withDatabase } from './database.js';
import { openDashboard, readSummary, sameCounts, summaryOfCounters, type Dashboard, type SummaryCounts } from './dashboard.js';
import { prepareFleet, startLoad, type Attempt, type FleetAgent } from './fleet.js';
import { freePort } from './ports.js';
import type { PrivatePostgres, RestartMode } from './private-postgres.js';
import {
  checkCounters,
  matchAcknowledged,
  mostResultsOfOneDevice,
  readStoredResults,
  sampleCounters,
  type AcknowledgedResult,
  type CounterCheck,
} from './verify.js';

export const FAULT_KINDS = ['kill', 'pg-restart', 'replica-kill'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_TITLES: Record<FaultKind, string> = {
  kill: 'kill -9 of the server while agents connect, then start it again',
  'pg-restart': 'PostgreSQL restart while agents connect (the server keeps running)',
  'replica-kill': 'two replicas on one database, one killed with SIGKILL mid-load',
};

/** The history cap the run's cores get: high enough that the run never prunes a result it counts. */
export const HISTORY_PER_DEVICE = 10_000;

export interface FaultRunOptions {
  agents: number;
  /** Load before the fault, and after it is over (the server back, PostgreSQL back, or the replica gone). */
  beforeMs: number;
  afterMs: number;
  intervalMs: number;
  /** kill: how long the server stays down before it is started again. */
  downMs: number;
  pgRestartMode: RestartMode;
  requestTimeoutMs: number;
  /** How long a dashboard may take to show the final state after the load. */
  resyncTimeoutMs: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface DashboardReport {
  replica: string;
  resynced: boolean;
  /** From the end of the load until its last message equalled a fresh read (and the database). */
  resyncMs: number | null;
  messages: number;
  messagesAfterFault: number;
  reconnects: number;
  /** For a restarted replica: from its restart being ready to the dashboard's first message from it. */
  backAfterRestartMs: number | null;
  /** From the fault to the first message once it was over (the server back, PostgreSQL back, the replica gone): how long the chart stood still. */
  updatesResumedMs: number | null;
  last: SummaryCounts | null;
  freshRead: SummaryCounts | null;
  database: SummaryCounts | null;
  errors: string[];
}

export interface FaultReport {
  fault: FaultKind;
  title: string;
  database: string;
  replicas: number;
  settings: { agents: number; beforeMs: number; afterMs: number; intervalMs: number; downMs?: number; pgRestartMode?: RestartMode };
  /** Times in ms; faultAtMs from the start of the load. */
  timeline: { loadMs: number; faultAtMs: number; faultActionMs: number; serverRestartMs?: number; pgRestartMs?: number };
  /** Answers per second of the load, second 0 being the one the fault began in. */
  perSecond: { second: number; acknowledged: number; errors: number }[];
  requests: number;
  acknowledged: { total: number; byHttpStatus: Record<string, number> };
  stored: number;
  storedNotAcknowledged: number;
  lost: number;
  lostExamples: { agentId: string; source: string; result: string; sentAt: string; answeredAt: string }[];
  mostResultsPerDevice: number;
  /** Agent-visible errors by kind: "HTTP 503", "HTTP 500", "connection refused", "connection reset", "timeout", ... */
  errors: Record<string, number>;
  errorsBeforeFault: number;
  http503WithRetryAfter: number;
  unexpectedVerdicts: number;
  unexpectedVerdictExamples: string[];
  counters: { final: CounterCheck; samples: { checks: number; mismatches: number; unavailable: number } };
  dashboards: DashboardReport[];
  recovery: {
    agentsWithErrors: number;
    /** First and last agent-visible error, from the fault. */
    firstErrorMs: number | null;
    lastErrorMs: number | null;
    /** The first acknowledged answer to a request sent after the fault began. */
    firstAckAfterFaultMs: number | null;
    /** Every agent that saw an error had an acknowledged answer again by then (from the fault); null if some were not. */
    allAgentsServedAgainMs: number | null;
    notServedAgain: number;
  };
  /** Cores that exited when nobody stopped them: how, and the last lines they wrote. */
  crashes: { replica: string; how: string }[];
  /** ERROR lines the core(s) logged, and a few distinct ones. */
  serverLogErrors: { replica: string; count: number; examples: string[] }[];
  /** Why the fault failed (lost results, counters, dashboards); empty when it passed. */
  failures: string[];
  /** Defects that do not fail the run unless --strict: HTTP 500s, unexpected verdicts. */
  defects: string[];
}

/** runFault runs one fault against a fresh database of the private cluster; dir is a scratch directory of its own. */
export async function runFault(kind: FaultKind, index: number, pg: PrivatePostgres, dir: string, opts: FaultRunOptions, track: (p: CoreProcess) => void): Promise<FaultReport> {
  const log = opts.log;
  const dbName = `faults_${index}_${kind.replace(/-/g, '_')}`;
  const databaseUrl = await pg.createDatabase(dbName);
  const replicaCount = kind === 'replica-kill' ? 2 : 1;
  // Replicas share the database, the CA passphrase and the token key (copied: as on two machines).
  const passphrase = randomBytes(24).toString('base64url');
  const replicas: CoreProcess[] = [];
  const dataDirs: string[] = [];
  for (let r = 0; r < replicaCount; r++) {
    const name = `replica-${'ab'[r]}`;
    const dataDir = join(dir, name);
    await mkdir(dataDir, { recursive: true });
    dataDirs.push(dataDir);
    const core = createCoreProcess({
      name,
      port: await freePort(),
      agentPort: await freePort(),
      logFile: join(dir, `${name}.log`),
      env: {
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        CA_KEY_PASSPHRASE: passphrase,
        CORE_NAME: 'certfleet-faults',
        LOG_LEVEL: 'info',
        CONNECTION_HISTORY_PER_DEVICE: String(HISTORY_PER_DEVICE),
      },
    });
    track(core);
    replicas.push(core);
  }
  const dashboards: Dashboard[] = [];
  try {
    // The token key is made before any replica starts, so that every replica gets a copy of it.
    await loadOrCreateSigningKey(dataDirs[0]!);
    for (const d of dataDirs.slice(1)) await copyFile(join(dataDirs[0]!, 'jwt-signing-key.pem'), join(d, 'jwt-signing-key.pem'));
    const primary = replicas[0]!;
    const started = async (r: CoreProcess) => {
      const ms = await r.start();
      log(`${r.name} is up in ${(ms / 1000).toFixed(1)} s (GraphQL ${r.graphqlUrl}, gateway ${r.agentUrl})`);
    };
    // The first replica creates the CA; the others start while the fleet enrolls through it.
    await started(primary);
    const others = Promise.all(replicas.slice(1).map(started));
    others.catch(() => {});
    const auth = loadConfig({ DATA_DIR: dataDirs[0] }).auth;
    const adminToken = await localAdminTokenSource(auth, { subject: 'certfleet-faults' });
    const viewerToken = await issueToken(auth, { subject: 'certfleet-faults-dashboard', roles: ['VIEWER'], ttlSeconds: 4 * 3600 });
    const api = createAdminApi(primary.graphqlUrl, adminToken, 120_000);
    const ca = await api.certificateAuthority();

    const prefix = `flt${index}-${randomBytes(3).toString('hex')}`;
    const setupStarted = performance.now();
    const fleet = await prepareFleet({
      agents: opts.agents,
      prefix,
      api,
      gatewayUrl: primary.agentUrl,
      replicas: replicaCount,
      caCertificatePem: ca.certificatePem,
    });
    await others;
    for (const r of replicas) {
      const served = await fetchCaCertificate(r.agentUrl);
      if (served.fingerprint !== ca.fingerprint) throw new Error(`${r.name} serves another CA than ${primary.name}: the replicas do not share one core`);
    }
    log(`${fleet.length} agents enrolled and approved in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s (${describeFleet(fleet)})`);
    checkAbort(opts.signal);

    for (const r of replicas) dashboards.push(openDashboard(r.name, r.graphqlUrl, async () => viewerToken));
    const sampler = sampleCounters(databaseUrl, 1000);
    const load = startLoad({
      fleet,
      gatewayUrls: replicas.map((r) => r.agentUrl),
      caCertificatePem: ca.certificatePem,
      intervalMs: opts.intervalMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      failover: replicaCount > 1,
    });
    const loadStarted = Date.now();
    const progress = setInterval(() => {
      const c = load.counts();
      log(`  +${((Date.now() - loadStarted) / 1000).toFixed(0)} s: ${c.acks} acknowledged, ${c.errors} errors`);
    }, 5000);

    let faultAt = 0;
    let faultEnd = 0;
    let serverRestartMs: number | undefined;
    let pgRestartMs: number | undefined;
    let stopped = false;
    const stopLoad = async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(progress);
      await load.stop();
    };
    try {
      await sleepUnlessAborted(opts.beforeMs, opts.signal);
      checkAbort(opts.signal);
      faultAt = Date.now();
      if (kind === 'kill') {
        log(`fault: kill -9 ${primary.name} (pid ${primary.pid})`);
        await primary.kill9();
        await sleepUnlessAborted(opts.downMs, opts.signal);
        checkAbort(opts.signal);
        serverRestartMs = await primary.start();
        log(`${primary.name} started again, ready in ${(serverRestartMs / 1000).toFixed(1)} s`);
      } else if (kind === 'pg-restart') {
        log(`fault: pg_ctl restart -m ${opts.pgRestartMode} of the private cluster`);
        const t = performance.now();
        await pg.restart(opts.pgRestartMode);
        pgRestartMs = performance.now() - t;
        log(`PostgreSQL accepts connections again after ${(pgRestartMs / 1000).toFixed(1)} s`);
      } else {
        const victim = replicas[1]!;
        log(`fault: kill -9 ${victim.name} (pid ${victim.pid}); its agents move to ${primary.name}`);
        await victim.kill9();
      }
      faultEnd = Date.now();
      await sleepUnlessAborted(opts.afterMs, opts.signal);
    } finally {
      await stopLoad();
    }
    const loadEnd = Date.now();
    const samples = await sampler.stop();
    checkAbort(opts.signal);
    log(`load stopped after ${((loadEnd - loadStarted) / 1000).toFixed(1)} s; checking`);

    // Dashboards on every replica still running: the restarted one, or the survivor.
    const dashboardReports: DashboardReport[] = [];
    for (let r = 0; r < replicaCount; r++) {
      if (!replicas[r]!.running) continue;
      dashboardReports.push(
        await awaitResync(dashboards[r]!, replicas[r]!.graphqlUrl, viewerToken, databaseUrl, {
          faultAt,
          faultEnd,
          loadEnd,
          restartedAt: kind === 'kill' && r === 0 ? faultEnd : null,
          timeoutMs: opts.resyncTimeoutMs,
        }),
      );
    }

    const { final, stored, mostPerDevice } = await withDatabase(databaseUrl, 120_000, async (sql) => ({
      final: await checkCounters(sql),
      stored: await readStoredResults(sql, prefix),
      mostPerDevice: await mostResultsOfOneDevice(sql, prefix),
    }));
    const attempts = load.attempts;
    const acked: AcknowledgedResult[] = attempts
      .filter((a) => a.outcome === 'ack')
      .map((a) => ({ agentId: fleet[a.agent]!.agentId, source: a.source, sentAt: a.sentAt, answeredAt: a.answeredAt, result: a.result!, reason: a.reason }));
    const match = matchAcknowledged(acked, stored);

    const report: FaultReport = {
      fault: kind,
      title: FAULT_TITLES[kind],
      database: dbName,
      replicas: replicaCount,
      settings: {
        agents: opts.agents,
        beforeMs: opts.beforeMs,
        afterMs: opts.afterMs,
        intervalMs: opts.intervalMs,
        ...(kind === 'kill' ? { downMs: opts.downMs } : {}),
        ...(kind === 'pg-restart' ? { pgRestartMode: opts.pgRestartMode } : {}),
      },
      timeline: {
        loadMs: loadEnd - loadStarted,
        faultAtMs: faultAt - loadStarted,
        faultActionMs: faultEnd - faultAt,
        ...(serverRestartMs !== undefined ? { serverRestartMs: Math.round(serverRestartMs) } : {}),
        ...(pgRestartMs !== undefined ? { pgRestartMs: Math.round(pgRestartMs) } : {}),
      },
      perSecond: perSecond(attempts, faultAt),
      requests: attempts.length,
      acknowledged: { total: acked.length, byHttpStatus: countBy(attempts.filter((a) => a.outcome === 'ack'), (a) => String(a.httpStatus)) },
      stored: match.stored,
      storedNotAcknowledged: match.storedNotAcknowledged,
      lost: match.lost.length,
      lostExamples: match.lost.slice(0, 10).map((l) => ({
        agentId: l.agentId,
        source: l.source,
        result: l.result,
        sentAt: new Date(l.sentAt).toISOString(),
        answeredAt: new Date(l.answeredAt).toISOString(),
      })),
      mostResultsPerDevice: mostPerDevice,
      errors: countBy(attempts.filter((a) => a.outcome !== 'ack'), (a) => a.outcome),
      errorsBeforeFault: attempts.filter((a) => a.outcome !== 'ack' && a.answeredAt < faultAt).length,
      http503WithRetryAfter: attempts.filter((a) => a.httpStatus === 503 && a.retryAfter).length,
      unexpectedVerdicts: attempts.filter((a) => a.expected === false).length,
      unexpectedVerdictExamples: attempts
        .filter((a) => a.expected === false)
        .slice(0, 5)
        .map((a) => `${fleet[a.agent]!.agentId} (${fleet[a.agent]!.role}, round ${a.round}) ${a.source}: HTTP ${a.httpStatus} ${a.result} ${a.reason ?? ''}`.trim()),
      counters: { final, samples: { checks: samples.checks, mismatches: samples.mismatches.length, unavailable: samples.unavailable } },
      dashboards: dashboardReports,
      recovery: recoveryOf(attempts, faultAt),
      crashes: replicas.filter((r) => r.crashed !== null).map((r) => ({ replica: r.name, how: r.crashed! })),
      serverLogErrors: await Promise.all(replicas.map((r) => logErrors(r))),
      failures: [],
      defects: [],
    };
    judge(report, samples.mismatches);
    return report;
  } finally {
    for (const d of dashboards) d.dispose();
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

/** judge fills failures (the run exits 1) and defects (reported; they fail only with --strict). */
function judge(r: FaultReport, mismatches: CounterCheck[]): void {
  for (const c of r.crashes) r.failures.push(`${c.replica} exited on its own during the run (${c.how})`);
  if (r.lost > 0) r.failures.push(`${r.lost} acknowledged result(s) not stored`);
  if (!r.counters.final.equal) {
    r.failures.push(`counters ${JSON.stringify(r.counters.final.counters)} differ from the recount ${JSON.stringify(r.counters.final.recount)}`);
  }
  if (mismatches.length > 0) {
    r.failures.push(`${mismatches.length} snapshot(s) during the load had counters unlike the recount, e.g. ${JSON.stringify(mismatches[0])}`);
  }
  if (r.mostResultsPerDevice >= HISTORY_PER_DEVICE) {
    r.failures.push(`a device reached the history cap (${HISTORY_PER_DEVICE}): results may have been pruned, the stored count is void (shorten the run or lengthen --interval)`);
  }
  if (r.acknowledged.total === 0) r.failures.push('no result was acknowledged at all');
  if (r.crashes.length === 0 && r.recovery.agentsWithErrors > 0 && r.recovery.allAgentsServedAgainMs === null) {
    r.failures.push(`not recovered: ${r.recovery.notServedAgain} agent(s) that saw errors were not answered again before the load ended`);
  }
  for (const d of r.dashboards) {
    if (!d.resynced) r.failures.push(`dashboard on ${d.replica} did not resync: last message ${JSON.stringify(d.last)}, fresh read ${JSON.stringify(d.freshRead)}, database ${JSON.stringify(d.database)}`);
  }
  if (r.dashboards.length === 0 && r.crashes.length === 0) r.failures.push('no replica left running to check a dashboard on');
  const http500 = r.errors['HTTP 500'] ?? 0;
  if (http500 > 0) r.defects.push(`${http500} HTTP 500 answer(s) to agents (the gateway should answer 503 with Retry-After while the database is unavailable)`);
  if (r.unexpectedVerdicts > 0) r.defects.push(`${r.unexpectedVerdicts} answer(s) with a verdict the agent's part does not get, e.g. ${r.unexpectedVerdictExamples[0]}`);
}

async function awaitResync(
  d: Dashboard,
  graphqlUrl: string,
  token: string,
  databaseUrl: string,
  o: { faultAt: number; faultEnd: number; loadEnd: number; restartedAt: number | null; timeoutMs: number },
): Promise<DashboardReport> {
  const deadline = Date.now() + o.timeoutMs;
  let freshRead: SummaryCounts | null = null;
  let database: SummaryCounts | null = null;
  let resyncMs: number | null = null;
  for (;;) {
    try {
      freshRead = await readSummary(graphqlUrl, token);
      database = summaryOfCounters((await withDatabase(databaseUrl, 10_000, checkCounters)).counters);
    } catch (err) {
      d.errors.push(`reading the summary: ${(err as Error).message}`);
    }
    if (sameCounts(d.last(), freshRead ?? undefined) && sameCounts(freshRead ?? undefined, database ?? undefined) && d.messages.some((m) => m.at >= o.faultAt)) {
      resyncMs = Date.now() - o.loadEnd;
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const firstBack = o.restartedAt === null ? undefined : d.messages.find((m) => m.at >= o.restartedAt!);
  const resumed = d.messages.find((m) => m.at >= o.faultEnd);
  return {
    replica: d.replica,
    resynced: resyncMs !== null,
    resyncMs,
    messages: d.messages.length,
    messagesAfterFault: d.messages.filter((m) => m.at >= o.faultAt).length,
    reconnects: Math.max(0, d.connectedAt.length - 1),
    backAfterRestartMs: firstBack && o.restartedAt !== null ? firstBack.at - o.restartedAt : null,
    updatesResumedMs: resumed ? resumed.at - o.faultAt : null,
    last: d.last() ?? null,
    freshRead,
    database,
    errors: [...new Set(d.errors)].slice(0, 5),
  };
}

/** recoveryOf measures, from the fault, how long agents saw errors and when every one of them was answered again. */
function recoveryOf(attempts: Attempt[], faultAt: number): FaultReport['recovery'] {
  const errorsAfter = attempts.filter((a) => a.outcome !== 'ack' && a.answeredAt >= faultAt);
  const firstAck = attempts.filter((a) => a.outcome === 'ack' && a.sentAt >= faultAt).reduce((m, a) => Math.min(m, a.answeredAt), Infinity);
  const lastErrorOf = new Map<number, number>();
  for (const a of errorsAfter) lastErrorOf.set(a.agent, Math.max(lastErrorOf.get(a.agent) ?? 0, a.answeredAt));
  let allServed = 0;
  let notServedAgain = 0;
  for (const [agent, lastError] of lastErrorOf) {
    const next = attempts.find((a) => a.agent === agent && a.outcome === 'ack' && a.sentAt >= lastError);
    // Without one, the load ended before this agent was answered again.
    if (next) allServed = Math.max(allServed, next.answeredAt - faultAt);
    else notServedAgain++;
  }
  return {
    agentsWithErrors: lastErrorOf.size,
    firstErrorMs: errorsAfter.length === 0 ? null : Math.min(...errorsAfter.map((a) => a.answeredAt)) - faultAt,
    lastErrorMs: errorsAfter.length === 0 ? null : Math.max(...errorsAfter.map((a) => a.answeredAt)) - faultAt,
    firstAckAfterFaultMs: Number.isFinite(firstAck) ? firstAck - faultAt : null,
    allAgentsServedAgainMs: lastErrorOf.size === 0 || notServedAgain > 0 ? null : allServed,
    notServedAgain,
  };
}

function perSecond(attempts: Attempt[], faultAt: number): FaultReport['perSecond'] {
  const buckets = new Map<number, { acknowledged: number; errors: number }>();
  for (const a of attempts) {
    const second = Math.floor((a.answeredAt - faultAt) / 1000);
    const b = buckets.get(second) ?? { acknowledged: 0, errors: 0 };
    if (a.outcome === 'ack') b.acknowledged++;
    else b.errors++;
    buckets.set(second, b);
  }
  return [...buckets].sort((x, y) => x[0] - y[0]).map(([second, b]) => ({ second, ...b }));
}

async function logErrors(r: CoreProcess): Promise<{ replica: string; count: number; examples: string[] }> {
  let text = '';
  try {
    text = await readFile(r.logFile, 'utf8');
  } catch {
    return { replica: r.name, count: 0, examples: [] };
  }
  const lines = text.split('\n').filter((l) => / ERROR /.test(l));
  // One example per message, without its timestamp, fields or stack.
  const distinct = [...new Set(lines.map((l) => l.replace(/^\S+ ERROR\s+/, '').replace(/ (error|events|method)=.*$/, '').slice(0, 160)))];
  return { replica: r.name, count: lines.length, examples: distinct.slice(0, 5) };
}

function describeFleet(fleet: FleetAgent[]): string {
  const by = countBy(fleet, (a) => a.role);
  return Object.entries(by)
    .map(([role, n]) => `${n} ${role}`)
    .join(', ');
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

/** Interrupted ends a fault run early (Ctrl-C). */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Interrupted('interrupted');
}

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
