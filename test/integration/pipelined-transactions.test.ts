import { connect, type Socket } from 'node:net';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { commitWithLastStatements, CommittedAfterError, withPipelinedTransactions } from '../../src/db/pipelined-transactions.js';
import { rowsOf } from '../../src/db/rows.js';
import * as schema from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { createInProcessEventBus } from '../../src/events/bus.js';
import { createConnectionService } from '../../src/services/connection-service.js';
import { pruneDeviceHistory } from '../../src/db/history-queries.js';
import { factsFor } from '../support/seed.js';
import { databaseKind, freshDatabase } from '../support/test-core.js';

/**
 * Transactions on a PostgreSQL server send BEGIN with their first statement and may send COMMIT
 * with their last (src/db/pipelined-transactions.ts). The client's socket counts its writes:
 * postgres.js writes what was handed to it in one turn as one, so writes are round trips.
 */
describe.skipIf(databaseKind() !== 'postgres')('pipelined transactions (PostgreSQL)', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let client: postgres.Sql;
  let db: Db;
  let writes = 0;

  beforeAll(async () => {
    fresh = await freshDatabase(false);
    const url = new URL(fresh.databaseUrl!);
    // `socket` (a connected socket of our own) is an option of postgres.js that its types leave out.
    client = postgres(fresh.databaseUrl!, {
      max: 2,
      onnotice: () => {},
      socket: () =>
        new Promise<Socket>((ok, fail) => {
          const s = connect({ host: url.hostname, port: Number(url.port || 5432) });
          const write = s.write.bind(s) as (...a: unknown[]) => boolean;
          s.write = ((...a: unknown[]) => {
            writes++;
            return write(...a);
          }) as typeof s.write;
          s.once('connect', () => ok(s));
          s.once('error', fail);
        }),
    } as postgres.Options<{}>);
    db = drizzle({ client: withPipelinedTransactions(client), schema }) as unknown as Db;
    await db.execute(sql`create table pipe_t (id int primary key, v text not null)`);
  });
  afterAll(async () => {
    await client?.end({ timeout: 1 });
    await fresh?.drop();
  });

  const rows = async () => rowsOf<{ id: number; v: string }>(await db.execute(sql`select id, v from pipe_t order by id`));
  /** counted runs fn and says how many writes it made. */
  const counted = async <T>(fn: () => Promise<T>): Promise<{ result: T; writes: number }> => {
    await db.execute(sql`select 1`); // a connection is open: no startup messages counted
    const before = writes;
    const result = await fn();
    return { result, writes: writes - before };
  };

  it('sends BEGIN with the first statement: a one-statement transaction makes two writes, not three, and commits', async () => {
    const { writes: n } = await counted(() => db.transaction(async (tx) => tx.execute(sql`insert into pipe_t values (1, 'one')`)));
    expect(n).toBe(2);
    expect(await rows()).toEqual([{ id: 1, v: 'one' }]);
  });

  it('sends COMMIT with the last statements when asked: the whole transaction is one write', async () => {
    const { writes: n } = await counted(() =>
      db.transaction(async (tx) => {
        await Promise.all([
          tx.execute(sql`insert into pipe_t values (2, 'two')`),
          tx.execute(sql`update pipe_t set v = 'uno' where id = 1`),
          commitWithLastStatements(tx),
        ]);
      }),
    );
    expect(n).toBe(1);
    expect(await rows()).toEqual([
      { id: 1, v: 'uno' },
      { id: 2, v: 'two' },
    ]);
  });

  it('a statement that fails before a pipelined COMMIT: its error is thrown, nothing of the transaction stays, the connection is clean', async () => {
    const before = await rows();
    const err = await db
      .transaction(async (tx) => {
        await Promise.all([
          tx.execute(sql`insert into pipe_t values (3, 'three')`),
          tx.execute(sql`insert into pipe_t values (1, 'duplicate')`),
          commitWithLastStatements(tx),
        ]);
      })
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(CommittedAfterError);
    // The statement's own error (drizzle's, or the driver's under it), with its SQLSTATE: a retry looks for that.
    const pgError = ((err as Error).cause ?? err) as { code?: string; message?: string };
    expect(pgError.code).toBe('23505');
    expect(pgError.message).toMatch(/duplicate key value violates unique constraint "pipe_t_pkey"/);
    expect(await rows()).toEqual(before);
    // Both pooled connections still work (neither is left inside an aborted transaction).
    await Promise.all([db.transaction(async (tx) => tx.execute(sql`select 1`)), db.transaction(async (tx) => tx.execute(sql`select 2`))]);
    expect(await rows()).toEqual(before);
  });

  it('a callback that fails without a pipelined COMMIT is rolled back', async () => {
    const before = await rows();
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into pipe_t values (4, 'four')`);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await rows()).toEqual(before);
  });

  it('a callback that fails after its COMMIT went through says so (CommittedAfterError), and what it wrote stays', async () => {
    const err = await db
      .transaction(async (tx) => {
        await Promise.all([tx.execute(sql`insert into pipe_t values (5, 'five')`), commitWithLastStatements(tx)]);
        throw new Error('after the commit');
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommittedAfterError);
    expect((err as CommittedAfterError).failure).toEqual(new Error('after the commit'));
    // No SQLSTATE along its causes: nothing retries it.
    expect((err as { cause?: unknown }).cause).toBeUndefined();
    expect((await rows()).map((r) => r.id)).toContain(5);
  });

  it('refuses a statement issued after the COMMIT went out, and a transaction that sends nothing writes nothing', async () => {
    const before = await rows();
    const err = await db
      .transaction(async (tx) => {
        await commitWithLastStatements(tx);
        await tx.execute(sql`insert into pipe_t values (6, 'six')`);
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommittedAfterError);
    expect(String(((err as CommittedAfterError).failure as Error).cause)).toMatch(/after the transaction sent its COMMIT/);
    expect(await rows()).toEqual(before);
    const { writes: n, result } = await counted(() => db.transaction(async () => 'nothing'));
    expect(result).toBe('nothing');
    expect(n).toBe(0);
  });

  it('keeps two transactions at once apart (each on its own connection)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const first = db.transaction(async (tx) => {
      await tx.execute(sql`insert into pipe_t values (7, 'seven')`);
      await gate;
      await tx.execute(sql`update pipe_t set v = 'SEVEN' where id = 7`);
    });
    // The second sees nothing of the first until it commits.
    const seen = await db.transaction(async (tx) => rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from pipe_t where id = 7`)));
    expect(seen[0]!.n).toBe(0);
    release();
    await first;
    expect((await rows()).find((r) => r.id === 7)).toEqual({ id: 7, v: 'SEVEN' });
  });

  it('a transaction whose connection is lost fails at once (no statement waits forever), and the pool goes on', async () => {
    const admin = postgres(fresh.databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      const before = await rows();
      const err = await db
        .transaction(async (tx) => {
          const [me] = rowsOf<{ pid: number }>(await tx.execute(sql`select pg_backend_pid() as pid`));
          await admin`select pg_terminate_backend(${me!.pid})`;
          // The client has seen the connection close by now.
          await new Promise((ok) => setTimeout(ok, 200));
          await tx.execute(sql`insert into pipe_t values (8, 'eight')`);
        })
        .catch((e: unknown) => e);
      const codes: unknown[] = [];
      for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) codes.push(e.code);
      expect(codes).toContain('CONNECTION_CLOSED');
      // The lost connection is not handed back to the pool as if open: more transactions than the
      // pool has connections all go through.
      await Promise.all([1, 2, 3].map((i) => db.transaction(async (tx) => tx.execute(sql`select ${i}`))));
      expect(await rows()).toEqual(before);
    } finally {
      await admin.end({ timeout: 1 });
    }
  });

  it("a group commit makes two writes: BEGIN with the lock and the history INSERT, then the UPDATE, the cap and COMMIT", async () => {
    const [device] = rowsOf<{ id: number }>(
      await db.execute(sql`insert into devices (name, agent_id, auth_status) values ('pipe-a', 'pipe-a', 'NO_AUTHENTICATION_INFO') returning id`),
    );
    expect(device).toBeDefined();
    await db.execute(sql`update auth_status_counters set count = count + 1 where status = 'NO_AUTHENTICATION_INFO'`);
    const service = createConnectionService({
      db,
      bus: createInProcessEventBus(() => {}),
      clock: () => new Date(),
      log: createLogger('silent'),
      groupCommit: { overlap: 1, pruneHistory: (tx, ids) => pruneDeviceHistory(tx, ids, 2), historyPerDevice: 2 },
    });
    // Past the cap of 2 from the third result on: the cap statement goes out too. Four results more
    // than that, so that each of the pool's two connections has every statement prepared (the
    // first use of one waits for its description: a round trip of its own, once per connection).
    for (let i = 0; i < 6; i++) await service.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId: 'pipe-a', ...factsFor('succeeded', 'pipe-a') });
    const { writes: n, result } = await counted(() =>
      service.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId: 'pipe-a', ...factsFor('succeeded', 'pipe-a') }),
    );
    expect(result.verdict.result).toBe('AUTHENTICATION_SUCCEEDED');
    expect(n).toBe(2);
    const kept = rowsOf<{ n: number; count: number | null }>(
      await db.execute(sql`select (select count(*)::int from connection_results where device_id = ${device!.id}) as n, history_count as count from devices where id = ${device!.id}`),
    );
    expect(kept).toEqual([{ n: 2, count: 2 }]);
  });
});
