import { insertAuditEvent } from '../db/audit-queries.js';
import { adjustCounters } from '../db/counter-queries.js';
import { insertCoreDevice } from '../db/device-queries.js';
import { setCoreDeviceId } from '../db/settings-queries.js';
import type { ServiceDeps } from './deps.js';
import { transact } from './transaction.js';

/** ensureCoreDevice registers the core server as a device on first start, and only then. */
export async function ensureCoreDevice(deps: ServiceDeps, coreName: string): Promise<{ deviceId: number; created: boolean }> {
  const now = deps.clock();
  return transact(deps, async (tx, outbox) => {
    const { row, inserted } = await insertCoreDevice(tx, coreName.slice(0, 255), now);
    if (inserted) {
      await adjustCounters(tx, { NO_AUTHENTICATION_INFO: 1 });
      await setCoreDeviceId(tx, row.id);
      await insertAuditEvent(tx, {
        actor: 'system',
        action: 'core.registered',
        targetId: String(row.id),
        details: { name: row.name },
        at: now,
      });
      outbox.publish({ type: 'summaryChanged' });
    }
    return { deviceId: row.id, created: inserted };
  });
}
