import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../../src/db/rows.js';
import { AUTH_STATUSES, STATUS_LABELS, type AuthStatus } from '../../../src/domain/statuses.js';
import type { Caller } from '../../../src/services/caller.js';
import { createDeviceService } from '../../../src/services/device-service.js';
import { CHART_QUERY_FOLDER, createSavedQueryService } from '../../../src/services/saved-query-service.js';
import { openTestDb, type TestDb } from '../../support/test-db.js';

const alice: Caller = { subject: 'alice', roles: ['SECURITY_ADMIN'] };
const bob: Caller = { subject: 'bob', roles: ['SECURITY_ADMIN'] };
const victor: Caller = { subject: 'victor', roles: ['VIEWER'] };

describe('saved queries', () => {
  let t: TestDb;
  let now = new Date('2030-05-01T10:00:00.000Z');
  let queries: ReturnType<typeof createSavedQueryService>;

  beforeAll(async () => {
    t = await openTestDb();
    const deps = t.deps(() => now);
    queries = createSavedQueryService({ ...deps, devices: createDeviceService(deps) });
  });
  afterAll(async () => t?.close());

  const audits = async (targetId: string) =>
    rowsOf<{ actor: string; action: string; details: string | null }>(
      await t.database.db.execute(sql`select actor, action, details from audit_events where target_id = ${targetId} order by id`),
    );
  const savedRows = async () => rowsOf<{ id: number }>(await t.database.db.execute(sql`select id from saved_queries`)).length;

  describe('createChartQuery', () => {
    it.each(AUTH_STATUSES)('%s: named after its chart item, in My queries > Chart-generated queries, audited as created', async (status) => {
      const q = await queries.createChartQuery(alice, status);
      expect(q).toMatchObject({ name: STATUS_LABELS[status], folder: CHART_QUERY_FOLDER, authStatus: status, createdAt: now, updatedAt: now });
      expect(CHART_QUERY_FOLDER).toEqual(['My queries', 'Chart-generated queries']);
      expect(q.id).toBe(String(q.dbId));
      expect(await audits(q.id)).toEqual([{ actor: 'alice', action: 'savedQuery.created', details: JSON.stringify({ authStatus: status }) }]);
    });

    it('gives each status its own query: four, one per chart item', async () => {
      const mine = await queries.listMyQueries(alice);
      expect(mine.map((q) => q.authStatus)).toEqual([...AUTH_STATUSES]);
      expect(new Set(mine.map((q) => q.id)).size).toBe(4);
    });

    it('a second double-click refreshes the same query: same id, createdAt kept, updatedAt moved, audited as refreshed', async () => {
      const first = (await queries.listMyQueries(alice)).find((q) => q.authStatus === 'AUTHENTICATION_FAILED')!;
      const created = first.createdAt;
      now = new Date(now.getTime() + 60_000);
      const again = await queries.createChartQuery(alice, 'AUTHENTICATION_FAILED');
      expect(again).toMatchObject({ id: first.id, createdAt: created, updatedAt: now, name: 'Authentication failed' });
      expect((await audits(first.id)).map((a) => a.action)).toEqual(['savedQuery.created', 'savedQuery.refreshed']);
      expect(await queries.listMyQueries(alice)).toHaveLength(4);
    });

    it("another user's double-click on the same item saves their own query, leaving the first owner's alone", async () => {
      const before = (await queries.listMyQueries(alice)).find((q) => q.authStatus === 'AUTHENTICATION_FAILED')!;
      const theirs = await queries.createChartQuery(bob, 'AUTHENTICATION_FAILED');
      expect(theirs.id).not.toBe(before.id);
      expect(await audits(theirs.id)).toMatchObject([{ actor: 'bob', action: 'savedQuery.created' }]);
      expect((await queries.listMyQueries(alice)).find((q) => q.id === before.id)).toEqual(before);
      expect((await queries.listMyQueries(bob)).map((q) => q.id)).toEqual([theirs.id]);
    });

    it('refuses an unknown status (BAD_USER_INPUT naming status) and a viewer (FORBIDDEN), writing nothing', async () => {
      const rows = await savedRows();
      await expect(queries.createChartQuery(alice, 'SUCCEEDED' as AuthStatus)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        extensions: { argument: 'status' },
      });
      await expect(queries.createChartQuery(victor, 'AUTHENTICATION_FAILED')).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await savedRows()).toBe(rows);
    });
  });

  describe("someone else's query is NOT_FOUND", () => {
    it('reading it answers exactly as for an id that does not exist', async () => {
      const [hers] = await queries.listMyQueries(alice);
      const other = await queries.getSavedQuery(bob, hers!.id).catch((e: unknown) => e);
      const absent = await queries.getSavedQuery(bob, '999999').catch((e: unknown) => e);
      expect(other).toMatchObject({ code: 'NOT_FOUND', message: `saved query "${hers!.id}" not found`, extensions: { code: 'NOT_FOUND', id: hers!.id } });
      expect(absent).toMatchObject({ code: 'NOT_FOUND', message: 'saved query "999999" not found', extensions: { code: 'NOT_FOUND', id: '999999' } });
      expect(await queries.getSavedQuery(alice, hers!.id)).toEqual(hers);
    });

    it('deleting it is NOT_FOUND and deletes and audits nothing', async () => {
      const [hers] = await queries.listMyQueries(alice);
      const auditsBefore = await audits(hers!.id);
      await expect(queries.deleteSavedQuery(bob, hers!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await queries.getSavedQuery(alice, hers!.id)).toEqual(hers);
      expect(await audits(hers!.id)).toEqual(auditsBefore);
    });

    it('its owner deletes it once (audited); a second delete is NOT_FOUND', async () => {
      const [hers] = await queries.listMyQueries(alice);
      await expect(queries.deleteSavedQuery(victor, hers!.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await queries.deleteSavedQuery(alice, hers!.id)).toBe(true);
      expect((await audits(hers!.id)).at(-1)).toMatchObject({ actor: 'alice', action: 'savedQuery.deleted' });
      await expect(queries.deleteSavedQuery(alice, hers!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(queries.getSavedQuery(alice, hers!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('bad ids never reach the database', () => {
    it.each(['abc', '0', '-1', '1.0', '1e3', '0x10', ' 1', '01', '1'.repeat(16), ''])('%j is BAD_USER_INPUT naming id', async (id) => {
      for (const run of [() => queries.getSavedQuery(alice, id), () => queries.deleteSavedQuery(alice, id)]) {
        await expect(run()).rejects.toMatchObject({ code: 'BAD_USER_INPUT', extensions: { argument: 'id' } });
      }
    });

    it('the longest id the API may hand out (15 digits) is a well-formed id, merely not found', async () => {
      await expect(queries.getSavedQuery(alice, '9'.repeat(15))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});
