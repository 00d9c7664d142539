import postgres, { type Sql } from 'postgres';

/**
 * withDatabase runs fn on a connection of its own, opened for it and closed after, and gives up
 * after timeoutMs. A client kept across a PostgreSQL restart can be left with a connection whose
 * writes are never flushed (postgres.js 3.4.9, see RELIABILITY.md), and its queries then wait
 * forever: a check must fail, not hang the run.
 */
export async function withDatabase<T>(url: string, timeoutMs: number, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, connect_timeout: Math.max(1, Math.ceil(timeoutMs / 1000)), onnotice: () => {}, idle_timeout: 1 });
  let timer: NodeJS.Timeout | undefined;
  const work = fn(sql);
  // After a timeout, closing the client below rejects the query still waiting: nobody awaits it any more.
  work.catch(() => {});
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the database did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}
