// What one fault run found: the report's shape (src/faults/report.ts prints it), how it is made from
// the run's records (every attempt of the load, the stored results, the counters, the dashboards),
// and the judgement: failures that fail the run, defects that fail it only with --strict.
import { readFile } from 'node:fs/promises';
import type { CoreProcess } from './core-process.js';
import type { DashboardReport } from './dashboard.js';
import type { Attempt, FleetAgent } from './fleet.js';
import type { RestartMode } from './private-postgres.js';
import { matchAcknowledged, type AcknowledgedResult, type CounterCheck, type StoredResult } from './verify.js';

export type { DashboardReport } from './dashboard.js';

export const FAULT_KINDS = ['kill', 'pg-restart', 'replica-kill'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_TITLES: Record<FaultKind, string> = {
  kill: 'kill -9 of the server while agents connect, then start it again',
  'pg-restart': 'PostgreSQL restart while agents connect (the server keeps running)',
  'replica-kill': 'two replicas on one database, one killed with SIGKILL mid-load',
};

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

/** FaultRecords is what a fault run gathered, for reportOf to turn into its report. */
export interface FaultRecords {
  kind: FaultKind;
  /** The run's database on the private cluster. */
  dbName: string;
  replicas: CoreProcess[];
  settings: FaultReport['settings'];
  /** Date.now() of the load's start and end, and of the fault's start and end. */
  loadStarted: number;
  loadEnd: number;
  faultAt: number;
  faultEnd: number;
  serverRestartMs?: number;
  pgRestartMs?: number;
  fleet: FleetAgent[];
  attempts: Attempt[];
  stored: StoredResult[];
  mostPerDevice: number;
  /** The history cap the cores ran with. */
  historyCap: number;
  counters: { final: CounterCheck; checks: number; mismatches: CounterCheck[]; unavailable: number };
  dashboards: DashboardReport[];
}

/** reportOf matches the acknowledged answers against the stored results, sums up the load and judges the run. */
export async function reportOf(rec: FaultRecords): Promise<FaultReport> {
  const { kind, fleet, attempts, faultAt, loadStarted } = rec;
  const acked: AcknowledgedResult[] = attempts
    .filter((a) => a.outcome === 'ack')
    .map((a) => ({ agentId: fleet[a.agent]!.agentId, source: a.source, sentAt: a.sentAt, answeredAt: a.answeredAt, result: a.result!, reason: a.reason }));
  const match = matchAcknowledged(acked, rec.stored);
  const report: FaultReport = {
    fault: kind,
    title: FAULT_TITLES[kind],
    database: rec.dbName,
    replicas: rec.replicas.length,
    settings: rec.settings,
    timeline: {
      loadMs: rec.loadEnd - loadStarted,
      faultAtMs: faultAt - loadStarted,
      faultActionMs: rec.faultEnd - faultAt,
      ...(rec.serverRestartMs !== undefined ? { serverRestartMs: Math.round(rec.serverRestartMs) } : {}),
      ...(rec.pgRestartMs !== undefined ? { pgRestartMs: Math.round(rec.pgRestartMs) } : {}),
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
    mostResultsPerDevice: rec.mostPerDevice,
    errors: countBy(attempts.filter((a) => a.outcome !== 'ack'), (a) => a.outcome),
    errorsBeforeFault: attempts.filter((a) => a.outcome !== 'ack' && a.answeredAt < faultAt).length,
    http503WithRetryAfter: attempts.filter((a) => a.httpStatus === 503 && a.retryAfter).length,
    unexpectedVerdicts: attempts.filter((a) => a.expected === false).length,
    unexpectedVerdictExamples: attempts
      .filter((a) => a.expected === false)
      .slice(0, 5)
      .map((a) => `${fleet[a.agent]!.agentId} (${fleet[a.agent]!.role}, round ${a.round}) ${a.source}: HTTP ${a.httpStatus} ${a.result} ${a.reason ?? ''}`.trim()),
    counters: { final: rec.counters.final, samples: { checks: rec.counters.checks, mismatches: rec.counters.mismatches.length, unavailable: rec.counters.unavailable } },
    dashboards: rec.dashboards,
    recovery: recoveryOf(attempts, faultAt),
    crashes: rec.replicas.filter((r) => r.crashed !== null).map((r) => ({ replica: r.name, how: r.crashed! })),
    serverLogErrors: await Promise.all(rec.replicas.map((r) => logErrors(r))),
    failures: [],
    defects: [],
  };
  judge(report, rec.counters.mismatches, rec.historyCap);
  return report;
}

/** judge fills failures (the run exits 1) and defects (reported; they fail only with --strict). */
function judge(r: FaultReport, mismatches: CounterCheck[], historyCap: number): void {
  for (const c of r.crashes) r.failures.push(`${c.replica} exited on its own during the run (${c.how})`);
  if (r.lost > 0) r.failures.push(`${r.lost} acknowledged result(s) not stored`);
  if (!r.counters.final.equal) {
    r.failures.push(`counters ${JSON.stringify(r.counters.final.counters)} differ from the recount ${JSON.stringify(r.counters.final.recount)}`);
  }
  if (mismatches.length > 0) {
    r.failures.push(`${mismatches.length} snapshot(s) during the load had counters unlike the recount, e.g. ${JSON.stringify(mismatches[0])}`);
  }
  if (r.mostResultsPerDevice >= historyCap) {
    r.failures.push(`a device reached the history cap (${historyCap}): results may have been pruned, the stored count is void (shorten the run or lengthen --interval)`);
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

/** perSecond counts the load's answers per second, second 0 being the one the fault began in. */
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

/** logErrors counts the ERROR lines a core logged, with a few distinct ones. */
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

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}
