import { expireSucceededDevices } from '../db/device-queries.js';
import type { ServiceDeps } from './deps.js';
import type { RevocationService } from './revocation-service.js';
import { countMovedDevices } from './status-moves.js';
import { transact } from './transaction.js';

const EXPIRY_BATCH = 1000;

/** createMaintenanceService runs the periodic work: expired certificates and the CRL's freshness. */
export function createMaintenanceService(deps: ServiceDeps & { revocation: RevocationService }) {
  /** expireCertificates turns devices whose certificate has run out to FAILED (CERTIFICATE_EXPIRED), counters kept right. */
  async function expireCertificates(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = deps.clock();
      const n = await transact(deps, async (tx, outbox) => {
        const expired = await expireSucceededDevices(tx, now, EXPIRY_BATCH);
        await countMovedDevices(tx, outbox, expired, 'AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED', now);
        return expired.length;
      });
      total += n;
      if (n < EXPIRY_BATCH) return total;
    }
  }

  /** runOnce does one round of maintenance; errors are logged, and the next round tries again. */
  async function runOnce(): Promise<void> {
    try {
      const expired = await expireCertificates();
      if (expired > 0) deps.log.info(`${expired} device(s) turned to Authentication failed: certificate expired`);
      await deps.revocation.refreshCrlIfDue();
    } catch (err) {
      deps.log.error('maintenance round failed', { error: err });
    }
  }

  return {
    expireCertificates,
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
