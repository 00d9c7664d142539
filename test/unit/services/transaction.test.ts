import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/client.js';
import { rowsOf } from '../../../src/db/rows.js';
import type { AppEvent, EventBus } from '../../../src/events/bus.js';
import { noMetrics } from '../../../src/metrics/sink.js';
import { transact } from '../../../src/services/transaction.js';
import { openTestDb, type TestDb } from '../../support/test-db.js';

const changed: AppEvent = { type: 'summaryChanged' };
const requested = (requestId: number): AppEvent => ({ type: 'clientAccessRequested', requestId });

// A bus and a database that write what happens, in order, into one log.
function recorder() {
  const log: string[] = [];
  const bus: EventBus = {
    publish: (e) => log.push(`publish ${e.type}${'requestId' in e ? ` ${e.requestId}` : ''}`),
    subscribe: () => () => true,
    close: async () => {},
  };
  const db = {
    async transaction(fn: (tx: unknown) => Promise<unknown>) {
      log.push('begin');
      try {
        const out = await fn({});
        log.push('commit');
        return out;
      } catch (err) {
        log.push('rollback');
        throw err;
      }
    },
  } as unknown as Db;
  return { log, deps: { db, bus } };
}

const sqlError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('transact: events go out after the commit', () => {
  it('publishes the outbox after the commit, in the order queued', async () => {
    const { log, deps } = recorder();
    const result = await transact(deps, async (_tx, outbox) => {
      outbox.publish(requested(1));
      outbox.publish(changed);
      log.push('work done');
      return 'answer';
    });
    expect(result).toBe('answer');
    expect(log).toEqual(['begin', 'work done', 'commit', 'publish clientAccessRequested 1', 'publish summaryChanged']);
  });

  it('publishes nothing when the work throws, and the caller gets the very error thrown', async () => {
    const { log, deps } = recorder();
    const boom = new Error('refused');
    await expect(
      transact(deps, async (_tx, outbox) => {
        outbox.publish(changed);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(log).toEqual(['begin', 'rollback']);
  });

  it('runs a transaction aborted for a deadlock or serialization failure again, publishing only the attempt that committed', async () => {
    for (const code of ['40P01', '40001']) {
      const { log, deps } = recorder();
      let attempt = 0;
      const out = await transact(deps, async (_tx, outbox) => {
        attempt++;
        outbox.publish(requested(attempt));
        // As drizzle throws it: the driver's error as the cause of "Failed query".
        if (attempt < 3) throw new DrizzleQueryError('update devices set ...', [], sqlError(code));
        return attempt;
      });
      expect(out).toBe(3);
      expect(log).toEqual(['begin', 'rollback', 'begin', 'rollback', 'begin', 'commit', 'publish clientAccessRequested 3']);
    }
  });

  it('gives up after three attempts, with the last error, publishing nothing', async () => {
    const { log, deps } = recorder();
    let attempt = 0;
    const last = await transact(deps, async (_tx, outbox) => {
      attempt++;
      outbox.publish(changed);
      throw sqlError('40P01');
    }).catch((err: Error) => err);
    expect(attempt).toBe(3);
    expect((last as Error).message).toBe('sqlstate 40P01');
    expect(log.filter((l) => l.startsWith('publish'))).toEqual([]);
  });

  it('counts into the metrics after the commit, only for the attempt that committed', async () => {
    const { log, deps } = recorder();
    const counted: number[] = [];
    const metrics = { ...noMetrics, certificatesIssued: (n: number) => counted.push(n) };
    let attempt = 0;
    await transact({ ...deps, metrics }, async (_tx, outbox) => {
      attempt++;
      outbox.count((m) => m.certificatesIssued(attempt, 'manual'));
      log.push(`attempt ${attempt}`);
      if (attempt < 2) throw sqlError('40P01');
    });
    expect(counted).toEqual([2]);
    expect(log).toEqual(['begin', 'attempt 1', 'rollback', 'begin', 'attempt 2', 'commit']);
    // Rolled back for good: nothing counted.
    await transact({ ...deps, metrics }, async (_tx, outbox) => {
      outbox.count((m) => m.certificatesIssued(99, 'manual'));
      throw new Error('refused');
    }).catch(() => {});
    expect(counted).toEqual([2]);
  });

  it.each(['23505', '57014', '08006', 'ECONNRESET'])('does not run again after %s: only a deadlock or serialization failure is safe to repeat', async (code) => {
    const { log, deps } = recorder();
    const err = sqlError(code);
    await expect(transact(deps, async () => Promise.reject(err))).rejects.toBe(err);
    expect(log).toEqual(['begin', 'rollback']);
  });
});

describe('transact on a real database', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openTestDb();
  });
  afterAll(async () => t?.close());

  const countOf = async (action: string): Promise<number> =>
    Number(rowsOf<{ n: number }>(await t.database.db.execute(sql`select count(*)::int as n from audit_events where action = ${action}`))[0]!.n);

  it('commits the work and then publishes', async () => {
    const deps = t.deps();
    await transact(deps, async (tx, outbox) => {
      await tx.execute(sql`insert into audit_events (actor, action, at) values ('test', 'tx.committed', now())`);
      outbox.publish(changed);
      expect(deps.published).toEqual([]);
    });
    expect(deps.published).toEqual([changed]);
    expect(await countOf('tx.committed')).toBe(1);
  });

  it('rolls back the work and publishes nothing when the work throws after writing', async () => {
    const deps = t.deps();
    const boom = new Error('second step refused');
    await expect(
      transact(deps, async (tx, outbox) => {
        await tx.execute(sql`insert into audit_events (actor, action, at) values ('test', 'tx.rolledBack', now())`);
        outbox.publish(changed);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(deps.published).toEqual([]);
    expect(await countOf('tx.rolledBack')).toBe(0);
  });

  it('rolls back and publishes nothing when the database refuses a statement, and the refusal reaches the caller', async () => {
    const deps = t.deps();
    const err = await transact(deps, async (tx, outbox) => {
      outbox.publish(changed);
      await tx.execute(sql`insert into audit_events (actor, action, at) values ('test', 'tx.refused', now())`);
      await tx.execute(sql`insert into audit_events (actor, action, at) values (null, 'tx.refused', now())`);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err)) + String((err as Error).cause)).toMatch(/23502|null value/);
    expect(deps.published).toEqual([]);
    expect(await countOf('tx.refused')).toBe(0);
  });
});
