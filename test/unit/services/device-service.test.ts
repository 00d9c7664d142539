import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/client.js';
import { getCountersAndSwitch } from '../../../src/db/counter-queries.js';
import { rowsOf } from '../../../src/db/rows.js';
import type { AuthStatus, FailureReason } from '../../../src/domain/statuses.js';
import { createInProcessEventBus } from '../../../src/events/bus.js';
import { createLogger } from '../../../src/logger.js';
import type { Caller } from '../../../src/services/caller.js';
import { createDeviceService, MAX_DEVICES_PER_IMPORT, type DeviceInput } from '../../../src/services/device-service.js';
import { encodeCursor } from '../../../src/services/pagination.js';
import { openTestDb, type TestDb } from '../../support/test-db.js';

const admin: Caller = { subject: 'alice', roles: ['SECURITY_ADMIN'] };
const viewer: Caller = { subject: 'victor', roles: ['VIEWER'] };

// A database that fails the test if anything reaches it: the checks must all come first.
const untouchable = new Proxy({}, {
  get(_t, prop) {
    throw new Error(`the database was used (${String(prop)}) before the input was checked`);
  },
}) as Db;
const checkedOnly = createDeviceService({
  db: untouchable,
  bus: createInProcessEventBus(() => {}),
  clock: () => new Date(),
  log: createLogger('silent'),
});

async function refusal(run: () => Promise<unknown>): Promise<{ code?: string; argument?: unknown; message: string }> {
  const err = (await run().then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  )) as { code?: string; extensions?: { argument?: unknown }; message: string };
  return { code: err.code, argument: err.extensions?.argument, message: err.message };
}

