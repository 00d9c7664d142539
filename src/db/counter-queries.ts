import { eq, sql, type SQL } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { authStatusCounters, coreSettings } from './schema.js';
import { AUTH_STATUSES, type AuthStatus } from '../domain/statuses.js';

export type StatusCounts = Record<AuthStatus, number>;

/** emptyCounts is a zero for every status. */
export function emptyCounts(): StatusCounts {
  return Object.fromEntries(AUTH_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/** getCountersAndSwitch reads the kept counters and the security switch in one round trip. */
export async function getCountersAndSwitch(
  db: DbExecutor,
): Promise<{ counts: StatusCounts; securityEnabled: boolean }> {
  const rows = await db
    .select({
      status: authStatusCounters.status,
      count: authStatusCounters.count,
      enabled: coreSettings.clientCertificateSecurityEnabled,
    })
    .from(authStatusCounters)
    .innerJoin(coreSettings, eq(coreSettings.id, 1));
  const counts = emptyCounts();
  for (const r of rows) counts[r.status] = Number(r.count);
  return { counts, securityEnabled: rows[0]?.enabled ?? false };
}

/**
 * adjustCounters adds deltas to the kept counters in one statement. Two transactions moving
 * devices between the same statuses cannot deadlock: the inner `for update` locks the rows one
 * by one in status order (byte order, whatever the database's collation), and the update can only
 * reach a row the inner select has handed on, so already locked; every writer of the counters
 * takes them in that order (the bulk seed's check too).
 */
export async function adjustCounters(tx: DbExecutor, deltas: Partial<StatusCounts>): Promise<void> {
  const statement = counterAdjustment(deltas);
  if (statement) await tx.execute(statement);
}

/**
 * counterAdjustment is adjustCounters' statement, for a caller that runs it as a WITH part of
 * another statement (the same locking order holds there); undefined when nothing moves.
 */
export function counterAdjustment(deltas: Partial<StatusCounts>): SQL | undefined {
  const moved = [...AUTH_STATUSES].sort().filter((s) => (deltas[s] ?? 0) !== 0);
  if (moved.length === 0) return undefined;
  for (const s of moved) {
    if (!Number.isSafeInteger(deltas[s])) throw new RangeError(`not a counter change: ${deltas[s]} for ${s}`);
  }
  const statuses = `{${moved.join(',')}}`;
  const amounts = `{${moved.map((s) => deltas[s]).join(',')}}`;
  return sql`
    update auth_status_counters c set count = c.count + d.delta
    from (
      select l.status, v.delta
      from (
        select status from auth_status_counters
        where status = any(${statuses}::text[])
        order by status collate "C"
        for update
      ) l
      join unnest(${statuses}::text[], ${amounts}::bigint[]) as v(status, delta) on v.status = l.status
    ) d
    where c.status = d.status`;
}
