import type postgres from 'postgres';

/**
 * withPipelinedTransactions gives drizzle a postgres.js client whose transactions cost two round
 * trips fewer than postgres.js's own `begin`.
 *
 * postgres.js's `begin` sends BEGIN and waits for it before the transaction's first statement, and
 * sends COMMIT only once the callback has resolved: two round trips that carry no work. Here BEGIN
 * goes out in the same write as the transaction's first statement, and a transaction whose last
 * statements are known can send its COMMIT right behind them (commitWithLastStatements): one
 * write, one wait. Every statement of a transaction is handed to the connection in the order it
 * was issued (each one at once, so later microtasks cannot reorder them), the COMMIT after all
 * of those issued in the same turn of the event loop.
 *
 * What it keeps: the transaction holds one connection (reserved from the pool) from BEGIN to
 * COMMIT or ROLLBACK; a statement that fails makes the server ignore the rest until the end, so a
 * COMMIT pipelined behind a failed statement ends the transaction as a rollback (the server answers
 * it with ROLLBACK, which is turned into an error here); a callback that fails is rolled back. A
 * transaction that never sent a statement sends nothing at all.
 */
export function withPipelinedTransactions(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'begin') return (a: unknown, b?: unknown) => begin(target, a, b);
      return Reflect.get(target, prop, receiver);
    },
  });
}

/** The property of a transaction's client that sends its COMMIT now (see commitWithLastStatements). */
const COMMIT_NOW = Symbol('certfleet.commitNow');

/**
 * CommittedAfterError: a transaction's COMMIT had gone through when its callback failed. What it
 * wrote is on disk: the caller must not write it again (no retry), only report the failure.
 */
export class CommittedAfterError extends Error {
  // Not `cause`: what retries a transaction looks for a retryable SQLSTATE along the causes, and this one must not be retried.
  constructor(readonly failure: unknown) {
    super(`the transaction committed, then its callback failed: ${(failure as Error)?.message ?? String(failure)}`);
    this.name = 'CommittedAfterError';
  }
}

type Pending = postgres.PendingQuery<postgres.Row[]>;

async function begin(client: postgres.Sql, a: unknown, b: unknown): Promise<unknown> {
  const fn = (typeof a === 'function' ? a : b) as (sql: postgres.TransactionSql) => unknown;
  const mode = typeof a === 'string' ? a.replace(/[^a-z ]/gi, '') : '';
  const conn = await client.reserve();
  let begun: Pending | null = null;
  // The COMMIT asked for (commitWithLastStatements), and whether it has been handed to the connection.
  let commit: Promise<postgres.RowList<postgres.Row[]>> | null = null;
  let commitSent = false;
  // The first error of a statement of the transaction: what a COMMIT that ended as a rollback reports.
  let firstError: unknown;
  // The callback has failed: a COMMIT asked for and not yet sent goes out as a ROLLBACK.
  let callbackFailed = false;
  const start = () => {
    if (begun) return;
    begun = conn.unsafe(`begin ${mode}`.trim()) as Pending;
    begun.execute();
    // Its failure (the connection lost) reaches the caller through the statement behind it.
    begun.catch(() => {});
  };
  const issue = <Q extends Pending>(q: Q): Q => {
    if (commitSent) throw new Error('a statement was issued after the transaction sent its COMMIT');
    q.execute();
    q.catch((e: unknown) => {
      firstError ??= e;
    });
    return q;
  };
  const tx = new Proxy(conn, {
    apply(target, self, args) {
      start();
      return issue(Reflect.apply(target as unknown as (...x: unknown[]) => Pending, self, args));
    },
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        return (text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
          start();
          return issue(target.unsafe(text, params as postgres.ParameterOrJSON<never>[], options) as unknown as Pending);
        };
      }
      if (prop === COMMIT_NOW) {
        return () => {
          if (!commit) {
            start();
            // Handed over on the next turn of the event loop, after the statements issued with it:
            // drizzle hands some of them to the driver only in a later microtask. postgres.js
            // writes on that turn too (its write is scheduled after this one), so they and the
            // COMMIT still leave in one write.
            // A callback that failed meanwhile (one of those statements' issuers threw before its
            // statement was sent, say) gets a ROLLBACK instead.
            commit = new Promise((resolve) =>
              setImmediate(() => {
                commitSent = true;
                resolve((conn.unsafe(callbackFailed ? 'rollback' : 'commit') as Pending).execute());
              }),
            );
            commit.catch(() => {});
          }
          return commit.then((r) => {
            if (String(r.command ?? '').toUpperCase() !== 'COMMIT') throw firstError ?? new Error(`COMMIT ended the transaction with ${r.command || 'nothing'}`);
          });
        };
      }
      if (prop === 'savepoint' || prop === 'begin' || prop === 'reserve' || prop === 'file') {
        return () => {
          throw new Error(`${String(prop)} is not available inside a certfleet transaction`);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });

  let committed = false;
  try {
    let result: unknown;
    try {
      result = await fn(tx as unknown as postgres.TransactionSql);
    } catch (err) {
      callbackFailed = true;
      // A COMMIT already sent decides what happened: the callback's failure may come after it.
      if (commit && (await endedWith(commit)) === 'COMMIT') {
        committed = true;
        throw new CommittedAfterError(err);
      }
      throw err;
    }
    if (begun) {
      const ended = await endedWith(commit ?? (conn.unsafe('commit') as Pending), true);
      if (ended !== 'COMMIT') throw firstError ?? new Error(`COMMIT ended the transaction with ${ended || 'nothing'}`);
    }
    committed = true;
    return result;
  } catch (err) {
    if (begun && !committed && !commit) await conn.unsafe('rollback').catch(() => {});
    throw err;
  } finally {
    conn.release();
  }
}

/** endedWith is the command a COMMIT ended with ('COMMIT', or 'ROLLBACK' after a failed statement); with rethrow, its error is thrown. */
async function endedWith(commit: PromiseLike<postgres.RowList<postgres.Row[]>>, rethrow = false): Promise<string> {
  try {
    return String((await commit).command ?? '').toUpperCase();
  } catch (err) {
    if (rethrow) throw err;
    return 'ERROR';
  }
}

/**
 * commitWithLastStatements sends the transaction's COMMIT now, behind the statements it has issued
 * (on PostgreSQL, in the same write as the last of them); it resolves once the COMMIT is answered
 * and rejects if it did not commit (with the error of the statement that failed, when one did). The
 * transaction must issue nothing after it. On the embedded
 * database there is nothing to pipeline with: this resolves at once, and the transaction commits
 * as usual when its callback returns.
 */
export async function commitWithLastStatements(tx: object): Promise<void> {
  // The transaction's driver client: drizzle keeps it on the transaction's session (not public API;
  // a drizzle upgrade that moves it makes this a no-op, and test/integration/group-commit.test.ts
  // notices the round trip come back).
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  const now = (client as { [COMMIT_NOW]?: () => Promise<void> } | null | undefined)?.[COMMIT_NOW];
  // A COMMIT that ended as a rollback rejects with the error of the statement that failed (its SQLSTATE decides a retry).
  if (typeof now === 'function') await now();
}
