import { foldCertificateStatusLedger } from '../db/certificate-figures-queries.js';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/errors.js';
import { pruneHistoryOlderThan } from '../db/history-queries.js';
import { DAY_MS } from '../domain/time.js';
import type { ServiceDeps } from './deps.js';
import type { RevocationService } from './revocation-service.js';
import { retireCertificates } from './certificate-retirement.js';
import { transact } from './transaction.js';

const EXPIRY_BATCH = 1000;
/** Connection results deleted per statement by the age retention: one short transaction each. */
export const HISTORY_BATCH = 10_000;
/** The age retention counts in days: a walk every few minutes is plenty, whatever the sweep interval. */
export const HISTORY_PRUNE_EVERY_MS = 10 * 60_000;

/**
 * createMaintenanceService runs the periodic work: expired certificates, the CRL's freshness and
 * the connection history's age limit.
 */
export function createMaintenanceService(
  deps: ServiceDeps & { revocation: RevocationService; connectionHistoryDays: number },
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

  /** pruneHistory deletes the connection results older than the retention, each device's newest excepted. */
  async function pruneHistory(): Promise<number> {
    const now = deps.clock();
    const cutoff = new Date(now.getTime() - deps.connectionHistoryDays * DAY_MS);
    const deleted = await pruneHistoryOlderThan(deps.db, cutoff, HISTORY_BATCH);
    historyPrunedAt = now.getTime();
    return deleted;
  }

  /** runOnce does one round of maintenance; errors are logged, and the next round tries again. */
  async function runOnce(): Promise<void> {
    try {
      const expired = await expireCertificates();
      if (expired > 0) deps.log.info(`${expired} device(s) turned to Authentication failed: certificate expired`);
      await deps.revocation.refreshCrlIfDue();
      // The ledger of certificate statuses grows by a row or two per decision: folded each round, it stays a few rows.
      await foldCertificateStatusLedger(deps.db);
      if (historyPrunedAt === undefined || deps.clock().getTime() - historyPrunedAt >= HISTORY_PRUNE_EVERY_MS) {
        const pruned = await pruneHistory();
        if (pruned > 0) deps.log.info(`${pruned} connection result(s) older than ${deps.connectionHistoryDays} days deleted`);
      }
    } catch (err) {
      // The database away (a restart) is no fault of this code: one line, not a stack every round.
      if (isDatabaseUnavailable(err)) deps.log.warn('maintenance round skipped: the database is unavailable', describeDatabaseError(err));
      else deps.log.error('maintenance round failed', { error: err });
    }
  }

  return {
    expireCertificates,
    pruneHistory,
    runOnce,

    /** start runs a round every intervalMs until the returned stop is called. */
    start(intervalMs: number): () => Promise<void> {
      let running: Promise<void> = Promise.resolve();
      const timer = setInterval(() => {
        running = running.then(runOnce);
      }, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}
