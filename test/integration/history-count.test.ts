import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../../src/db/client.js';
import { getDeviceByAgentId, type DeviceRow } from '../../src/db/device-queries.js';
import { dropHistoryBefore, pruneDeviceHistory, recordUnverifiedAttempts } from '../../src/db/history-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import { createLogger } from '../../src/logger.js';
import { createConnectionService } from '../../src/services/connection-service.js';
import { factsFor, seed } from '../support/seed.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

const DAY = 86_400_000;
const KEEP = 3;

// devices.history_count (drizzle/0011): the group commit caps a device's history only when its count
// passes the cap (or is unknown). The count may be high, never low: every test recounts the rows.
describe('the per-device count of history rows', () => {
  let tc: TestCore;
  let offsetMs = 0;
  /** The devices each group commit of `connections` handed to the cap. */
  const capped: number[][] = [];

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
        pruneHistory: (tx: Tx, ids: number[]) => {
          capped.push([...ids]);
          return pruneDeviceHistory(tx, ids, KEEP);
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

  it('an unknown count (a device from before the column) is counted by the first cap, and none runs below the cap after', async () => {
    await seed(tc).knownAgents(['count-new']);
    const d = await device('count-new');
    expect(d.historyCount).toBeNull();
    const service = connections();
    capped.length = 0;
    await record(service, 'count-new');
    expect(cappedIds()).toEqual(new Set([d.id]));
    expect((await device('count-new')).historyCount).toBe(1);
    expect(await rowsOfDevice(d.id)).toBe(1);

    // Up to the cap: no cap runs, the count follows the rows.
    capped.length = 0;
    await record(service, 'count-new', KEEP - 1);
    expect(cappedIds().has(d.id)).toBe(false);
    expect((await device('count-new')).historyCount).toBe(KEEP);
    expect(await rowsOfDevice(d.id)).toBe(KEEP);
  });

  it('a device at its cap is capped on every result: it keeps exactly `keep` rows, the newest, and its count stays `keep`', async () => {
    const service = connections();
    const { id } = await device('count-new');
    for (let i = 0; i < 3; i++) {
      capped.length = 0;
      await record(service, 'count-new');
      expect(cappedIds()).toEqual(new Set([id]));
      expect(await rowsOfDevice(id)).toBe(KEEP);
      expect((await device('count-new')).historyCount).toBe(KEEP);
    }
    // Several results of the device in one batch: the same.
    await record(service, 'count-new', 5, true);
    await service.idle();
    expect(await rowsOfDevice(id)).toBe(KEEP);
    const row = await device('count-new');
    expect(row.historyCount).toBe(KEEP);
    const newest = rowsOf<{ id: string }>(await db().execute(sql`select max(id)::text as id from connection_results where device_id = ${id}`));
    expect(row.lastConnectionId).toBe(Number(newest[0]!.id));
  });

  it('a count left high (rows dropped by retention) costs one cap, which sets it to the rows there are', async () => {
    offsetMs = -40 * DAY;
    await seed(tc).knownAgents(['count-old']);
    const service = connections();
    await record(service, 'count-old', 2);
    offsetMs = 0;
    await record(service, 'count-old');
    const { id } = await device('count-old');
    expect(await rowsOfDevice(id)).toBe(3);
    expect((await device('count-old')).historyCount).toBe(3);

    // Retention drops the rows of 40 days ago (in the DEFAULT partition or a partition of their own): the count stays.
    await dropHistoryBefore(db(), new Date(Date.now() - 31 * DAY));
    expect(await rowsOfDevice(id)).toBe(1);
    expect((await device('count-old')).historyCount).toBe(3);

    // 3 + 1 passes the cap of 3: the cap runs, deletes nothing (2 rows) and writes the real count.
    capped.length = 0;
    await record(service, 'count-old');
    expect(cappedIds()).toEqual(new Set([id]));
    expect(await rowsOfDevice(id)).toBe(2);
    expect((await device('count-old')).historyCount).toBe(2);
    // And it stays right without caps below the cap.
    capped.length = 0;
    await record(service, 'count-old');
    expect(cappedIds().has(id)).toBe(false);
    expect(await rowsOfDevice(id)).toBe(3);
    expect((await device('count-old')).historyCount).toBe(3);
  });

  it('pruneDeviceHistory writes the count it leaves, whatever the row said (too high or unknown)', async () => {
    await seed(tc).knownAgents(['count-fix-1', 'count-fix-2']);
    const service = connections();
    await record(service, 'count-fix-1', 2);
    await record(service, 'count-fix-2', 2);
    const [a, b] = [await device('count-fix-1'), await device('count-fix-2')];
    await db().execute(sql`update devices set history_count = case when id = ${a.id} then 1000 else null end where id in (${a.id}, ${b.id})`);
    expect(await pruneDeviceHistory(db(), [a.id, b.id], KEEP)).toBe(0);
    expect((await device('count-fix-1')).historyCount).toBe(2);
    expect((await device('count-fix-2')).historyCount).toBe(2);
    expect(await pruneDeviceHistory(db(), [a.id, b.id], 1)).toBe(2);
    expect([await rowsOfDevice(a.id), await rowsOfDevice(b.id)]).toEqual([1, 1]);
    expect((await device('count-fix-1')).historyCount).toBe(1);
    expect((await device('count-fix-2')).historyCount).toBe(1);
  });

  it('unverified attempts add their rows to the count, so the next result caps the device', async () => {
    await seed(tc).knownAgents(['count-unverified']);
    const service = connections();
    await record(service, 'count-unverified', 2);
    const { id } = await device('count-unverified');
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

    capped.length = 0;
    await record(service, 'count-unverified');
    expect(cappedIds()).toEqual(new Set([id]));
    expect(await rowsOfDevice(id)).toBe(KEEP);
    expect((await device('count-unverified')).historyCount).toBe(KEEP);
  });

  it('the running core keeps the count equal to the rows, at most CONNECTION_HISTORY_PER_DEVICE', async () => {
    await seed(tc).knownAgents(['count-core']);
    await Promise.all(Array.from({ length: 30 }, () => seed(tc).record('count-core', 'noCertificate')));
    for (let i = 0; i < 75; i++) await seed(tc).record('count-core', 'noCertificate');
    const { id, historyCount } = await device('count-core');
    expect(await rowsOfDevice(id)).toBe(100);
    expect(historyCount).toBe(100);
  });
});
