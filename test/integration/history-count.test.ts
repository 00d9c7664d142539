import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../../src/db/client.js';
import { getDeviceByAgentId, type DeviceRow } from '../../src/db/device-queries.js';
import { dropHistoryBefore, pruneDeviceHistory, recordUnverifiedAttempts, type KnownHistoryCounts } from '../../src/db/history-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import { createLogger } from '../../src/logger.js';
import { createConnectionService } from '../../src/services/connection-service.js';
import { factsFor, seed } from '../support/seed.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

const DAY = 86_400_000;
const KEEP = 3;

// devices.history_count (drizzle/0011, 0012): the group commit caps a device's history only when its
// count passes the cap (or is unknown). A known count (of the current history epoch) is exact, and the
// cap then deletes just the oldest excess: every test recounts the rows against it, and checks the ids
// kept are the newest.
describe('the per-device count of history rows', () => {
  let tc: TestCore;
  let offsetMs = 0;
  /** The devices each group commit of `connections` handed to the cap. */
  const capped: number[][] = [];
  /** Of those, the ones handed with a known count (the cap deletes their oldest excess, unless the epoch moved). */
  const fast: number[][] = [];

  beforeAll(async () => {
    tc = await startTestCore({
      env: { CONNECTION_HISTORY_DAYS: '30', SWEEP_INTERVAL_MS: '3600000' },
      clock: () => new Date(Date.now() + offsetMs),
    });
  });
  afterAll(async () => tc?.close());

  const db = () => tc.core.database.db;
  const connections = () =>
    createConnectionService({
      db: db(),
      bus: tc.core.bus,
      clock: () => new Date(Date.now() + offsetMs),
      log: createLogger('silent'),
      groupCommit: {
        pruneHistory: (tx: Tx, ids: number[], known: KnownHistoryCounts) => {
          capped.push([...ids]);
          fast.push(ids.filter((_, i) => known.excess[i] !== null));
          return pruneDeviceHistory(tx, ids, KEEP, known);
        },
        historyPerDevice: KEEP,
      },
    });

  async function device(agentId: string): Promise<DeviceRow> {
    const row = await getDeviceByAgentId(db(), agentId);
    if (!row) throw new Error(`no device for ${agentId}`);
    return row;
  }
  /** rowsOfDevice counts the history rows really there. */
  async function rowsOfDevice(id: number): Promise<number> {
    const rows = rowsOf<{ n: number }>(await db().execute(sql`select count(*)::int as n from connection_results where device_id = ${id}`));
    return Number(rows[0]!.n);
  }
  async function record(service: ReturnType<typeof connections>, agentId: string, times = 1, together = false): Promise<void> {
    const one = () => service.recordConnectionResult({ source: 'SECURITY_SCANNER', agentId, ...factsFor('succeeded', agentId) });
    if (together) await Promise.all(Array.from({ length: times }, one));
    else for (let i = 0; i < times; i++) await one();
  }
  const cappedIds = () => new Set(capped.flat());
  const fastIds = () => new Set(fast.flat());
  const clearCapped = () => {
    capped.length = 0;
    fast.length = 0;
  };
  async function historyEpoch(): Promise<number> {
    const rows = rowsOf<{ e: string }>(await db().execute(sql`select history_epoch::text as e from core_settings where id = 1`));
    return Number(rows[0]!.e);
  }
  /** idsOfDevice lists the history rows really there, oldest first. */
  async function idsOfDevice(id: number): Promise<number[]> {
    const rows = rowsOf<{ id: string }>(await db().execute(sql`select id::text as id from connection_results where device_id = ${id} order by connection_results.id`));
    return rows.map((r) => Number(r.id));
  }
  /**
   * expectExact checks the device's count against a recount: known (of the current epoch) and equal
   * to its rows, at most KEEP, and the ids there are the newest `min(KEEP, n)` of `expected` (every
   * id it should have had, oldest first), its last_connection_id among them.
   */
  async function expectExact(agentId: string, expected?: number[]): Promise<number[]> {
    const row = await device(agentId);
    const ids = await idsOfDevice(row.id);
    expect(ids.length).toBeLessThanOrEqual(KEEP);
    expect(row.historyCount).toBe(ids.length);
    expect(row.historyCountEpoch).toBe(await historyEpoch());
    if (expected) expect(ids).toEqual(expected.slice(-KEEP));
    if (row.lastConnectionId !== null) expect(ids).toContain(row.lastConnectionId);
    return ids;
  }
  /** recordOne records one result and returns the ids the device should have: what it had, and the new one. */
  async function recordOne(service: ReturnType<typeof connections>, agentId: string): Promise<number[]> {
    const before = await idsOfDevice((await device(agentId)).id);
    await record(service, agentId);
    return [...before, (await device(agentId)).lastConnectionId!];
  }

  it('an unknown count (a device from before the column) is counted by the first cap, and none runs below the cap after', async () => {
    await seed(tc).knownAgents(['count-new']);
    const d = await device('count-new');
    expect(d.historyCount).toBeNull();
    const service = connections();
    clearCapped();
    await record(service, 'count-new');
    expect(cappedIds()).toEqual(new Set([d.id]));
    expect((await device('count-new')).historyCount).toBe(1);
    expect(await rowsOfDevice(d.id)).toBe(1);

    // Up to the cap: no cap runs, the count follows the rows.
    clearCapped();
    await record(service, 'count-new', KEEP - 1);
    expect(cappedIds().has(d.id)).toBe(false);
    expect((await device('count-new')).historyCount).toBe(KEEP);
    expect(await rowsOfDevice(d.id)).toBe(KEEP);
  });

  it('a device at its cap is capped on every result by its known count: it keeps exactly the newest `keep` rows, its count `keep`', async () => {
    const service = connections();
    const { id } = await device('count-new');
    await expectExact('count-new');
    for (let i = 0; i < 3; i++) {
      clearCapped();
      const expected = await recordOne(service, 'count-new');
      expect(cappedIds()).toEqual(new Set([id]));
      // The count was known: the cap deleted the oldest excess without a recount.
      expect(fastIds()).toEqual(new Set([id]));
      await expectExact('count-new', expected);
    }
    // Several results of the device in one batch: the same.
    const before = await idsOfDevice(id);
    clearCapped();
    await record(service, 'count-new', 5, true);
    await service.idle();
    const ids = await expectExact('count-new');
    expect(ids.length).toBe(KEEP);
    // The newest KEEP ids of all the device ever had: everything before, and 5 new ones above them.
    expect(ids.every((x) => x > Math.max(...before))).toBe(true);
    const newest = rowsOf<{ id: string }>(await db().execute(sql`select max(id)::text as id from connection_results where device_id = ${id}`));
    expect((await device('count-new')).lastConnectionId).toBe(Number(newest[0]!.id));
  });

  it('retention bumps the history epoch; the next commit recounts the device and keeps exactly its newest min(keep, present) rows', async () => {
    offsetMs = -40 * DAY;
    await seed(tc).knownAgents(['count-old']);
    const service = connections();
    await record(service, 'count-old', 2);
    offsetMs = 0;
    await record(service, 'count-old');
    const { id } = await device('count-old');
    await expectExact('count-old');
    expect(await rowsOfDevice(id)).toBe(3);

    // Retention drops the rows of 40 days ago (in the DEFAULT partition or a partition of their own):
    // the device row stays as it was, the epoch moves on, and the count is unknown from then on.
    const epoch = await historyEpoch();
    const left = (await idsOfDevice(id)).slice(-1);
    expect(await dropHistoryBefore(db(), new Date(Date.now() - 31 * DAY))).not.toEqual({ partitions: 0, defaultRows: 0 });
    expect(await idsOfDevice(id)).toEqual(left);
    expect((await device('count-old')).historyCount).toBe(3);
    expect((await device('count-old')).historyCountEpoch).toBe(epoch);

    // Taken for exact, 3 + 1 would pass the cap of 3 and the oldest row would go: one of the 2 there
    // are. Unknown, the cap recounts: it deletes nothing and writes the real count, in the new epoch.
    clearCapped();
    let expected = await recordOne(service, 'count-old');
    expect(expected).toEqual([...left, (await device('count-old')).lastConnectionId]);
    expect(cappedIds()).toEqual(new Set([id]));
    expect(await idsOfDevice(id)).toEqual(expected);
    expect(fastIds().has(id)).toBe(false);
    expect(await historyEpoch()).toBe(epoch + 1);
    await expectExact('count-old', expected);
    // A second retention with nothing to drop leaves the epoch.
    expect(await dropHistoryBefore(db(), new Date(Date.now() - 31 * DAY))).toEqual({ partitions: 0, defaultRows: 0 });
    expect(await historyEpoch()).toBe(epoch + 1);
    // Then exact again: below the cap no cap runs, past it the known count deletes the oldest excess.
    clearCapped();
    expected = await recordOne(service, 'count-old');
    expect(cappedIds().has(id)).toBe(false);
    await expectExact('count-old', expected);
    expect(await rowsOfDevice(id)).toBe(3);
    clearCapped();
    expected = await recordOne(service, 'count-old');
    expect(fastIds()).toEqual(new Set([id]));
    await expectExact('count-old', expected);
    expect(await rowsOfDevice(id)).toBe(3);
  });

  it('pruneDeviceHistory recounts a known count read in an older epoch (retention between the lock and the cap), and trusts a current one', async () => {
    await seed(tc).knownAgents(['count-epoch']);
    const service = connections();
    await record(service, 'count-epoch', KEEP);
    const { id } = await device('count-epoch');
    const ids = await expectExact('count-epoch');
    const epoch = await historyEpoch();
    // An excess of 2, read in an older epoch: the statement recounts instead, and deletes nothing.
    expect(await pruneDeviceHistory(db(), [id], KEEP, { excess: [2], epoch: epoch - 1 })).toBe(0);
    expect(await idsOfDevice(id)).toEqual(ids);
    await expectExact('count-epoch', ids);
    // The same excess in the current epoch is trusted: the 2 oldest go (what a count too high would cost).
    expect(await pruneDeviceHistory(db(), [id], KEEP, { excess: [2], epoch })).toBe(2);
    expect(await idsOfDevice(id)).toEqual(ids.slice(2));
    // Never the row last_connection_id names, whatever the excess.
    expect(await pruneDeviceHistory(db(), [id], KEEP, { excess: [5], epoch })).toBe(0);
    expect(await idsOfDevice(id)).toEqual(ids.slice(2));
    await expect(pruneDeviceHistory(db(), [id], KEEP, { excess: [], epoch })).rejects.toThrow(RangeError);
  });

  it('pruneDeviceHistory caps known and unknown counts in one statement, and recounts a device named both ways', async () => {
    await seed(tc).knownAgents(['mix-known', 'mix-unknown', 'mix-both']);
    const service = connections();
    for (const agent of ['mix-known', 'mix-unknown', 'mix-both']) await record(service, agent, KEEP);
    const [k, u, b] = [await device('mix-known'), await device('mix-unknown'), await device('mix-both')];
    const before = { k: await idsOfDevice(k.id), u: await idsOfDevice(u.id), b: await idsOfDevice(b.id) };
    // Two more rows each, written past the group commit (so past its cap): five rows against a cap of three.
    const at = new Date(Date.now() + offsetMs);
    for (const id of [k.id, u.id, b.id]) {
      await db().execute(sql`insert into connection_results (device_id, at, source, result) select ${id}, ${at.toISOString()}::timestamptz, 'SECURITY_SCANNER', 'AUTHENTICATION_SUCCEEDED' from generate_series(1, 2)`);
    }
    // mix-unknown's count is unknown; mix-both's is stale (3), and it is named once with an excess and once without.
    await db().execute(sql`update devices set history_count = null where id = ${u.id}`);
    const added = { k: (await idsOfDevice(k.id)).slice(KEEP), u: (await idsOfDevice(u.id)).slice(KEEP), b: (await idsOfDevice(b.id)).slice(KEEP) };
    await db().execute(sql`update devices set history_count = ${KEEP + 2} where id = ${k.id}`);
    const epoch = await historyEpoch();
    // Known excess 2 for mix-known; mix-both also with an excess of 1, which would leave it at four rows were it trusted.
    expect(await pruneDeviceHistory(db(), [k.id, u.id, b.id, b.id], KEEP, { excess: [2, null, 1, null], epoch })).toBe(6);
    // Each keeps its newest three; the recounted ones have their count written, the known one kept its own.
    expect(await idsOfDevice(k.id)).toEqual([...before.k, ...added.k].slice(-KEEP));
    expect(await idsOfDevice(u.id)).toEqual([...before.u, ...added.u].slice(-KEEP));
    expect(await idsOfDevice(b.id)).toEqual([...before.b, ...added.b].slice(-KEEP));
    expect((await device('mix-unknown')).historyCount).toBe(KEEP);
    expect((await device('mix-both')).historyCount).toBe(KEEP);
    expect((await device('mix-known')).historyCount).toBe(KEEP + 2);
  });

  it('pruneDeviceHistory writes the count it leaves, whatever the row said (too high or unknown)', async () => {
    await seed(tc).knownAgents(['count-fix-1', 'count-fix-2']);
    const service = connections();
    await record(service, 'count-fix-1', 2);
    await record(service, 'count-fix-2', 2);
    const [a, b] = [await device('count-fix-1'), await device('count-fix-2')];
    await db().execute(sql`update devices set history_count = case when id = ${a.id} then 1000 else null end where id in (${a.id}, ${b.id})`);
    expect(await pruneDeviceHistory(db(), [a.id, b.id], KEEP)).toBe(0);
    await expectExact('count-fix-1');
    await expectExact('count-fix-2');
    expect((await device('count-fix-1')).historyCount).toBe(2);
    expect(await pruneDeviceHistory(db(), [a.id, b.id], 1)).toBe(2);
    expect([await rowsOfDevice(a.id), await rowsOfDevice(b.id)]).toEqual([1, 1]);
    await expectExact('count-fix-1');
    await expectExact('count-fix-2');
  });

  it('unverified attempts move the count by the rows they add and delete, so it stays exact', async () => {
    await seed(tc).knownAgents(['count-unverified']);
    const service = connections();
    await record(service, 'count-unverified', 2);
    const { id } = await device('count-unverified');
    await expectExact('count-unverified');
    const at = new Date();
    const attempt = {
      deviceId: id,
      at,
      source: 'SECURE_CONNECTION' as const,
      result: 'AUTHENTICATION_FAILED' as const,
      failureReason: 'NO_CLIENT_CERTIFICATE' as const,
      agentVersion: null,
      certificateSerialNumber: null,
      certificateNotAfter: null,
      unverifiedReason: 'NO_CLIENT_CERTIFICATE' as const,
      remoteAddress: '192.0.2.9',
    };
    await db().transaction((tx) => recordUnverifiedAttempts(tx, [attempt, { ...attempt }], [{ deviceId: id, count: 7, lastAt: at }], 5));
    expect(await rowsOfDevice(id)).toBe(4);
    expect((await device('count-unverified')).historyCount).toBe(4);
    // Three more, of which the device keeps its newest 2 unverified: 4 + 3 - 3 rows.
    await db().transaction((tx) =>
      recordUnverifiedAttempts(tx, [attempt, { ...attempt }, { ...attempt }], [{ deviceId: id, count: 3, lastAt: at }], 2),
    );
    expect(await rowsOfDevice(id)).toBe(4);
    expect((await device('count-unverified')).historyCount).toBe(4);
    const expected = await idsOfDevice(id);

    clearCapped();
    expected.push(...(await recordOne(service, 'count-unverified')).slice(-1));
    expect(cappedIds()).toEqual(new Set([id]));
    expect(fastIds()).toEqual(new Set([id]));
    await expectExact('count-unverified', expected);
    expect(await rowsOfDevice(id)).toBe(KEEP);
  });

  it('the running core keeps the count equal to the rows, at most CONNECTION_HISTORY_PER_DEVICE', async () => {
    await seed(tc).knownAgents(['count-core']);
    await Promise.all(Array.from({ length: 30 }, () => seed(tc).record('count-core', 'noCertificate')));
    for (let i = 0; i < 75; i++) await seed(tc).record('count-core', 'noCertificate');
    const { id, historyCount, historyCountEpoch } = await device('count-core');
    expect(await rowsOfDevice(id)).toBe(100);
    expect(historyCount).toBe(100);
    expect(historyCountEpoch).toBe(await historyEpoch());
  });
});
