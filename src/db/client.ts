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
  /** ping throws unless the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** notifications is LISTEN/NOTIFY on a PostgreSQL server (absent on the embedded database). */
  notifications?: Notifications;
}

/** Notifications carries small messages between the replicas that share one PostgreSQL server. */
export interface Notifications {
  notify(channel: string, payload: string): Promise<void>;
  /** listen calls onMessage for each notification; onListen after every (re)connection of the listener. */
  listen(channel: string, onMessage: (payload: string) => void, onListen: () => void): Promise<{ unlisten(): Promise<void> }>;
}

/** DatabaseUnavailableError means the database could not be opened or reached; its message is one line. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

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
}): Promise<Database> {
  const onQuery = opts.onQuery;
  const logger = onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined;
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 10, logger);
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
  max: number,
  logger: { logQuery(query: string): void } | undefined,
): Promise<Database> {
  const client = postgres(url, {
    max,
    connect_timeout: 10,
    onnotice: () => {},
    // Dates and bigints: drizzle maps them per column.
  });
  const db = drizzlePostgres({ client, schema, logger }) as unknown as Db;
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
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
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
      await client.end({ timeout: 5 });
    },
  };
}
