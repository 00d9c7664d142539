import { tmpdir } from 'node:os';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createInProcessEventBus, type AppEvent, type EventBus } from '../../src/events/bus.js';
import { createLogger } from '../../src/logger.js';
import type { ServiceDeps } from '../../src/services/deps.js';
import { freshDatabase } from './test-core.js';

export interface TestDb {
  database: Database;
  /** deps builds ServiceDeps on this database: a bus that records what it publishes, the given clock, a logger into logs. */
  deps(clock?: () => Date): ServiceDeps & { published: AppEvent[]; logs: string[] };
  close(): Promise<void>;
}

/**
 * openTestDb opens a migrated database of the test file's own, for service tests that need no
 * server: the run's PGlite snapshot, or a clone of the PostgreSQL template when DATABASE_URL is set.
 */
export async function openTestDb(): Promise<TestDb> {
  const fresh = await freshDatabase(false);
  const database = await openDatabase({ dataDir: tmpdir(), pglite: fresh.pglite, databaseUrl: fresh.databaseUrl, poolSize: 2 });
  return {
    database,
    deps(clock = () => new Date()) {
      const published: AppEvent[] = [];
      const logs: string[] = [];
      const inner = createInProcessEventBus(() => {});
      const bus: EventBus = {
        publish(e) {
          published.push(e);
          inner.publish(e);
        },
        subscribe: (l) => inner.subscribe(l),
        close: () => inner.close(),
      };
      return { db: database.db, bus, clock, log: createLogger('debug', (l) => logs.push(l)), published, logs };
    },
    async close() {
      await database.close();
      await fresh.drop();
    },
  };
}
