import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbExecutor } from './client.js';
import { rowsOf } from './rows.js';

/**
 * executePrepared runs a constant SQL text ($1, $2, … placeholders) as a named prepared statement and
 * returns its rows as the driver gives them (column names as in the SQL, values as the driver parses them).
 *
 * Why: drizzle runs its own queries unnamed, and for an unnamed statement with parameters
 * postgres.js first sends Parse/Describe and waits for the parameter types before it binds: two round
 * trips and a parse and plan on the server every time. A named statement is parsed once per pooled
 * connection and then costs one Bind/Execute. PGlite runs the same text as any query.
 *
 * The text must be a constant of the caller (never built from values): each distinct text becomes a
 * statement kept on every connection of the pool. Values travel only as parameters.
 */
export async function executePrepared<T>(db: DbExecutor, text: string, params: unknown[]): Promise<T[]> {
  // The session of the pool, or of the caller's transaction (its reserved connection).
  const query = db._.session.prepareQuery({ sql: text, params }, undefined, 'certfleet', false);
  return rowsOf<T>(await query.execute());
}

const dialect = new PgDialect();

/**
 * executePreparedSql is executePrepared for a drizzle `sql` template whose shape is constant (only
 * its `${values}` vary, never the SQL pieces around them): its text is the same on every call.
 */
export async function executePreparedSql<T>(db: DbExecutor, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return executePrepared<T>(db, text, params);
}

/**
 * executeNow sends a constant statement without parameters (a SET, say) at once, so that statements
 * sent after it in the same turn follow it on the wire (drizzle's own execute sends it a few
 * microtasks later). Without parameters it needs no description first: it pipelines with them.
 */
export async function executeNow(db: DbExecutor, text: string): Promise<void> {
  await db._.session.prepareQuery({ sql: text, params: [] }, undefined, undefined, false).execute();
}
