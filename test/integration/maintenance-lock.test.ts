import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/rows.js';
import { MAINTENANCE_LOCK } from '../../src/services/maintenance-service.js';
import { databaseKind, startTestCore, type TestCore } from '../support/test-core.js';

// No timer-driven round during the file: each test runs the rounds it needs.
const QUIET = { SWEEP_INTERVAL_MS: '3600000' };

describe.skipIf(databaseKind() !== 'postgres')('maintenance rounds of two cores on one PostgreSQL database', () => {
  let a: TestCore;
  let b: TestCore;

  beforeAll(async () => {
    a = await startTestCore({ env: QUIET });
    // B shares A's database and DATA_DIR (its CA key file), as a second replica does.
    b = await startTestCore({ env: { ...QUIET, DATA_DIR: a.config.dataDir }, databaseUrl: a.config.databaseUrl! });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const rounds = (tc: TestCore) => tc.queries.filter((q) => q.includes('delete from client_certificate_status_ledger')).length;
  const lockHolders = async () =>
    Number(
      rowsOf<{ n: number }>(
        await a.core.database.db.execute(
          sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${MAINTENANCE_LOCK} and granted`,
        ),
      )[0]!.n,
    );

  it('only one runs a round at a time: the other skips it while the first holds the lock, and runs once it is free', async () => {
    // Hold core A's round in the middle: its fold of the certificate ledger waits for this lock.
    const blocker = postgres(a.config.databaseUrl!, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const blocking = blocker.begin(async (tx) => {
      await tx`lock table client_certificate_status_ledger in access exclusive mode`;
      locked();
      await held;
    });
    try {
      await isLocked;
      const [aBefore, bBefore] = [rounds(a), rounds(b)];
      const aRound = a.core.services.maintenance.runOnce();
      // A is inside its round (waiting on the ledger), holding the maintenance lock.
      for (let i = 0; i < 200 && rounds(a) === aBefore; i++) await new Promise((r) => setTimeout(r, 25));
      expect(rounds(a)).toBe(aBefore + 1);
      expect(await lockHolders()).toBe(1);

      // B finds the lock taken: it skips the whole round, without running any of it.
      const bQueries = b.queries.length;
      expect(await b.core.services.maintenance.runOnce()).toBe(false);
      expect(rounds(b)).toBe(bBefore);
      expect(b.queries.slice(bQueries).some((q) => q.includes('certfleet_drop_connection_history') || q.includes('retire'))).toBe(false);

      release();
      await blocking;
      expect(await aRound).toBe(true);
      expect(await lockHolders()).toBe(0);

      // Free again: B runs its round now.
      expect(await b.core.services.maintenance.runOnce()).toBe(true);
      expect(rounds(b)).toBe(bBefore + 1);
    } finally {
      release();
      await blocking.catch(() => undefined);
      await blocker.end({ timeout: 5 });
    }
  });
});

describe.skipIf(databaseKind() !== 'embedded')('maintenance rounds on the embedded database', () => {
  let tc: TestCore;
  beforeAll(async () => {
    tc = await startTestCore({ env: QUIET });
  });
  afterAll(async () => tc?.close());

  it('run without an advisory lock (one process owns the database)', async () => {
    expect(await tc.core.services.maintenance.runOnce()).toBe(true);
    expect(tc.queries.some((q) => q.includes('pg_try_advisory_xact_lock'))).toBe(false);
  });
});
