import type { DbExecutor } from '../db/client.js';
import { adjustCounters } from '../db/counter-queries.js';
import type { AuthStatus } from '../domain/statuses.js';
import type { Outbox } from './transaction.js';

/**
 * countMovedDevices keeps the chart right for devices a bulk update moved from one status to
 * another in this transaction, and announces each move once it commits.
 */
export async function countMovedDevices(
  tx: DbExecutor,
  outbox: Outbox,
  moved: { id: number }[],
  from: AuthStatus,
  to: AuthStatus,
  at: Date,
): Promise<void> {
  if (moved.length === 0) return;
  await adjustCounters(tx, { [from]: -moved.length, [to]: moved.length });
  outbox.publish({ type: 'summaryChanged' });
  for (const d of moved) {
    outbox.publish({ type: 'deviceAuthStatusChanged', deviceId: d.id, previous: from, current: to, at: at.toISOString() });
  }
}
