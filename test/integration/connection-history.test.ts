import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByAgentId, listConnectionHistories, updateDevice, type DeviceRow } from '../../src/db/device-queries.js';
import {
  dropHistoryBefore,
  historyPartitionDays,
  listHistoryPartitions,
  prepareHistoryPartitions,
  pruneDeviceHistory,
} from '../../src/db/history-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import { createLogger } from '../../src/logger.js';
import { createConnectionService } from '../../src/services/connection-service.js';
import { HISTORY_PRUNE_EVERY_MS } from '../../src/services/maintenance-service.js';
import { DeviceDocument } from '../generated/graphql.js';
import { factsFor, seed } from '../support/seed.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

describe('bounded connection history', () => {
  let tc: TestCore;
  // The core's clock runs this far from real time; results recorded meanwhile carry that time.
  let offsetMs = 0;

  beforeAll(async () => {
    tc = await startTestCore({
      // No timer-driven round during the file: each test runs the rounds it needs.
      env: { CONNECTION_HISTORY_DAYS: '30', SWEEP_INTERVAL_MS: '3600000' },
      clock: () => new Date(Date.now() + offsetMs),
    });
  });
  afterAll(async () => tc?.close());

  const db = () => tc.core.database.db;
  const now = () => new Date(Date.now() + offsetMs);
  const drops = () => tc.queries.filter((q) => q.includes('certfleet_drop_connection_history')).length;
  const dayOf = (d: Date) => Math.floor(d.getTime() / DAY) * DAY;
  /** whereAre names the partition that holds each given history id (by the table's own routing). */
  async function whereAre(ids: number[]): Promise<string[]> {
    const rows = rowsOf<{ id: string; part: string }>(
      await db().execute(sql`select id::text, tableoid::regclass::text as part from connection_results where id = any(${`{${ids.join(',')}}`}::bigint[]) order by id`),
    );
    return rows.map((r) => r.part);
  }

  /** record records `times` results for an agent, one after another, at the core's current time. */
  async function record(agentId: string, times = 1): Promise<void> {
    for (let i = 0; i < times; i++) await seed(tc).record(agentId, 'noCertificate');
  }

  async function device(agentId: string): Promise<DeviceRow> {
    const row = await getDeviceByAgentId(db(), agentId);
    if (!row) throw new Error(`no device for ${agentId}`);
    return row;
  }

  /** historyIds lists a device's history ids, newest first. */
  async function historyIds(agentId: string): Promise<number[]> {
    const { id } = await device(agentId);
    const rows = (await listConnectionHistories(db(), [id], { limit: 10_000, order: 'desc' })).get(id)!;
    return rows.map((r) => r.id);
  }

  // The tests share one timeline that only moves forward, as a real clock does: ids grow with time.

  it('an attempt far in the future or the past lands in the default partition, and moves into its partition once made', async () => {
    offsetMs = 400 * DAY;
    await record('skewed-future');
    offsetMs = -400 * DAY;
    await record('skewed-past');
    offsetMs = 0;
    const [future] = await historyIds('skewed-future');
    const [past] = await historyIds('skewed-past');
    expect(await whereAre([future!, past!])).toEqual(['connection_results_default', 'connection_results_default']);

    // Preparing the future day moves its row out of DEFAULT into the new partition; ids and rows unchanged.
    const futureDay = new Date(dayOf(new Date(Date.now() + 400 * DAY)));
    const rowBefore = (await listConnectionHistories(db(), [(await device('skewed-future')).id], { limit: 5, order: 'desc' })).values().next().value;
    expect(await prepareHistoryPartitions(db(), futureDay, new Date(futureDay.getTime() + DAY), 1)).toBe(1);
    expect(await whereAre([future!])).toEqual([`connection_results_p${futureDay.toISOString().slice(0, 10).replaceAll('-', '')}`]);
    const rowAfter = (await listConnectionHistories(db(), [(await device('skewed-future')).id], { limit: 5, order: 'desc' })).values().next().value;
    expect(rowAfter).toEqual(rowBefore);
    // Nothing left to make: a second call creates none.
    expect(await prepareHistoryPartitions(db(), futureDay, new Date(futureDay.getTime() + DAY), 1)).toBe(0);
    // That far partition would keep the next round from filling the days before it: drop it again.
    await db().execute(sql.raw(`drop table connection_results_p${futureDay.toISOString().slice(0, 10).replaceAll('-', '')}`));
    // Refused: a partition length out of range.
    await expect(prepareHistoryPartitions(db(), futureDay, new Date(futureDay.getTime() + DAY), 0)).rejects.toThrow();
  });

  it('a maintenance round drops the partitions older than CONNECTION_HISTORY_DAYS and nothing younger; the device rows keep the last attempt', async () => {
    // Partitions for the past the timeline is about to write into (the migration made only today onwards).
    const start = new Date(dayOf(new Date(Date.now() - 100 * DAY)));
    expect(await prepareHistoryPartitions(db(), start, new Date(), 1)).toBeGreaterThanOrEqual(99);
    offsetMs = -100 * DAY;
    await record('age-busy', 3);
    await record('age-silent', 2);
    offsetMs = -70 * DAY;
    await record('age-busy', 2);
    offsetMs = -60 * DAY;
    const busyBefore = await historyIds('age-busy');
    const devicesBefore = [await device('age-busy'), await device('age-silent')];
    const partsBefore = await listHistoryPartitions(db());
    // The round's cutoff is 30 days before its clock: 90 days before real time.
    const cutoff = now().getTime() - 30 * DAY;

    expect(await tc.core.services.maintenance.runOnce()).toBe(true);

    const partsAfter = await listHistoryPartitions(db());
    const gone = partsBefore.filter((p) => !partsAfter.some((q) => q.name === p.name));
    // Every partition that ended by the cutoff went, and only those: one that straddles it stays whole.
    expect(gone.length).toBeGreaterThanOrEqual(9);
    expect(gone.every((p) => p.upper.getTime() <= cutoff)).toBe(true);
    expect(partsAfter.every((p) => p.upper.getTime() > cutoff)).toBe(true);
    expect(partsAfter[0]!.lower.getTime()).toBeLessThanOrEqual(cutoff);
    // The busy device's results from 40 days before the round are gone; the two from 10 days before stay.
    expect(await historyIds('age-busy')).toEqual(busyBefore.slice(0, 2));
    // The silent device's history is empty: retention drops whole days, its newest attempt included.
    expect(await historyIds('age-silent')).toEqual([]);
    // Device rows are not touched: status and last_* (the last attempt) as before.
    expect([await device('age-busy'), await device('age-silent')]).toEqual(devicesBefore);
    expect(tc.logs.some((l) => /connection history older than 30 days deleted: \d+ partition\(s\) dropped/.test(l))).toBe(true);

    // The API: the silent device still shows its last attempt (from its row), with an empty history.
    const token = await tc.token('viewer', ['VIEWER']);
    const silent = await tc.gql(DeviceDocument, { id: String(devicesBefore[1]!.id), historyFirst: 5 }, token);
    expect(silent.errors).toBeUndefined();
    expect(silent.data?.device?.connectionHistory.edges).toHaveLength(0);
    expect(silent.data?.device?.connectionHistory.pageInfo.hasNextPage).toBe(false);
    expect(silent.data?.device?.lastConnection?.result).toBe('AUTHENTICATION_FAILED');
    expect(silent.data?.device?.lastConnection?.at).toBe(devicesBefore[1]!.lastAttemptAt!.toISOString());
    // Paging goes on from a cursor as before, across partitions.
    const busyId = String(devicesBefore[0]!.id);
    const firstPage = await tc.gql(DeviceDocument, { id: busyId, historyFirst: 1 }, token);
    expect(firstPage.data?.device?.connectionHistory.pageInfo.hasNextPage).toBe(true);
    const rest = await tc.gql(
      DeviceDocument,
      { id: busyId, historyFirst: 5, historyAfter: firstPage.data?.device?.connectionHistory.pageInfo.endCursor },
      token,
    );
    expect(rest.errors).toBeUndefined();
    expect(rest.data?.device?.connectionHistory.edges).toHaveLength(1);
    expect(rest.data?.device?.connectionHistory.pageInfo.hasNextPage).toBe(false);

    // Rows in DEFAULT older than the cutoff are deleted too (here: the skewed past attempt, 400 days old).
    expect(await historyIds('skewed-past')).toEqual([]);

    // The round moved the history epoch on (drizzle/0012): the busy device's count (5, from before
    // it) is unknown now, and its next result through the running core recounts it: 2 + 1, exact.
    const epoch = async () =>
      Number(rowsOf<{ e: string }>(await db().execute(sql`select history_epoch::text as e from core_settings where id = 1`))[0]!.e);
    expect(devicesBefore[0]!.historyCount).toBe(5);
    expect(devicesBefore[0]!.historyCountEpoch).toBeLessThan(await epoch());
    await record('age-busy');
    const busyAfter = await device('age-busy');
    expect(await historyIds('age-busy')).toEqual([busyAfter.lastConnectionId, ...busyBefore.slice(0, 2)]);
    expect(busyAfter.historyCount).toBe(3);
    expect(busyAfter.historyCountEpoch).toBe(await epoch());
  });

  it('looks at the partitions at most once per interval, whatever the sweep interval', async () => {
    const before = drops();
    await tc.core.services.maintenance.runOnce();
    expect(drops()).toBe(before);
    offsetMs += HISTORY_PRUNE_EVERY_MS + MINUTE;
    await tc.core.services.maintenance.runOnce();
    expect(drops()).toBeGreaterThan(before);
  });

  it('dropHistoryBefore drops nothing younger than its cutoff, and again nothing on a second call', async () => {
    const parts = await listHistoryPartitions(db());
    const cutoff = new Date(parts[0]!.upper.getTime() - 1);
    expect(await dropHistoryBefore(db(), cutoff)).toEqual({ partitions: 0, defaultRows: 0 });
    expect(await listHistoryPartitions(db())).toEqual(parts);
  });

  it('pruneDeviceHistory keeps exactly the newest `keep` results of each given device, in one statement, and leaves other devices alone', async () => {
    offsetMs = -50 * DAY;
    await record('cap-1', 6);
    await record('cap-2', 4);
    await record('cap-3', 5);
    const [one, two, three] = [await historyIds('cap-1'), await historyIds('cap-2'), await historyIds('cap-3')];
    const devicesBefore = [await device('cap-1'), await device('cap-2'), await device('cap-3')];
    const ids = devicesBefore.map((d) => d.id);

    const statements = tc.queries.length;
    expect(await pruneDeviceHistory(db(), [ids[0]!, ids[1]!], 3)).toBe(3 + 1);
    // One statement does the work; the SET before it only tells the server to plan it for its values.
    const sent = tc.queries.slice(statements);
    expect(sent.filter((q) => !/^set local plan_cache_mode = force_custom_plan$/.test(q))).toHaveLength(1);
    expect(sent).toHaveLength(2);

    expect(await historyIds('cap-1')).toEqual(one.slice(0, 3));
    expect(await historyIds('cap-2')).toEqual(two.slice(0, 3));
    expect(await historyIds('cap-3')).toEqual(three);
    // The newest of each is the one its device row points at, and the device rows are untouched
    // but for the count of results the capped ones keep (history_count, drizzle/0011).
    expect(devicesBefore.map((d) => d.lastConnectionId)).toEqual([one[0], two[0], three[0]]);
    expect(devicesBefore.map((d) => d.historyCount)).toEqual([6, 4, 5]);
    expect([await device('cap-1'), await device('cap-2'), await device('cap-3')]).toEqual(
      devicesBefore.map((d, i) => (i < 2 ? { ...d, historyCount: 3 } : d)),
    );

    // A device given twice is pruned once.
    expect(await pruneDeviceHistory(db(), [ids[0]!, ids[1]!, ids[1]!], 1)).toBe(2 + 2);
    expect(await historyIds('cap-1')).toEqual([one[0]]);
    expect(await historyIds('cap-2')).toEqual([two[0]]);
    expect(await pruneDeviceHistory(db(), [], 1)).toBe(0);
    await expect(pruneDeviceHistory(db(), ids, 0)).rejects.toThrow(RangeError);
  });

  it('the per-device cap does not delete the result a device row points at, even when it is not the newest by id', async () => {
    offsetMs = -45 * DAY;
    await record('pointer', 3);
    const [newest, , oldest] = await historyIds('pointer');
    const { id } = await device('pointer');
    // Not a state the connection service writes (a bulk import might); the cap holds even so.
    await updateDevice(db(), id, { lastConnectionId: oldest! });
    expect(await pruneDeviceHistory(db(), [id], 1)).toBe(1);
    expect(await historyIds('pointer')).toEqual([newest, oldest]);
  });

  it('bounds each device inside the group-commit transaction that records its results', async () => {
    const connections = createConnectionService({
      db: db(),
      bus: tc.core.bus,
      clock: () => new Date(),
      log: createLogger('silent'),
      groupCommit: { pruneHistory: (tx, deviceIds) => pruneDeviceHistory(tx, deviceIds, 2) },
    });
    const agents = ['burst-1', 'burst-2', 'burst-3'];
    await seed(tc).knownAgents(agents);
    // Handed in at once: the service writes them in a few batches, each pruning its devices.
    await Promise.all(
      Array.from({ length: 5 }, () =>
        agents.map((agentId) =>
          connections.recordConnectionResult({ source: 'SECURITY_SCANNER', agentId, ...factsFor('succeeded', agentId) }),
        ),
      ).flat(),
    );
    await connections.idle();
    for (const agentId of agents) {
      const ids = await historyIds(agentId);
      expect(ids).toHaveLength(2);
      expect((await device(agentId)).lastConnectionId).toBe(ids[0]);
    }
  });
  it('the running core keeps at most CONNECTION_HISTORY_PER_DEVICE results a device (default 100)', async () => {
    expect(tc.config.connectionHistoryPerDevice).toBe(100);
    await seed(tc).knownAgents(['chatty-1']);
    // Half at once (batched), half one by one: both paths go through the same transaction.
    await Promise.all(Array.from({ length: 60 }, () => record('chatty-1')));
    await record('chatty-1', 50);
    const ids = await historyIds('chatty-1');
    expect(ids).toHaveLength(100);
    expect((await device('chatty-1')).lastConnectionId).toBe(ids[0]);
  });

  it('the migration made daily partitions from today to a few days ahead, and a round keeps them ahead (last: it moves the clock on)', async () => {
    const today = dayOf(new Date());
    const parts = await listHistoryPartitions(db());
    const ahead = parts.filter((p) => p.upper.getTime() > today);
    // Today and at least three days after it, each a whole UTC day, one after another.
    expect(ahead.length).toBeGreaterThanOrEqual(4);
    expect(ahead[0]!.lower.getTime()).toBeLessThanOrEqual(today);
    for (const [i, p] of ahead.entries()) {
      expect(p.upper.getTime() - p.lower.getTime()).toBe(DAY);
      if (i > 0) expect(p.lower).toEqual(ahead[i - 1]!.upper);
      expect(p.name).toBe(`connection_results_p${p.lower.toISOString().slice(0, 10).replaceAll('-', '')}`);
    }
    // Ten days on, a round makes what is missing from its today to three days past it, and drops nothing young.
    offsetMs = 10 * DAY;
    try {
      await tc.core.services.maintenance.runOnce();
      const after = await listHistoryPartitions(db());
      expect(after.at(-1)!.upper.getTime()).toBeGreaterThanOrEqual(dayOf(now()) + 4 * DAY);
      // From its today on, in partitions of historyPartitionDays(30) = 3 days, one after another;
      // the days it skipped (no round ran) stay with DEFAULT.
      const made = after.filter((p) => p.lower.getTime() >= dayOf(now()));
      expect(historyPartitionDays(30)).toBe(3);
      expect(made.map((p) => [p.lower.getTime() - dayOf(now()), p.upper.getTime() - dayOf(now())])).toEqual([
        [0, 3 * DAY],
        [3 * DAY, 6 * DAY],
      ]);
      expect(after.some((p) => p.lower.getTime() === dayOf(now()) - DAY)).toBe(false);
      // It dropped the partitions that ended 30 days before its clock, and none after.
      const cutoff = now().getTime() - 30 * DAY;
      const young = parts.filter((p) => p.upper.getTime() > cutoff).map((p) => p.name);
      expect(after.filter((p) => p.upper.getTime() <= now().getTime()).map((p) => p.name)).toEqual(young);
    } finally {
      offsetMs = 0;
    }
  });
});
