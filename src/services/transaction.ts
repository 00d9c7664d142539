import type { Db, Tx } from '../db/client.js';
import type { AppEvent, EventBus } from '../events/bus.js';

/** Outbox collects the events of a transaction; they are published only once it commits. */
export interface Outbox {
  publish(event: AppEvent): void;
}

/** transact runs fn in one transaction and publishes its events after the commit, never before. */
export async function transact<T>(
  deps: { db: Db; bus: EventBus },
  fn: (tx: Tx, outbox: Outbox) => Promise<T>,
): Promise<T> {
  const events: AppEvent[] = [];
  const result = await deps.db.transaction((tx) => fn(tx, { publish: (e) => events.push(e) }));
  for (const e of events) deps.bus.publish(e);
  return result;
}
