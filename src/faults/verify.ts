// What the fault run checks in the database: every acknowledged result stored, counters equal to a recount.
import type { Sql } from 'postgres';
import { withDatabase } from './database.js';

/** AcknowledgedResult is one report the core answered with a result body. */
export interface AcknowledgedResult {
  agentId: string;
  source: string;
  /** The window in which the core decided it: Date.now() before sending and after the answer. */
  sentAt: number;
  answeredAt: number;
  result: string;
  reason: string | null;
}

/** StoredResult is one row of connection_results. */
export interface StoredResult {
  agentId: string;
  id: number;
  at: number;
  source: string;
  result: string;
  reason: string | null;
}

export interface MatchOutcome {
  acknowledged: number;
  stored: number;
  /** Acknowledged results with no stored row of the same source and verdict inside their request's window. */
  lost: AcknowledgedResult[];
  /** Rows no acknowledged result accounts for: answers that never reached the agent (it asked again). */
  storedNotAcknowledged: number;
}

/**
 * matchAcknowledged pairs each acknowledged result with its own row: same device, same source and
 * verdict, recorded (the core's clock, `at`) between the moment the agent sent the request and the
 * moment it had the answer. An agent makes one request at a time, so its windows do not overlap and
 * a walk in time order pairs them; a count per device alone would let an extra row stored for an
 * unanswered retry hide a lost one. toleranceMs covers the millisecond rounding of both clocks.
 */
export function matchAcknowledged(acked: AcknowledgedResult[], stored: StoredResult[], toleranceMs = 2): MatchOutcome {
  const rowsByAgent = new Map<string, StoredResult[]>();
  for (const r of stored) {
    const list = rowsByAgent.get(r.agentId);
    if (list) list.push(r);
    else rowsByAgent.set(r.agentId, [r]);
  }
  const ackedByAgent = new Map<string, AcknowledgedResult[]>();
  for (const a of acked) {
    const list = ackedByAgent.get(a.agentId);
    if (list) list.push(a);
    else ackedByAgent.set(a.agentId, [a]);
  }
  const lost: AcknowledgedResult[] = [];
  let matched = 0;
  for (const [agentId, acks] of ackedByAgent) {
    const rows = (rowsByAgent.get(agentId) ?? []).sort((x, y) => x.at - y.at || x.id - y.id);
    acks.sort((x, y) => x.sentAt - y.sentAt);
    let next = 0;
    for (const a of acks) {
      while (next < rows.length && rows[next]!.at < a.sentAt - toleranceMs) next++;
      let found = -1;
      for (let k = next; k < rows.length && rows[k]!.at <= a.answeredAt + toleranceMs; k++) {
        const r = rows[k]!;
        if (r.source === a.source && r.result === a.result && r.reason === a.reason) {
          found = k;
          break;
        }
      }
      if (found === -1) {
        lost.push(a);
      } else {
        matched++;
        next = found + 1;
      }
    }
  }
  return { acknowledged: acked.length, stored: stored.length, lost, storedNotAcknowledged: stored.length - matched };
}

/**
 * readStoredResults reads the connection results of the devices whose agent ids start with prefix-
 * (verified ones only: an unverified attempt is kept for the admin, not recorded as a result).
 */
export async function readStoredResults(sql: Sql, prefix: string): Promise<StoredResult[]> {
  const rows = await sql<{ agent_id: string; id: string; at: Date; source: string; result: string; failure_reason: string | null }[]>`
    select d.agent_id, r.id, r.at, r.source, r.result, r.failure_reason
    from connection_results r join devices d on d.id = r.device_id
    where d.agent_id like ${`${prefix}-%`} and r.verified`;
  return rows.map((r) => ({
    agentId: r.agent_id,
    id: Number(r.id),
    at: r.at.getTime(),
    source: r.source,
    result: r.result,
    reason: r.failure_reason,
  }));
}

/** mostResultsOfOneDevice is the longest history among the run's devices (a cap reached would have pruned some). */
export async function mostResultsOfOneDevice(sql: Sql, prefix: string): Promise<number> {
  const [row] = await sql<{ n: string | null }[]>`
    select max(n) as n from (
      select count(*) as n from connection_results r join devices d on d.id = r.device_id
      where d.agent_id like ${`${prefix}-%`} group by r.device_id
    ) per_device`;
  return Number(row?.n ?? 0);
}

export type StatusCounts = Record<string, number>;

/** CounterCheck is the kept counters and a GROUP BY recount of the devices, read in one snapshot. */
export interface CounterCheck {
  counters: StatusCounts;
  recount: StatusCounts;
  equal: boolean;
}

/**
 * checkCounters reads auth_status_counters and recounts devices by status in one REPEATABLE READ
 * snapshot: the counters change in the same transactions as the statuses, so the two must agree
 * in any snapshot, also while agents are connecting.
 */
export async function checkCounters(sql: Sql): Promise<CounterCheck> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const counters = await tx<{ status: string; count: string }[]>`select status, count from auth_status_counters`;
    const recount = await tx<{ status: string; count: string }[]>`select auth_status as status, count(*) as count from devices group by auth_status`;
    const c = Object.fromEntries(counters.map((r) => [r.status, Number(r.count)]));
    const g = Object.fromEntries(recount.map((r) => [r.status, Number(r.count)]));
    const keys = new Set([...Object.keys(c), ...Object.keys(g)]);
    const equal = [...keys].every((k) => (c[k] ?? 0) === (g[k] ?? 0));
    return { counters: c, recount: g, equal };
  }) as Promise<CounterCheck>;
}

/** CounterSampler checks the counters against a recount every intervalMs while the load runs. */
export interface CounterSampler {
  stop(): Promise<{ checks: number; mismatches: CounterCheck[]; unavailable: number }>;
}

/** sampleCounters starts a CounterSampler; a check the database could not answer (it was restarting) counts as unavailable. */
export function sampleCounters(url: string, intervalMs: number): CounterSampler {
  let checks = 0;
  let unavailable = 0;
  const mismatches: CounterCheck[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    current = withDatabase(url, 10_000, checkCounters)
      .then((c) => {
        checks++;
        if (!c.equal) mismatches.push(c);
      })
      .catch(() => {
        unavailable++;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
      return { checks, mismatches, unavailable };
    },
  };
}
