import type { Db, Tx } from '../db/client.js';
import type { AppEvent, EventBus } from '../events/bus.js';
import { noMetrics, type MetricsSink } from '../metrics/sink.js';

/** Outbox collects the events and measurements of a transaction; they go out only once it commits. */
export interface Outbox {
  publish(event: AppEvent): void;
  /** count records into the metrics after the commit, so a rolled-back or retried attempt counts nothing. */
  count(record: (metrics: MetricsSink) => void): void;
  /** afterCommit runs fn once the transaction commits (never for a rolled-back or retried attempt); fn must not throw. */
  afterCommit(fn: () => void): void;
}

// PostgreSQL may abort a transaction that did nothing wrong (deadlock, serialization failure); it is safe to run again.
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/**
 * transact runs fn in one transaction and publishes its events after the commit, never before.
 * A transaction the database aborted for a deadlock or serialization failure is run again.
 */
export async function transact<T>(
  deps: { db: Db; bus: EventBus; metrics?: MetricsSink },
  fn: (tx: Tx, outbox: Outbox) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const events: AppEvent[] = [];
    const counts: ((metrics: MetricsSink) => void)[] = [];
    const after: (() => void)[] = [];
    try {
      const result = await deps.db.transaction((tx) =>
        fn(tx, { publish: (e) => events.push(e), count: (record) => counts.push(record), afterCommit: (f) => after.push(f) }),
      );
      for (const e of events) deps.bus.publish(e);
      const metrics = deps.metrics ?? noMetrics;
      for (const record of counts) record(metrics);
      for (const f of after) f();
      return result;
    } catch (err) {
      const state = sqlState(err);
      if (attempt >= ATTEMPTS || state === undefined || !RETRYABLE.has(state)) throw err;
    }
  }
}
