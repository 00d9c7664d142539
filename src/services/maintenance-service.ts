import { foldCertificateStatusLedger } from '../db/certificate-figures-queries.js';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/errors.js';
import { sql } from 'drizzle-orm';
import {
  dropHistoryBefore,
  historyPartitionDays,
  HISTORY_PARTITIONS_AHEAD_DAYS,
  prepareHistoryPartitions,
} from '../db/history-queries.js';
import { rowsOf } from '../db/rows.js';
import { DAY_MS } from '../domain/time.js';
import type { ServiceDeps } from './deps.js';
import type { RevocationService } from './revocation-service.js';
import { retireCertificates } from './certificate-retirement.js';
import { transact } from './transaction.js';

const EXPIRY_BATCH = 1000;
/** The age retention counts in days: its partitions are looked at every few minutes, whatever the sweep interval. */
export const HISTORY_PRUNE_EVERY_MS = 10 * 60_000;
/** MAINTENANCE_LOCK is the advisory lock key (any constant) of a maintenance round: one replica at a time runs one. */
export const MAINTENANCE_LOCK = 0x63_66_6d_74;
/**
 * Creating or dropping a partition locks the history table for a moment; behind a long reader it
 * gives up after this long (the next round tries again) rather than queue every writer behind it.
 */
const PARTITION_LOCK_TIMEOUT = '2s';

/**
 * createMaintenanceService runs the periodic work: expired certificates, the CRL's freshness and
 * the connection history's age limit.
 */
export function createMaintenanceService(
  deps: ServiceDeps & {
    revocation: RevocationService;
    connectionHistoryDays: number;
    /** On a PostgreSQL server replicas take turns (an advisory lock); the embedded database has one process. */
    databaseKind?: 'embedded' | 'postgres';
  },
) {
  let historyPrunedAt: number | undefined;

  /**
   * expireCertificates turns devices whose certificate has run out to FAILED (CERTIFICATE_EXPIRED)
   * through retireCertificates, as revocation does, in batches of short transactions.
   */
  async function expireCertificates(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = deps.clock();
      const n = await transact(deps, async (tx, outbox) => {
        const { failedDeviceIds } = await retireCertificates(tx, outbox, deps.revocation, { kind: 'expire', limit: EXPIRY_BATCH }, now);
        return failedDeviceIds.length;
      });
      total += n;
      if (n < EXPIRY_BATCH) return total;
    }
  }

  /**
   * pruneHistory keeps the connection history's partitions ready a few days ahead and drops those
   * older than the retention (whole partitions: the cost follows their number, not their rows).
   */
  async function pruneHistory(): Promise<{ created: number; dropped: number; defaultRows: number }> {
    const now = deps.clock();
    const cutoff = new Date(now.getTime() - deps.connectionHistoryDays * DAY_MS);
    const outcome = await deps.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local lock_timeout = '${PARTITION_LOCK_TIMEOUT}'`));
      const created = await prepareHistoryPartitions(
        tx,
        now,
        new Date(now.getTime() + HISTORY_PARTITIONS_AHEAD_DAYS * DAY_MS),
        historyPartitionDays(deps.connectionHistoryDays),
      );
      const { partitions, defaultRows } = await dropHistoryBefore(tx, cutoff);
      return { created, dropped: partitions, defaultRows };
    });
    historyPrunedAt = now.getTime();
    return outcome;
  }

  /** round does one round of maintenance; errors are logged, and the next round tries again. */
  async function round(): Promise<void> {
    try {
      const expired = await expireCertificates();
      if (expired > 0) deps.log.info(`${expired} device(s) turned to Authentication failed: certificate expired`);
      await deps.revocation.refreshCrlIfDue();
      // The ledger of certificate statuses grows by a row or two per decision: folded each round, it stays a few rows.
      await foldCertificateStatusLedger(deps.db);
      if (historyPrunedAt === undefined || deps.clock().getTime() - historyPrunedAt >= HISTORY_PRUNE_EVERY_MS) {
        const { dropped, defaultRows } = await pruneHistory();
        if (dropped > 0 || defaultRows > 0) {
          deps.log.info(
            `connection history older than ${deps.connectionHistoryDays} days deleted: ${dropped} partition(s) dropped, ${defaultRows} result(s) from the default partition`,
          );
        }
      }
    } catch (err) {
      // The database away (a restart) is no fault of this code: one line, not a stack every round.
      if (isDatabaseUnavailable(err)) deps.log.warn('maintenance round skipped: the database is unavailable', describeDatabaseError(err));
      else deps.log.error('maintenance round failed', { error: err });
    }
  }

  /**
   * runOnce does one round of maintenance, unless another replica is doing one: on a PostgreSQL
   * server the round runs under a transaction-level advisory lock taken with pg_try_advisory_xact_lock
   * on a connection of its own, which stays idle in its transaction (no snapshot, no transaction id)
   * while the round's short transactions run on the others, and lets go at its end or if its
   * connection drops. Returns false when it skipped the round because the lock was taken.
   */
  async function runOnce(): Promise<boolean> {
    if (deps.databaseKind !== 'postgres') {
      await round();
      return true;
    }
    let ran = false;
    try {
      await deps.db.transaction(async (tx) => {
        const [lock] = rowsOf<{ taken: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${MAINTENANCE_LOCK}) as taken`));
        if (!lock?.taken) return;
        ran = true;
        await round();
      });
    } catch (err) {
      if (isDatabaseUnavailable(err)) deps.log.warn('maintenance round skipped: the database is unavailable', describeDatabaseError(err));
      else deps.log.error('maintenance round failed', { error: err });
    }
    return ran;
  }

  return {
    expireCertificates,
    pruneHistory,
    runOnce,

    /** start runs a round every intervalMs until the returned stop is called. */
    start(intervalMs: number): () => Promise<void> {
      let running: Promise<void> = Promise.resolve();
      const timer = setInterval(() => {
        running = running.then(async () => {
          await runOnce();
        });
      }, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}
