import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../src/db/client.js';
import { rowsOf } from '../../../src/db/rows.js';
import type { UnverifiedReason } from '../../../src/domain/statuses.js';
import { createDeviceService } from '../../../src/services/device-service.js';
import { createUnverifiedAttemptLog, type UnverifiedAttempt } from '../../../src/services/unverified-attempts.js';
import { openTestDb, type TestDb } from '../../support/test-db.js';
import { logsWith } from '../../support/logs.js';

const FLUSH_MS = 1_000;
const AUDIT_MS = 60_000;

interface Summary {
  since: string;
  until: string;
  attempts: number;
  devices: { agentId: string; attempts: number; reasons: string[]; addresses: string[] }[];
  attemptsOnOtherDevices: number;
  unknownAgentIds: { attempts: number; sample: string[]; addresses: string[] };
}

describe('unverified attempts: gathered in memory, written in bounded batches', () => {
  let t: TestDb;
  let deviceIds: Map<string, number>;
  let now = Date.parse('2030-06-01T00:00:00.000Z');
  let transactions = 0;
  let failNext = false;
  let deps: ReturnType<TestDb['deps']>;

  beforeAll(async () => {
    t = await openTestDb();
    const plain = t.deps();
    const agents = Array.from({ length: 30 }, (_, i) => `victim-${i}`);
    const made = await createDeviceService(plain).registerDevices(
      { subject: 'seed', roles: ['SECURITY_ADMIN'] },
      agents.map((agentId) => ({ name: agentId.toUpperCase(), agentId })),
    );
    deviceIds = new Map(made.map((d) => [d.agentId!, d.dbId]));
    // Every write of the log is one transaction: count them, and make one fail on demand.
    const real = plain.db;
    const db = new Proxy(real, {
      get(target, prop) {
        if (prop === 'transaction') {
          return (fn: Parameters<Db['transaction']>[0]) => {
            transactions++;
            if (failNext) {
              failNext = false;
              return Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
            }
            return real.transaction(fn);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Db;
    deps = { ...t.deps(() => new Date(now)), db };
  });
  afterAll(async () => t?.close());

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    transactions = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const attempt = (agentId: string, over: { reason?: UnverifiedReason; address?: string | null; at?: number } = {}): UnverifiedAttempt => ({
    agentId,
    deviceId: deviceIds.get(agentId)!,
    at: new Date(over.at ?? now),
    source: 'SECURE_CONNECTION',
    result: 'AUTHENTICATION_FAILED',
    failureReason: 'NO_CLIENT_CERTIFICATE',
    agentVersion: '2024.3',
    certificateSerialNumber: null,
    certificateNotAfter: null,
    unverifiedReason: over.reason ?? 'NO_CLIENT_CERTIFICATE',
    remoteAddress: over.address === undefined ? '198.51.100.7' : over.address,
  });
  const deviceOf = async (agentId: string) =>
    rowsOf<{ n: number; last: Date | string | null; rows: number }>(
      await t.database.db.execute(sql`
        select d.unverified_attempts::int as n, d.last_unverified_at as last,
          (select count(*)::int from connection_results c where c.device_id = d.id and not c.verified) as rows
        from devices d where d.agent_id = ${agentId}`),
    )[0]!;
  const summaries = async (): Promise<Summary[]> =>
    rowsOf<{ details: string }>(
      await t.database.db.execute(sql`select details from audit_events where action = 'agent.unverifiedAttempts' order by id`),
    ).map((r) => JSON.parse(r.details) as Summary);
  // Fires the pending flush timer, if it is due, and waits for the write it started.
  const tick = async (log: ReturnType<typeof createUnverifiedAttemptLog>, ms: number) => {
    vi.advanceTimersByTime(ms);
    await log.flush();
  };

  it('writes nothing until FLUSH_MS has passed, then all that gathered in one transaction; note returns at once', async () => {
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS, keepPerDevice: 5 });
    for (let i = 0; i < 60; i++) log.note(attempt(`victim-${i % 3}`, { at: now + i }));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(FLUSH_MS - 1);
    expect(transactions).toBe(0);
    await tick(log, 1);
    expect(transactions).toBe(1);
    for (const id of ['victim-0', 'victim-1', 'victim-2']) {
      const d = await deviceOf(id);
      expect(d.n).toBe(20);
      // The count holds every attempt; the history only the newest keepPerDevice.
      expect(d.rows).toBe(5);
    }
    expect(new Date((await deviceOf('victim-2')).last!).getTime()).toBe(now + 59);
    expect(log.totals()).toEqual({ unverified: 60, unknownAgent: 0 });
    await log.stop();
  });

  it('a flood across several flush periods costs one transaction per period, not one per attempt', async () => {
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS });
    const before = (await deviceOf('victim-3')).n;
    for (let period = 0; period < 4; period++) {
      for (let i = 0; i < 25; i++) log.note(attempt('victim-3'));
      await tick(log, FLUSH_MS);
    }
    expect(transactions).toBe(4);
    expect((await deviceOf('victim-3')).n).toBe(before + 100);
    await log.stop();
  });

  it('sends at most one audit summary per AUDIT_MS; attempts in between wait for the next one, none lost', async () => {
    const before = (await summaries()).length;
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS });
    log.note(attempt('victim-4'));
    await tick(log, FLUSH_MS);
    let all = await summaries();
    // The first attempt after a quiet spell goes out with the next flush.
    expect(all.length - before).toBe(1);
    expect(all.at(-1)).toMatchObject({ attempts: 1, devices: [{ agentId: 'victim-4', attempts: 1 }] });

    for (let s = 1; s <= 5; s++) {
      now += 10_000;
      log.note(attempt('victim-4'));
      log.noteUnknownAgent({ agentId: `ghost-${s}`, remoteAddress: '203.0.113.9', at: new Date(now) });
      await tick(log, FLUSH_MS);
    }
    expect((await summaries()).length - before).toBe(1);
    expect((await deviceOf('victim-4')).n).toBe(6);

    now += 10_000; // 60 s after the first summary
    await log.flush();
    all = await summaries();
    expect(all.length - before).toBe(2);
    expect(all.at(-1)).toMatchObject({
      attempts: 5,
      devices: [{ agentId: 'victim-4', attempts: 5, reasons: ['NO_CLIENT_CERTIFICATE'], addresses: ['198.51.100.7'] }],
      unknownAgentIds: { attempts: 5, sample: ['ghost-1', 'ghost-2', 'ghost-3', 'ghost-4', 'ghost-5'], addresses: ['203.0.113.9'] },
    });
    expect(Date.parse(all.at(-1)!.until) - Date.parse(all.at(-1)!.since)).toBe(50_000);
    await log.stop();
  });

  it('bounds what a summary names: 20 devices (the rest counted), 5 unknown ids, 3 addresses per device', async () => {
    const before = (await summaries()).length;
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS });
    for (let i = 0; i < 25; i++) log.note(attempt(`victim-${i}`, { reason: i % 2 ? 'UNKNOWN_KEY' : 'UNAPPROVED_KEY' }));
    for (let a = 0; a < 6; a++) log.note(attempt('victim-0', { address: `192.0.2.${a}` }));
    for (let g = 0; g < 9; g++) log.noteUnknownAgent({ agentId: `stranger-${g}`, remoteAddress: `203.0.113.${g}`, at: new Date(now) });
    await log.stop();
    const [s] = (await summaries()).slice(before);
    expect(s!.attempts).toBe(31);
    expect(s!.devices).toHaveLength(20);
    expect(s!.attemptsOnOtherDevices).toBe(5);
    const first = s!.devices.find((d) => d.agentId === 'victim-0')!;
    expect(first).toMatchObject({ attempts: 7, reasons: ['NO_CLIENT_CERTIFICATE', 'UNAPPROVED_KEY'] });
    expect(first.addresses).toEqual(['198.51.100.7', '192.0.2.0', '192.0.2.1']);
    expect(s!.unknownAgentIds).toMatchObject({ attempts: 9 });
    expect(s!.unknownAgentIds.sample).toHaveLength(5);
    expect(s!.unknownAgentIds.addresses).toHaveLength(5);
  });

  it('gathers at most maxDevicesPerFlush devices per flush; further devices are only counted in the summary', async () => {
    const before = { a: (await deviceOf('victim-10')).n, b: (await deviceOf('victim-11')).n, c: (await deviceOf('victim-12')).n };
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS, maxDevicesPerFlush: 2 });
    for (const id of ['victim-10', 'victim-11', 'victim-12']) log.note(attempt(id));
    log.note(attempt('victim-10'));
    await log.stop();
    expect((await deviceOf('victim-10')).n).toBe(before.a + 2);
    expect((await deviceOf('victim-11')).n).toBe(before.b + 1);
    expect((await deviceOf('victim-12')).n).toBe(before.c);
    expect((await summaries()).at(-1)).toMatchObject({ attempts: 4 });
  });

  it('keeps the counts (and the summary) of a write the database refused, and writes them with the next flush', async () => {
    const before = (await deviceOf('victim-20')).n;
    const summariesBefore = (await summaries()).length;
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS });
    for (let i = 0; i < 7; i++) log.note(attempt('victim-20'));
    failNext = true;
    await tick(log, FLUSH_MS);
    expect(transactions).toBe(1);
    expect((await deviceOf('victim-20')).n).toBe(before);
    expect(logsWith(deps.logs, 'keeping their counts', 'warn')).toHaveLength(1);
    // The retry is scheduled by itself.
    expect(vi.getTimerCount()).toBe(1);
    log.note(attempt('victim-20'));
    await tick(log, FLUSH_MS);
    expect(transactions).toBe(2);
    expect((await deviceOf('victim-20')).n).toBe(before + 8);
    const written = (await summaries()).slice(summariesBefore);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ attempts: 8 });
    await log.stop();
  });

  it('stop writes what is left at once, the summary too, and leaves no timer behind', async () => {
    const before = (await summaries()).length;
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS });
    log.note(attempt('victim-25'));
    await log.flush(); // the first summary goes out; a second is not due for AUDIT_MS
    log.note(attempt('victim-25'));
    log.noteUnknownAgent({ agentId: 'late-ghost', remoteAddress: null, at: new Date(now) });
    await log.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect((await summaries()).length - before).toBe(2);
    expect((await deviceOf('victim-25')).n).toBe(2);
    // After stop nothing is scheduled any more.
    log.note(attempt('victim-25'));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a flush called while one is under way also writes what gathered after that one started', async () => {
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS });
    const before = (await deviceOf('victim-4')).n;
    for (let i = 0; i < 10; i++) log.note(attempt('victim-4'));
    // The timer's flush starts and takes the first 10; 5 more arrive while it writes.
    vi.advanceTimersByTime(FLUSH_MS);
    for (let i = 0; i < 5; i++) log.note(attempt('victim-4'));
    await log.flush();
    expect((await deviceOf('victim-4')).n).toBe(before + 15);
    expect(transactions).toBe(2);
    await log.stop();
  });

  it('a flush with nothing gathered writes nothing', async () => {
    const log = createUnverifiedAttemptLog(deps, { flushMs: FLUSH_MS, auditIntervalMs: AUDIT_MS });
    await log.flush();
    await log.stop();
    expect(transactions).toBe(0);
  });
});