describe('listDevices: arguments are checked before any query', () => {
  it.each([
    { name: 'first 0', args: { first: 0 }, argument: 'first', message: /between 1 and 500 \(got 0\)/ },
    { name: 'first 501', args: { first: 501 }, argument: 'first', message: /got 501/ },
    { name: 'first 1.5', args: { first: 1.5 }, argument: 'first', message: /got 1.5/ },
    { name: 'first NaN', args: { first: Number.NaN }, argument: 'first', message: /got NaN/ },
    { name: 'after: a cursor of another list', args: { first: 10, after: encodeCursor('attempt', 5) }, argument: 'after', message: /not a cursor from this list/ },
    { name: 'after: not a cursor', args: { first: 10, after: 'bm90IGEgY3Vyc29y' }, argument: 'after', message: /not a cursor/ },
    { name: 'last 0', args: { last: 0 }, argument: 'last', message: /last must be between 1 and 500 \(got 0\)/ },
    { name: 'before: a cursor of another list', args: { last: 10, before: encodeCursor('request', 5) }, argument: 'before', message: /^before is not a cursor from this list/ },
    { name: 'first with last', args: { first: 10, last: 10 }, argument: 'last', message: /^first and last cannot be used together/ },
    { name: 'after with before', args: { after: encodeCursor('device', 1), before: encodeCursor('device', 9) }, argument: 'before', message: /^after and before cannot/ },
    {
      name: 'an unknown status in the filter',
      args: { first: 10, filter: { authStatus: ['AUTHENTICATION_FAILED', 'NOPE'] as AuthStatus[] } },
      argument: 'filter.authStatus',
      message: /unknown status NOPE/,
    },
    {
      name: 'an unknown failure reason in the filter',
      args: { first: 10, filter: { failureReasons: ['NO_CLIENT_CERTIFICATE', 'NOPE'] as FailureReason[] } },
      argument: 'filter.failureReasons',
      message: /unknown failure reason NOPE/,
    },
    { name: 'a search of 256 characters', args: { first: 10, filter: { search: 's'.repeat(256) } }, argument: 'filter.search', message: /longer than 255/ },
    { name: 'a search with a line feed', args: { first: 10, filter: { search: 'ws\n01' } }, argument: 'filter.search', message: /control characters/ },
    { name: 'a search with a bidi override', args: { first: 10, filter: { search: 'ws\u202e01' } }, argument: 'filter.search', message: /bidirectional/ },
  ])('$name is BAD_USER_INPUT naming $argument', async ({ args, argument, message }) => {
    const r = await refusal(() => checkedOnly.listDevices(viewer, args));
    expect(r).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(r.message).toMatch(message);
  });

  it('a caller without a role is FORBIDDEN before anything else', async () => {
    expect(await refusal(() => checkedOnly.listDevices({ subject: 'x', roles: [] }, { first: 0 }))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('checkHistoryPage takes the same page sizes both ways, only cursors of a history, and 20 by default', () => {
    expect(checkedOnly.checkHistoryPage({ first: 500, after: encodeCursor('attempt', 7) })).toEqual({ backward: false, size: 500, cursorId: 7 });
    expect(checkedOnly.checkHistoryPage({ first: 1 })).toEqual({ backward: false, size: 1, cursorId: undefined });
    expect(checkedOnly.checkHistoryPage({})).toEqual({ backward: false, size: 20, cursorId: undefined });
    expect(checkedOnly.checkHistoryPage({ before: encodeCursor('attempt', 7) })).toEqual({ backward: true, size: 20, cursorId: 7 });
    expect(checkedOnly.checkHistoryPage({ last: 3 })).toEqual({ backward: true, size: 3, cursorId: undefined });
    expect(() => checkedOnly.checkHistoryPage({ first: 501 })).toThrow(/first must be between 1 and 500/);
    expect(() => checkedOnly.checkHistoryPage({ last: 501 })).toThrow(/last must be between 1 and 500/);
    expect(() => checkedOnly.checkHistoryPage({ first: 10, after: encodeCursor('device', 7) })).toThrow(/^after is not a cursor from this list/);
    expect(() => checkedOnly.checkHistoryPage({ last: 10, before: encodeCursor('device', 7) })).toThrow(/^before is not a cursor from this list/);
  });
});

describe('registerDevices: every item is checked before anything is written', () => {
  const good = (i: number): DeviceInput => ({ name: `WS-${i}`, agentId: `agent-${i}`, agentVersion: '2024.3' });
  it.each([
    { name: 'an empty list', devices: [], argument: 'devices', message: /at least one device/ },
    {
      name: `more than ${MAX_DEVICES_PER_IMPORT} devices`,
      devices: Array.from({ length: MAX_DEVICES_PER_IMPORT + 1 }, (_, i) => good(i)),
      argument: 'devices',
      message: new RegExp(`at most ${MAX_DEVICES_PER_IMPORT} devices per call \\(got ${MAX_DEVICES_PER_IMPORT + 1}\\)`),
    },
    { name: 'a blank name at index 2', devices: [good(0), good(1), { name: '   ' }], argument: 'devices[2].name', message: /must not be empty/ },
    { name: 'a name of 256 characters', devices: [good(0), { name: 'n'.repeat(256) }], argument: 'devices[1].name', message: /longer than 255/ },
    { name: 'a name with a control character', devices: [{ name: 'WS\u0007' }], argument: 'devices[0].name', message: /control characters/ },
    { name: 'an agentId with a space', devices: [good(0), { name: 'WS-X', agentId: 'agent 1' }], argument: 'devices[1].agentId', message: /must be 1 to 128/ },
    { name: 'a braced GUID as agentId', devices: [{ name: 'WS-G', agentId: '{5F1B}' }], argument: 'devices[0].agentId', message: /starting with a letter or digit/ },
    { name: 'a version that is no version', devices: [good(0), good(1), good(2), { name: 'WS-V', agentVersion: 'latest' }], argument: 'devices[3].agentVersion', message: /agentVersion/ },
    { name: 'the same agentId twice', devices: [good(0), good(1), { name: 'other', agentId: ' agent-0 ' }], argument: 'devices[2]', message: /repeats devices\[0\] \(same agentId\)/ },
    { name: 'the same name twice without agentId, in other case', devices: [{ name: 'ws-lab' }, good(1), { name: 'WS-LAB' }], argument: 'devices[2]', message: /repeats devices\[0\] \(same name, no agentId\)/ },
  ])('$name is BAD_USER_INPUT naming $argument', async ({ devices, argument, message }) => {
    const r = await refusal(() => checkedOnly.registerDevices(admin, devices));
    expect(r).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    expect(r.message).toMatch(message);
  });

  it('a viewer may not import', async () => {
    expect(await refusal(() => checkedOnly.registerDevices(viewer, [good(0)]))).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('the device service on a database', () => {
  let t: TestDb;
  let deps: ReturnType<TestDb['deps']>;
  let devices: ReturnType<typeof createDeviceService>;
  const at = new Date('2030-03-03T03:03:03.000Z');

  beforeAll(async () => {
    t = await openTestDb();
    deps = t.deps(() => at);
    devices = createDeviceService(deps);
  });
  afterAll(async () => t?.close());

  const deviceCount = async () => Number(rowsOf<{ n: number }>(await t.database.db.execute(sql`select count(*)::int as n from devices`))[0]!.n);
  const audit = async () =>
    rowsOf<{ details: string }>(await t.database.db.execute(sql`select details from audit_events where action = 'devices.registered' order by id desc limit 1`))[0];

  it('imports trimmed names, a blank agentId or version as none, answering in the order asked', async () => {
    const out = await devices.registerDevices(admin, [
      { name: '  WS-B  ', agentId: '  agent-b ', agentVersion: ' 2024.3 ' },
      { name: 'WS-A', agentId: '', agentVersion: '   ' },
      { name: 'WS-C', agentId: null, agentVersion: null },
    ]);
    expect(out.map((d) => [d.name, d.agentId, d.agentVersion, d.imported, d.authStatus])).toEqual([
      ['WS-B', 'agent-b', '2024.3', true, 'NO_AUTHENTICATION_INFO'],
      ['WS-A', null, null, true, 'NO_AUTHENTICATION_INFO'],
      ['WS-C', null, null, true, 'NO_AUTHENTICATION_INFO'],
    ]);
    expect(deps.published).toEqual([{ type: 'summaryChanged' }]);
    expect(JSON.parse((await audit())!.details)).toEqual({ added: 3, updated: 0 });
  });

  it('an import with one bad item writes none of the good ones', async () => {
    const before = await deviceCount();
    await expect(devices.registerDevices(admin, [{ name: 'WS-NEW-1', agentId: 'new-1' }, { name: 'WS-NEW-2', agentVersion: 'x.y' }])).rejects.toMatchObject({
      extensions: { argument: 'devices[1].agentVersion' },
    });
    expect(await deviceCount()).toBe(before);
  });

  it('importing known devices again updates them: no duplicate, no counter moved, no summaryChanged', async () => {
    const before = await deviceCount();
    const counts = (await getCountersAndSwitch(t.database.db)).counts;
    const published = deps.published.length;
    const out = await devices.registerDevices(admin, [
      { name: 'WS-B renamed', agentId: 'agent-b' },
      { name: 'ws-a', agentVersion: '2025.1' },
    ]);
    expect(out.map((d) => [d.name, d.agentId, d.agentVersion])).toEqual([
      ['WS-B renamed', 'agent-b', '2024.3'], // no version given: the known one is kept
      ['ws-a', null, '2025.1'],
    ]);
    expect(await deviceCount()).toBe(before);
    expect((await getCountersAndSwitch(t.database.db)).counts).toEqual(counts);
    expect(deps.published.length).toBe(published);
    expect(JSON.parse((await audit())!.details)).toEqual({ added: 0, updated: 2 });
  });

  it('counts each new device once in NO_AUTHENTICATION_INFO, whatever mix of new and known an import holds', async () => {
    const before = (await getCountersAndSwitch(t.database.db)).counts.NO_AUTHENTICATION_INFO;
    await devices.registerDevices(admin, [{ name: 'WS-C' }, { name: 'WS-D', agentId: 'agent-d' }, { name: 'WS-E' }]);
    expect((await getCountersAndSwitch(t.database.db)).counts.NO_AUTHENTICATION_INFO).toBe(before + 2);
    expect(JSON.parse((await audit())!.details)).toEqual({ added: 2, updated: 1 });
  });

  it('a status repeated in the filter counts its devices once; blank search is no search', async () => {
    const all = await devices.listDevices(viewer, { first: 500 });
    const once = await devices.listDevices(viewer, { first: 500, filter: { authStatus: ['NO_AUTHENTICATION_INFO'] } });
    const twice = await devices.listDevices(viewer, { first: 500, filter: { authStatus: ['NO_AUTHENTICATION_INFO', 'NO_AUTHENTICATION_INFO'] } });
    const blank = await devices.listDevices(viewer, { first: 500, filter: { authStatus: [], search: '   ' } });
    expect(once.totalCount).toBe(5);
    expect(twice.totalCount).toBe(once.totalCount);
    expect(twice.edges.length).toBe(once.edges.length);
    expect(blank.totalCount).toBe(all.totalCount);
    expect(blank.edges.length).toBe(all.edges.length);
  });

  it('a search is trimmed and counted by a query, not from the counters', async () => {
    const found = await devices.listDevices(viewer, { first: 500, filter: { search: '  ws-b ren ' } });
    expect(found.edges.map((e) => e.node.name)).toEqual(['WS-B renamed']);
    expect(found.totalCount).toBe(1);
  });

  it('pages: first 1 hands out a cursor to the rest, and no page repeats a device', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page: Awaited<ReturnType<typeof devices.listDevices>> = await devices.listDevices(viewer, { first: 2, after });
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.length).toBe(await deviceCount());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('an unknown or malformed device id', async () => {
    await expect(devices.getDevice(viewer, '999999')).rejects.toMatchObject({ code: 'NOT_FOUND', extensions: { id: '999999' } });
    await expect(devices.getDevice(viewer, 'WS-A')).rejects.toMatchObject({ code: 'BAD_USER_INPUT', extensions: { argument: 'id' } });
  });
});
