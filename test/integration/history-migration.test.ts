import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsBefore } from '../../bench/history/old-layout.js';
import { openDatabase, PGLITE_EXTENSIONS, type Database } from '../../src/db/client.js';
import { listConnectionHistories } from '../../src/db/device-queries.js';
import { listHistoryPartitions } from '../../src/db/history-queries.js';
import { migrate, MIGRATIONS_FOLDER } from '../../src/db/migrate.js';
import { rowsOf } from '../../src/db/rows.js';
import { databaseKind } from '../support/test-core.js';

const DAY = 86_400_000;

// drizzle/0009 turns a live connection_results into the partitioned table: every row, id and column kept.
describe('migration 0009: the history moves into partitions', () => {
  let database: Database;
  let dropDatabase = async () => {};

  beforeAll(async () => {
    if (databaseKind() === 'postgres') {
      const adminUrl = inject('postgresAdminUrl');
      const name = `certfleet_t_${inject('runId')}_mig${randomBytes(3).toString('hex')}`;
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database "${name}"`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      database = await openDatabase({ dataDir: tmpdir(), databaseUrl: url.toString(), poolSize: 2 });
      dropDatabase = async () => {
        const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
        await a.unsafe(`drop database if exists "${name}" with (force)`);
        await a.end();
      };
    } else {
      database = await openDatabase({ dataDir: tmpdir(), pglite: await PGlite.create({ extensions: PGLITE_EXTENSIONS }) });
    }
  });
  afterAll(async () => {
    await database?.close();
    await dropDatabase();
  });

  const journalEntries = () =>
    (JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

  const all = async () =>
    rowsOf<Record<string, unknown>>(await database.db.execute(sql`select * from connection_results order by id`)).map((r) => ({
      ...r,
      id: String(r.id),
      device_id: String(r.device_id),
      at: new Date(r.at as string).toISOString(),
    }));

  it('keeps every row and id, in partitions that cover them, and the sequence goes on after them', async () => {
    const folder = migrationsBefore('0009');
    try {
      expect((await migrate(database.db, { folder })).applied).toBe(9);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    const now = Date.now();
    const ts = (ms: number) => new Date(ms).toISOString();
    await database.db.execute(sql`insert into devices (name, agent_id) values ('one', 'mig-1'), ('two', 'mig-2')`);
    const [one, two] = rowsOf<{ id: string }>(await database.db.execute(sql`select id::text from devices order by id`)).map((r) => Number(r.id));
    await database.db.execute(sql`
      insert into connection_results (device_id, at, source, result, failure_reason, verified, unverified_reason, remote_address)
      values (${one}, ${ts(now - 18.5 * DAY)}::timestamptz, 'SECURE_CONNECTION', 'AUTHENTICATION_FAILED', 'NO_CERTIFICATE', true, null, '10.0.0.1'),
             (${two}, ${ts(now - 19 * DAY)}::timestamptz, 'SECURITY_SCANNER', 'AUTHENTICATION_SUCCEEDED', null, true, null, null),
             (${one}, ${ts(now - 5 * DAY)}::timestamptz, 'SECURE_CONNECTION', 'AUTHENTICATION_FAILED', 'NO_CERTIFICATE', false, 'UNKNOWN_KEY', '10.0.0.2'),
             (${one}, ${ts(now - 1000)}::timestamptz, 'SECURE_CONNECTION', 'AUTHENTICATION_SUCCEEDED', null, true, null, '10.0.0.3')`);
    // A deleted row leaves a gap in the ids; the sequence must not hand it out again either.
    await database.db.execute(sql`delete from connection_results where id = (select max(id) from connection_results)`);
    const before = await all();
    expect(before).toHaveLength(3);

    // 0009 and every migration after it.
    expect((await migrate(database.db)).applied).toBe(journalEntries() - 9);

    expect(await all()).toEqual(before);
    const parts = await listHistoryPartitions(database.db);
    // 19 days of rows (counted up: 20): partitions of two days (a tenth), from the oldest row's day to days ahead.
    expect(parts[0]!.lower.getTime()).toBe(Math.floor((now - 19 * DAY) / DAY) * DAY);
    expect(parts.every((p) => p.upper.getTime() - p.lower.getTime() === 2 * DAY)).toBe(true);
    expect(parts.at(-1)!.upper.getTime()).toBeGreaterThanOrEqual(now + 4 * DAY - DAY);
    // Every row sits in a range partition, none in DEFAULT; the old table is gone.
    const homes = rowsOf<{ part: string }>(await database.db.execute(sql`select tableoid::regclass::text as part from connection_results`));
    expect(homes.every((h) => h.part.startsWith('connection_results_p'))).toBe(true);
    expect(rowsOf<{ t: string | null }>(await database.db.execute(sql`select to_regclass('connection_results_unpartitioned')::text as t`))[0]!.t).toBeNull();

    // A new row gets an id past every id ever drawn, the deleted one's included.
    const maxEver = Number(before.at(-1)!.id) + 1;
    const [added] = rowsOf<{ id: string }>(
      await database.db.execute(sql`
        insert into connection_results (device_id, at, source, result) values (${two}, now(), 'SECURE_CONNECTION', 'AUTHENTICATION_SUCCEEDED')
        returning id::text`),
    );
    expect(Number(added!.id)).toBeGreaterThan(maxEver);

    // A device's pages, newest first, with a keyset cursor, read as before.
    const first = (await listConnectionHistories(database.db, [one!], { limit: 1, order: 'desc' })).get(one!)!;
    expect(first.map((r) => String(r.id))).toEqual([before[2]!.id]);
    const next = (await listConnectionHistories(database.db, [one!], { limit: 5, order: 'desc', beforeId: first[0]!.id })).get(one!)!;
    expect(next.map((r) => String(r.id))).toEqual([before[0]!.id]);
    expect(next[0]!.unverifiedReason).toBeNull();
    expect(first[0]!.unverifiedReason).toBe('UNKNOWN_KEY');
  });
});
