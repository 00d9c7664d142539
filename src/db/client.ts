import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql } from 'drizzle-orm';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { redactUrl } from '../config.js';
import type { Notifications } from '../events/postgres-bus.js';
import { DatabaseUnavailableError } from './errors.js';
import { withPipelinedTransactions } from './pipelined-transactions.js';
import * as schema from './schema.js';

type Schema = typeof schema;
/** Db is either driver behind one type, so every query function has a single code path. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** DbExecutor lets a query function run on the pool or inside a caller's transaction. */
export type DbExecutor = Db | Tx;

export interface Database {
  db: Db;
  kind: 'embedded' | 'postgres';
  /** ping throws unless the database answers (on a PostgreSQL server, within PING_TIMEOUT_MS). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** notifications is LISTEN/NOTIFY on a PostgreSQL server (absent on the embedded database). */
  notifications?: Notifications;
}

export { DatabaseUnavailableError };

/**
 * PING_TIMEOUT_MS bounds a health ping to a PostgreSQL server: one that does not answer within it
 * is reported away at once, instead of holding the health check for as long as a connect takes.
 */
export const PING_TIMEOUT_MS = 1000;

/** PGLITE_EXTENSIONS are loaded into every embedded instance (the migrations need them). */
export const PGLITE_EXTENSIONS = { pg_trgm };

/** openDatabase opens the embedded database in dataDir, or the PostgreSQL server at databaseUrl. */
export async function openDatabase(opts: {
  dataDir: string;
  databaseUrl?: string;
  /** An already open embedded instance (tests start from a migrated snapshot). */
  pglite?: PGlite;
  poolSize?: number;
  /** onQuery sees the SQL text of every query (tests count round trips with it); never the parameters. */
  onQuery?: (sql: string) => void;
  /**
   * statementTimeoutMs makes a PostgreSQL server cancel any statement of the pool that runs longer
   * (0 or absent: no limit). The embedded database does not honour statement_timeout.
   */
  statementTimeoutMs?: number;
}): Promise<Database> {
  const onQuery = opts.onQuery;
  const logger = onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined;
  if (opts.databaseUrl) {
    return openPostgres(opts.databaseUrl, { max: opts.poolSize ?? 10, statementTimeoutMs: opts.statementTimeoutMs ?? 0 }, logger);
  }
  let client = opts.pglite;
  if (!client) {
    const dir = join(opts.dataDir, 'pgdata');
    try {
      mkdirSync(dir, { recursive: true });
      client = await PGlite.create(dir, { extensions: PGLITE_EXTENSIONS });
    } catch (err) {
      throw new DatabaseUnavailableError(
        `cannot open the embedded database in ${dir}: ${(err as Error).message} (is another certfleet process using DATA_DIR?)`,
      );
    }
  }
  const pglite = client;
  const db = drizzlePglite({ client: pglite, schema, logger }) as unknown as Db;
  return {
    db,
    kind: 'embedded',
    ping: async () => {
      await pglite.query('select 1');
    },
    close: async () => {
      if (!pglite.closed) await pglite.close();
    },
  };
}

async function openPostgres(
  url: string,
  pool: { max: number; statementTimeoutMs: number },
  logger: { logQuery(query: string): void } | undefined,
): Promise<Database> {
  const client = postgres(url, {
    max: pool.max,
    connect_timeout: 10,
    onnotice: () => {},
    // Set at connect, so it holds for every statement of every pooled connection; a transaction
    // that needs longer (the migrations) raises it for itself with SET LOCAL.
    ...(pool.statementTimeoutMs > 0 ? { connection: { statement_timeout: pool.statementTimeoutMs } } : {}),
    backoff: reconnectDelaySeconds,
    // Dates and bigints: drizzle maps them per column.
  });
  // Transactions send BEGIN with their first statement, and may send COMMIT with their last.
  const db = drizzlePostgres({ client: withPipelinedTransactions(client), schema, logger }) as unknown as Db;
  try {
    await db.execute(sql`select 1`);
  } catch (err) {
    await client.end({ timeout: 1 }).catch(() => {});
    // Drizzle wraps the driver's error ("Failed query: …"); the reason is on its cause.
    const e = ((err as Error).cause ?? err) as NodeJS.ErrnoException;
    const text = String(e.message || e.code || e).split('\n')[0];
    const why = e.code && !text.includes(e.code) ? `${e.code}: ${text}` : text;
    throw new DatabaseUnavailableError(`cannot reach the database at ${redactUrl(url)}: ${why}`);
  }
  // The health check has a connection of its own: a pool busy with heavy reads or a burst of
  // agents must not make a healthy database look away (its ping would wait for a free connection).
  const health = postgres(url, {
    max: 1,
    connect_timeout: Math.ceil(PING_TIMEOUT_MS / 1000),
    onnotice: () => {},
    connection: { statement_timeout: PING_TIMEOUT_MS },
  });
  return {
    db,
    kind: 'postgres',
    ping: () => withinTimeout(health`select 1`, PING_TIMEOUT_MS, 'the database did not answer the health ping'),
    notifications: {
      notify: async (channel, payload) => {
        await client.notify(channel, payload);
      },
      // postgres.js keeps one dedicated listening connection and re-listens after it is lost.
      listen: async (channel, onMessage, onListen) => {
        const { unlisten } = await client.listen(channel, onMessage, onListen);
        return { unlisten: async () => unlisten() };
      },
    },
    close: async () => {
      await health.end({ timeout: 1 });
      await client.end({ timeout: 5 });
    },
  };
}

// Settles with work, or fails once ms have passed. When the event loop was blocked past the
// deadline, the timer and an answer that already arrived are due together: the verdict waits for
// setImmediate, which runs after pending I/O, so an answer that came in time is not called late.
async function withinTimeout(work: Promise<unknown>, ms: number, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => setImmediate(() => reject(new DatabaseUnavailableError(message))), ms);
  });
  try {
    await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * reconnectDelaySeconds is how long a pooled connection (the event listener's too) waits before
 * connecting again after an error. The driver's own grows to 20 s after a few failures, which a
 * database restart's burst of errors reaches at once: dashboards then heard no event for 16 s after
 * the database was back (RELIABILITY.md). At most 2 s, with jitter, is gentle enough for one
 * server's pool.
 */
export function reconnectDelaySeconds(failuresInARow: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** Math.min(failuresInARow, 6), 2);
}
