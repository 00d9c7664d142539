import type { Db } from '../db/client.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../logger.js';
import type { MetricsSink } from '../metrics/sink.js';

/** ServiceDeps is what every service is built from. */
export interface ServiceDeps {
  db: Db;
  bus: EventBus;
  clock: () => Date;
  log: Logger;
  /** Where measurements go (src/metrics); none recorded when absent. */
  metrics?: MetricsSink;
}
