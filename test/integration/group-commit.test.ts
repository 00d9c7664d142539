import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adjustCounters, getCountersAndSwitch } from '../../src/db/counter-queries.js';
import { countDevicesByStatus } from '../../src/db/device-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import * as schema from '../../src/db/schema.js';
import type { AppEvent } from '../../src/events/bus.js';
import { createConnectionService } from '../../src/services/connection-service.js';
import { createLogger } from '../../src/logger.js';
import { factsFor, seed, type ResultKind } from '../support/seed.js';
import { databaseKind, startTestCore, type TestCore } from '../support/test-core.js';
import type { Db } from '../../src/db/client.js';

describe('connection results by group commit', () => {
  let tc: TestCore;

  beforeAll(async () => {
    tc = await startTestCore();
  });
  afterAll(async () => tc?.close());

  const record = (agentId: string, kind: ResultKind) =>
    tc.core.services.connections.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId, ...factsFor(kind, agentId) });

  const historyOf = async (agentId: string) =>
    rowsOf<{ id: string | number; result: string }>(
      await tc.core.database.db.execute(
        sql`select c.id, c.result from connection_results c join devices d on d.id = c.device_id where d.agent_id = ${agentId} order by c.id`,
      ),
    );

  it('writes a burst from many agents in far fewer transactions, every result committed before its answer', async () => {
    const kinds: ResultKind[] = ['succeeded', 'revoked', 'mustUpgrade', 'noCertificate', 'succeeded'];
    const before = tc.queries.filter((q) => /insert into "?connection_results"?/i.test(q)).length;
    // 60 agents, 5 results each, all handed in at once.
    await seed(tc).knownAgents(Array.from({ length: 60 }, (_, a) => `burst-${a}`));
    const calls: { agentId: string; kind: ResultKind }[] = [];
    for (let round = 0; round < 5; round++) {
      for (let a = 0; a < 60; a++) calls.push({ agentId: `burst-${a}`, kind: kinds[(a + round) % kinds.length]! });
    }
    const answers = await Promise.all(
      calls.map(async (c) => {
        const r = await record(c.agentId, c.kind);
        // Answered means written: the row is there the moment the promise settles.
        const rows = rowsOf<{ n: string | number }>(
          await tc.core.database.db.execute(sql`select count(*) as n from connection_results where id = ${r.device.lastConnection!.id}`),
        );
        expect(Number(rows[0]!.n)).toBe(1);
        return r;
      }),
    );
    expect(answers).toHaveLength(300);
    const statements = tc.queries.filter((q) => /insert into "?connection_results"?/i.test(q)).length - before;
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(300 / 5);

    for (let a = 0; a < 60; a += 7) {
      const agentId = `burst-${a}`;
      const history = await historyOf(agentId);
      expect(history).toHaveLength(5);
      // Each agent's results are in its history in the order they were handed in.
      const expected = [0, 1, 2, 3, 4].map((round) => kinds[(a + round) % kinds.length]!);
      const resultOf: Record<ResultKind, string> = {
        succeeded: 'AUTHENTICATION_SUCCEEDED',
        revoked: 'AUTHENTICATION_FAILED',
        mustUpgrade: 'CLIENT_AGENTS_MUST_UPGRADE',
        noCertificate: 'AUTHENTICATION_FAILED',
      } as Record<ResultKind, string>;
      expect(history.map((h) => h.result)).toEqual(expected.map((k) => resultOf[k]));
      // The device row holds the newest result.
      const [device] = rowsOf<{ last_connection_id: string | number; auth_status: string }>(
        await tc.core.database.db.execute(sql`select last_connection_id, auth_status from devices where agent_id = ${agentId}`),
      );
      expect(Number(device!.last_connection_id)).toBe(Number(history.at(-1)!.id));
      expect(device!.auth_status).toBe(history.at(-1)!.result);
    }

    const { counts } = await getCountersAndSwitch(tc.core.database.db);
    expect(counts).toEqual(await countDevicesByStatus(tc.core.database.db));
  });

  it('chains results for one device inside a batch: each answer and event starts where the previous left off', async () => {
    await seed(tc).knownAgents(['chain-1']);
    const events: AppEvent[] = [];
    const off = tc.core.bus.subscribe((e) => events.push(e));
    const sequence: ResultKind[] = ['succeeded', 'revoked', 'revoked', 'mustUpgrade', 'succeeded'];
    const answers = await Promise.all(sequence.map((k) => record('chain-1', k)));
    // On PostgreSQL events come back through LISTEN/NOTIFY, a little after the commit.
    const isMove = (e: AppEvent) => e.type === 'deviceAuthStatusChanged';
    for (let i = 0; i < 100 && events.filter(isMove).length < 4; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 100));
    off();
    expect(answers.map((a) => [a.previousStatus, a.device.authStatus])).toEqual([
      ['NO_AUTHENTICATION_INFO', 'AUTHENTICATION_SUCCEEDED'],
      ['AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED'],
      ['AUTHENTICATION_FAILED', 'AUTHENTICATION_FAILED'],
      ['AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'],
      ['CLIENT_AGENTS_MUST_UPGRADE', 'AUTHENTICATION_SUCCEEDED'],
    ]);
    const moves = events.filter((e): e is Extract<AppEvent, { type: 'deviceAuthStatusChanged' }> => e.type === 'deviceAuthStatusChanged');
    expect(moves.map((m) => [m.previous, m.current])).toEqual([
      ['NO_AUTHENTICATION_INFO', 'AUTHENTICATION_SUCCEEDED'],
      ['AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED'],
      ['AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE'],
      ['CLIENT_AGENTS_MUST_UPGRADE', 'AUTHENTICATION_SUCCEEDED'],
    ]);
    const { counts } = await getCountersAndSwitch(tc.core.database.db);
    expect(counts).toEqual(await countDevicesByStatus(tc.core.database.db));
  });

  it('overlaps transactions on PostgreSQL (the next starts while the previous commits) and keeps each device in order, answering only after commit', async () => {
    const { db } = tc.core.database;
    // Counts transactions from BEGIN until their COMMIT has answered.
    let live = 0;
    let most = 0;
    const counting = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
        return async (fn: (tx: unknown) => Promise<unknown>) => {
          let began = false;
          try {
            return await target.transaction(async (tx) => {
              began = true;
              most = Math.max(most, ++live);
              return fn(tx);
            });
          } finally {
            if (began) live--;
          }
        };
      },
    }) as Db;
    const overlap = databaseKind() === 'postgres' ? 2 : 1;
    const service = createConnectionService({
      db: counting,
      bus: tc.core.bus,
      clock: () => new Date(),
      log: createLogger('silent'),
      // Small batches, so that results of one device fall into consecutive, overlapping transactions.
      groupCommit: { maxBatch: 5, overlap },
    });
    const agents = Array.from({ length: 8 }, (_, a) => `overlap-${a}`);
    await seed(tc).knownAgents(agents);
    const kinds: ResultKind[] = ['succeeded', 'revoked', 'mustUpgrade', 'noCertificate'];
    const calls: { agentId: string; kind: ResultKind }[] = [];
    for (let round = 0; round < 6; round++) {
      for (let a = 0; a < agents.length; a++) calls.push({ agentId: agents[a]!, kind: kinds[(a + round) % kinds.length]! });
    }
    const answers = await Promise.all(
      calls.map(async (c) => {
        const r = await service.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId: c.agentId, ...factsFor(c.kind, c.agentId) });
        // Answered means committed: another connection sees the row the moment the promise settles.
        const rows = rowsOf<{ n: string | number }>(
          await db.execute(sql`select count(*) as n from connection_results where id = ${r.device.lastConnection!.id}`),
        );
        expect(Number(rows[0]!.n)).toBe(1);
        return { ...c, r };
      }),
    );
    await service.idle();
    expect(most).toBe(overlap);
    for (const agentId of agents) {
      const mine = answers.filter((x) => x.agentId === agentId);
      // Each answer starts where the one handed in before it left the device, and the history is in hand-in order.
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.r.previousStatus).toBe(mine[i - 1]!.r.device.authStatus);
      const history = await historyOf(agentId);
      expect(history.map((h) => Number(h.id))).toEqual(mine.map((x) => x.r.device.lastConnection!.id));
      expect(history.map((h) => h.result)).toEqual(mine.map((x) => x.r.device.authStatus));
      const [device] = rowsOf<{ last_connection_id: string | number; auth_status: string }>(
        await db.execute(sql`select last_connection_id, auth_status from devices where agent_id = ${agentId}`),
      );
      expect(Number(device!.last_connection_id)).toBe(Number(history.at(-1)!.id));
      expect(device!.auth_status).toBe(mine.at(-1)!.r.device.authStatus);
    }
    const { counts } = await getCountersAndSwitch(db);
    expect(counts).toEqual(await countDevicesByStatus(db));
  });

  it.skipIf(databaseKind() !== 'postgres')(
    'runs the transaction again when a device of the batch appears between its lock and its history INSERT',
    async () => {
      const { db } = tc.core.database;
      const url = tc.config.databaseUrl!;
      let transactions = 0;
      const counting = new Proxy(db, {
        get(target, prop, receiver) {
          if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
          return (fn: (tx: unknown) => Promise<unknown>) => {
            transactions++;
            return target.transaction(fn as never);
          };
        },
      }) as Db;
      const service = createConnectionService({ db: counting, bus: tc.core.bus, clock: () => new Date(), log: createLogger('silent'), groupCommit: { overlap: 1 } });
      await seed(tc).knownAgents(['appear-a']);
      const [a] = rowsOf<{ id: string | number }>(await db.execute(sql`select id from devices where agent_id = 'appear-a'`));

      // Another writer holds appear-a's row and adds the device of appear-x, not committed yet: the
      // batch's lock waits for appear-a, and its snapshot, taken before that commit, has no appear-x;
      // the INSERT behind it runs in a snapshot taken after the commit, and finds appear-x.
      const other = postgres(url, { max: 1, onnotice: () => {} });
      const watcher = postgres(url, { max: 1, onnotice: () => {} });
      try {
        let commit!: () => void;
        const gate = new Promise<void>((r) => (commit = r));
        let holding!: () => void;
        const held = new Promise<void>((r) => (holding = r));
        const writer = drizzle(other, { schema }).transaction(async (tx) => {
          await tx.execute(sql`select id from devices where id = ${Number(a!.id)} for update`);
          await tx.execute(sql`insert into devices (name, agent_id) values ('appear-x', 'appear-x')`);
          await adjustCounters(tx, { NO_AUTHENTICATION_INFO: 1 });
          holding();
          await gate;
        });
        await held;
        const answers = Promise.all(
          ['appear-a', 'appear-x'].map((agentId) =>
            service.recordConnectionResult({ source: 'SECURE_CONNECTION', agentId, ...factsFor('succeeded', agentId) }),
          ),
        );
        // The batch's lock is waiting for the other writer's row lock.
        await vi.waitFor(
          async () => {
            const waiting = await watcher`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%for update of "devices"%'`;
            expect(waiting[0]!.n).toBe(1);
          },
          { timeout: 10_000, interval: 20 },
        );
        commit();
        await writer;
        const [ra, rx] = await answers;
        expect(ra!.device.authStatus).toBe('AUTHENTICATION_SUCCEEDED');
        expect(rx!.device.authStatus).toBe('AUTHENTICATION_SUCCEEDED');
        // Written on the second attempt of the same transaction, not one by one (that would be three).
        expect(transactions).toBe(2);
        // The first attempt left nothing: one history row each, the one the device row points at.
        for (const [agentId, r] of [['appear-a', ra!], ['appear-x', rx!]] as const) {
          const history = await historyOf(agentId);
          expect(history.map((h) => Number(h.id))).toEqual([r.device.lastConnection!.id]);
        }
        const { counts } = await getCountersAndSwitch(db);
        expect(counts).toEqual(await countDevicesByStatus(db));
      } finally {
        await other.end({ timeout: 5 });
        await watcher.end({ timeout: 5 });
      }
    },
  );

  it('sends the history INSERT right behind the lock, in the same round trip, and after it', async () => {
    await seed(tc).knownAgents(['behind-1', 'behind-2']);
    const from = tc.queries.length;
    await Promise.all(['behind-1', 'behind-2'].map((agentId) => record(agentId, 'succeeded')));
    const sent = tc.queries.slice(from);
    const lock = sent.findIndex((q) => /for update of "devices"/i.test(q));
    const insert = sent.findIndex((q) => /insert into connection_results/i.test(q));
    expect(lock).toBeGreaterThanOrEqual(0);
    expect(insert).toBe(lock + 1);
  });

  // Two kinds of failure inside the transaction, whenever the poisoned device is in the batch: a
  // statement the database refuses (the transaction's COMMIT may already be on its way behind it:
  // the server turns it into a rollback), and code that fails before its statement is sent.
  it.each(['refused by the database', 'failed before its statement went out'] as const)(
    'does not let one result that cannot be written take the rest of its batch down (%s)',
    async (how) => {
      const { db } = tc.core.database;
      const tag = how.startsWith('refused') ? 'r' : 'f';
      const agents = [`fine-${tag}1`, `fine-${tag}2`, `poison-${tag}`, `fine-${tag}3`, `fine-${tag}4`];
      await seed(tc).knownAgents(agents);
      const [poison] = rowsOf<{ id: string | number }>(await db.execute(sql`select id from devices where agent_id = ${`poison-${tag}`}`));
      const poisonId = Number(poison!.id);
      let poisoned = 0;
      const service = createConnectionService({
        db,
        bus: tc.core.bus,
        clock: () => new Date(),
        log: createLogger('silent'),
        groupCommit: {
          pruneHistory: async (tx, deviceIds) => {
            const holds = deviceIds.includes(poisonId);
            if (how === 'refused by the database') {
              try {
                await tx.execute(sql`select case when ${holds} then 1 / 0 else 0 end`);
              } catch (err) {
                poisoned++;
                throw err;
              }
              return;
            }
            if (holds) {
              poisoned++;
              throw new Error('this batch holds the poisoned device');
            }
          },
        },
      });
      const settled = await Promise.allSettled(
        agents.map((agentId) => service.recordConnectionResult({ source: 'SECURITY_SCANNER', agentId, ...factsFor('succeeded', agentId) })),
      );
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(poisoned).toBeGreaterThanOrEqual(2); // once in a batch with others, once alone
      for (const agentId of agents.filter((a) => a.startsWith('fine'))) expect(await historyOf(agentId)).toHaveLength(1);
      // The failed one left nothing half-written: no history, counters still right.
      expect(await historyOf(`poison-${tag}`)).toHaveLength(0);
      const { counts } = await getCountersAndSwitch(db);
      expect(counts).toEqual(await countDevicesByStatus(db));
      await service.idle();
    },
  );

  it('batches the reads of agent connections that arrive together', async () => {
    const agents = Array.from({ length: 40 }, (_, i) => `reader-${i}`);
    await tc.core.services.devices.registerDevices(
      { subject: 'seed', roles: ['SECURITY_ADMIN'] },
      agents.map((agentId) => ({ name: agentId, agentId })),
    );
    const lookups = () => tc.queries.filter((q) => /join devices d on d\.agent_id = i\.agent_id/i.test(q)).length;
    const before = lookups();
    const answers = await Promise.all(
      agents.map((agentId) =>
        tc.core.services.agentAuth.authenticate({
          source: 'SECURE_CONNECTION',
          agentId,
          agentVersion: '2024.3',
          presentedCertificate: null,
          remoteAddress: '127.0.0.1',
        }),
      ),
    );
    expect(answers.every((a) => a.httpStatus === 401 && a.reason === 'NO_CLIENT_CERTIFICATE')).toBe(true);
    const used = lookups() - before;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(agents.length / 4);
    for (const agentId of agents.slice(0, 3)) expect(await historyOf(agentId)).toHaveLength(1);
  });

  it('records results against known devices only: an unknown agent id fails alone with NOT_FOUND and creates nothing', async () => {
    const { db } = tc.core.database;
    await seed(tc).knownAgents(['known-1', 'known-2']);
    const devicesBefore = rowsOf<{ n: string | number }>(await db.execute(sql`select count(*) as n from devices`))[0]!.n;
    // Handed in together, so that the unknown one shares a batch with the known ones.
    const settled = await Promise.allSettled(['known-1', 'stranger-1', 'known-2'].map((agentId) => record(agentId, 'succeeded')));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_FOUND' });
    expect(await historyOf('known-1')).toHaveLength(1);
    expect(await historyOf('known-2')).toHaveLength(1);
    const devicesAfter = rowsOf<{ n: string | number }>(await db.execute(sql`select count(*) as n from devices`))[0]!.n;
    expect(Number(devicesAfter)).toBe(Number(devicesBefore));
    const { counts } = await getCountersAndSwitch(db);
    expect(counts).toEqual(await countDevicesByStatus(db));
  });

  it('records an agent connection as it was checked and judged, without checking or deciding it again', async () => {
    const agentId = 'judged-once';
    await tc.core.services.devices.registerDevices({ subject: 'seed', roles: ['SECURITY_ADMIN'] }, [{ name: agentId, agentId }]);
    const { connections } = tc.core.services;
    const rechecked = vi.spyOn(connections, 'recordConnectionResult');
    const decided = vi.spyOn(connections, 'recordDecided');
    try {
      const answer = await tc.core.services.agentAuth.authenticate({
        source: 'SECURITY_SCANNER',
        agentId: ` ${agentId} `,
        agentVersion: ' 2024.3 ',
        presentedCertificate: null,
        remoteAddress: '127.0.0.1',
      });
      expect(answer).toEqual({ httpStatus: 401, status: 'AUTHENTICATION_FAILED', reason: 'NO_CLIENT_CERTIFICATE' });
      expect(rechecked).not.toHaveBeenCalled();
      expect(decided).toHaveBeenCalledTimes(1);
      // Handed on as checked: the trimmed id, the version parsed once, the verdict the answer came from.
      expect(decided.mock.calls[0]![0]).toMatchObject({
        agentId,
        agentVersion: { text: '2024.3', major: 2024 },
        verdict: { result: 'AUTHENTICATION_FAILED', failureReason: 'NO_CLIENT_CERTIFICATE' },
      });
    } finally {
      rechecked.mockRestore();
      decided.mockRestore();
    }
    const history = rowsOf<{ result: string; agent_version: string | null }>(
      await tc.core.database.db.execute(
        sql`select c.result, c.agent_version from connection_results c join devices d on d.id = c.device_id where d.agent_id = ${agentId}`,
      ),
    );
    expect(history).toEqual([{ result: 'AUTHENTICATION_FAILED', agent_version: '2024.3' }]);
  });

  it('rejects bad input at once, without queueing it', async () => {
    await expect(
      tc.core.services.connections.recordConnectionResult({
        source: 'SECURE_CONNECTION',
        agentId: 'bad id with spaces',
        agentVersion: '2024.1',
        certificate: null,
      }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('moves the counters in one statement, and writers that lock them concurrently in any mix never deadlock', async () => {
    const { db } = tc.core.database;
    const before = (await getCountersAndSwitch(db)).counts;
    const statements = tc.queries.length;
    await adjustCounters(db, { AUTHENTICATION_FAILED: 2, NO_AUTHENTICATION_INFO: -1, AUTHENTICATION_SUCCEEDED: 0 });
    expect(tc.queries.length - statements).toBe(1);
    await adjustCounters(db, { AUTHENTICATION_FAILED: -2, NO_AUTHENTICATION_INFO: 1 });
    expect((await getCountersAndSwitch(db)).counts).toEqual(before);
    await expect(adjustCounters(db, { AUTHENTICATION_FAILED: 0.5 })).rejects.toThrow(RangeError);

    // 40 transactions, each moving a different mix of statuses in a different order of the keys,
    // holding the locks a moment before committing. A deadlock would surface here as an error
    // (db.transaction, not the service's retrying transact). On the embedded database they run
    // one after another; on PostgreSQL they contend on the pool's connections.
    const statuses = ['NO_AUTHENTICATION_INFO', 'AUTHENTICATION_SUCCEEDED', 'CLIENT_AGENTS_MUST_UPGRADE', 'AUTHENTICATION_FAILED'] as const;
    const net: Record<string, number> = {};
    const work = Array.from({ length: 40 }, (_, i) => {
      const deltas: Partial<Record<(typeof statuses)[number], number>> = {};
      for (let k = 0; k < statuses.length; k++) {
        const s = statuses[(i + k) % statuses.length]!;
        if ((i >> k) & 1) deltas[s] = k % 2 === 0 ? 1 : -1;
      }
      for (const [s, d] of Object.entries(deltas)) net[s] = (net[s] ?? 0) + d!;
      return deltas;
    });
    // Start high enough that no counter goes below zero on the way.
    await adjustCounters(db, { NO_AUTHENTICATION_INFO: 100, AUTHENTICATION_SUCCEEDED: 100, CLIENT_AGENTS_MUST_UPGRADE: 100, AUTHENTICATION_FAILED: 100 });
    await Promise.all(
      work.map((deltas) =>
        db.transaction(async (tx) => {
          await adjustCounters(tx, deltas);
          await tx.execute(sql`select pg_sleep(0.005)`);
        }),
      ),
    );
    const after = (await getCountersAndSwitch(db)).counts;
    for (const s of statuses) expect(after[s]).toBe(before[s] + 100 + (net[s] ?? 0));
    await adjustCounters(db, { NO_AUTHENTICATION_INFO: -100 - (net.NO_AUTHENTICATION_INFO ?? 0), AUTHENTICATION_SUCCEEDED: -100 - (net.AUTHENTICATION_SUCCEEDED ?? 0), CLIENT_AGENTS_MUST_UPGRADE: -100 - (net.CLIENT_AGENTS_MUST_UPGRADE ?? 0), AUTHENTICATION_FAILED: -100 - (net.AUTHENTICATION_FAILED ?? 0) });
    expect((await getCountersAndSwitch(db)).counts).toEqual(before);
  });
});
