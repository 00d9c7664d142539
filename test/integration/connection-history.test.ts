import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByAgentId, listConnectionHistories, updateDevice, type DeviceRow } from '../../src/db/device-queries.js';
import { pruneDeviceHistory, pruneHistoryOlderThan } from '../../src/db/history-queries.js';
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
  const walks = () => tc.queries.filter((q) => q.includes('with examined as')).length;

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

  it('pruneHistoryOlderThan deletes in batches, one statement per batch, until a batch holds nothing old', async () => {
    offsetMs = -200 * DAY;
    await record('batch-a', 4);
    await record('batch-b', 3);
    offsetMs = -150 * DAY;
    await record('batch-a', 2);
    const aBefore = await historyIds('batch-a');
    const bBefore = await historyIds('batch-b');

    const before = walks();
    expect(await pruneHistoryOlderThan(db(), new Date(now().getTime() - 20 * DAY), 2)).toBe(4 + 2);
    // 9 rows, 2 per statement: the walk goes on while a batch is full and holds something old.
    expect(walks() - before).toBe(5);
    expect(await historyIds('batch-a')).toEqual(aBefore.slice(0, 2));
    // batch-b's results are all old, but its newest is what its device row points at.
    expect(await historyIds('batch-b')).toEqual([bBefore[0]]);

    // Nothing more to delete: one statement finds that out.
    const again = walks();
    expect(await pruneHistoryOlderThan(db(), new Date(now().getTime() - 20 * DAY), 10_000)).toBe(0);
    expect(walks() - again).toBe(1);
  });

  it('a maintenance round deletes results older than CONNECTION_HISTORY_DAYS, keeping newer ones and each device\'s newest', async () => {
    offsetMs = -100 * DAY;
    await record('age-busy', 3);
    await record('age-silent', 2);
    offsetMs = -70 * DAY;
    await record('age-busy', 2);
    offsetMs = -60 * DAY;
    const busyBefore = await historyIds('age-busy');
    const silentBefore = await historyIds('age-silent');
    const devicesBefore = [await device('age-busy'), await device('age-silent')];

    await tc.core.services.maintenance.runOnce();

    // The busy device's results from 40 days before the round are gone; the two from 10 days before stay.
    expect(await historyIds('age-busy')).toEqual(busyBefore.slice(0, 2));
    // The silent device's newest result is old too, but it is what its row points at: it stays.
    expect(await historyIds('age-silent')).toEqual([silentBefore[0]]);
    // Device rows are not touched: status and last_* as before.
    expect([await device('age-busy'), await device('age-silent')]).toEqual(devicesBefore);
    expect(tc.logs.some((l) => l.includes('connection result(s) older than 30 days deleted'))).toBe(true);

    // The history field reads the pruned table: the silent device still shows its last attempt.
    const token = await tc.token('viewer', ['VIEWER']);
    const silent = await tc.gql(DeviceDocument, { id: String(devicesBefore[1]!.id), historyFirst: 5 }, token);
    expect(silent.errors).toBeUndefined();
    expect(silent.data?.device?.connectionHistory.edges).toHaveLength(1);
    expect(silent.data?.device?.connectionHistory.pageInfo.hasNextPage).toBe(false);
    expect(silent.data?.device?.lastConnection?.result).toBe('AUTHENTICATION_FAILED');
    // Paging goes on from a cursor as before.
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
  });

  it('walks the history at most once per interval, whatever the sweep interval', async () => {
    const before = walks();
    await tc.core.services.maintenance.runOnce();
    expect(walks()).toBe(before);
    offsetMs += HISTORY_PRUNE_EVERY_MS + MINUTE;
    await tc.core.services.maintenance.runOnce();
    expect(walks()).toBeGreaterThan(before);
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
    expect(tc.queries.length - statements).toBe(1);

    expect(await historyIds('cap-1')).toEqual(one.slice(0, 3));
    expect(await historyIds('cap-2')).toEqual(two.slice(0, 3));
    expect(await historyIds('cap-3')).toEqual(three);
    // The newest of each is the one its device row points at, and the device rows are untouched.
    expect(devicesBefore.map((d) => d.lastConnectionId)).toEqual([one[0], two[0], three[0]]);
    expect([await device('cap-1'), await device('cap-2'), await device('cap-3')]).toEqual(devicesBefore);

    // A device given twice is pruned once.
    expect(await pruneDeviceHistory(db(), [ids[0]!, ids[1]!, ids[1]!], 1)).toBe(2 + 2);
    expect(await historyIds('cap-1')).toEqual([one[0]]);
    expect(await historyIds('cap-2')).toEqual([two[0]]);
    expect(await pruneDeviceHistory(db(), [], 1)).toBe(0);
    await expect(pruneDeviceHistory(db(), ids, 0)).rejects.toThrow(RangeError);
  });

  it('neither prune deletes the result a device row points at, even when it is not the newest by id', async () => {
    offsetMs = -45 * DAY;
    await record('pointer', 3);
    const [newest, , oldest] = await historyIds('pointer');
    const { id } = await device('pointer');
    // Not a state the connection service writes (a bulk import might); the prunes hold even so.
    await updateDevice(db(), id, { lastConnectionId: oldest! });
    expect(await pruneDeviceHistory(db(), [id], 1)).toBe(1);
    expect(await historyIds('pointer')).toEqual([newest, oldest]);
    await pruneHistoryOlderThan(db(), new Date(now().getTime() + MINUTE), 10_000);
    expect(await historyIds('pointer')).toEqual([oldest]);
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
});
