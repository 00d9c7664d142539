import { eq, sql } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { AUTH_STATUSES, authStatusCounters, coreSettings, type AuthStatus } from './schema.js';

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
 * adjustCounters adds deltas to the kept counters. Rows are updated one at a time in a fixed
 * order, so two transactions moving devices between the same statuses cannot deadlock.
 */
export async function adjustCounters(tx: DbExecutor, deltas: Partial<StatusCounts>): Promise<void> {
  for (const status of [...AUTH_STATUSES].sort()) {
    const delta = deltas[status] ?? 0;
    if (delta === 0) continue;
    await tx
      .update(authStatusCounters)
      .set({ count: sql`${authStatusCounters.count} + ${delta}` })
      .where(eq(authStatusCounters.status, status));
  }
}
