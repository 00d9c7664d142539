// The connection history as it was before drizzle/0009 (one unpartitioned table, primary key id),
// with its two bounding statements as they were, for bench/history.bench.ts to measure the
// partitioned layout against in the same run. Not used by the server.
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { DbExecutor } from '../../src/db/client.js';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.js';
import { rowsOf } from '../../src/db/rows.js';

/** migrationsBefore copies the committed migrations before `tag` (e.g. 0009) into a scratch folder: the schema of that day. */
export function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-old-layout-'));
  mkdirSync(join(dir, 'meta'));
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => e.tag < tag);
  for (const e of journal.entries) copyFileSync(join(MIGRATIONS_FOLDER, `${e.tag}.sql`), join(dir, `${e.tag}.sql`));
  writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
  return dir;
}

function bigintArray(ids: readonly number[]): string {
  return `{${ids.join(',')}}`;
}

/** The per-device cap before 0009 (src/db/history-queries.ts pruneDeviceHistory of that day). */
export async function oldPruneDeviceHistory(tx: DbExecutor, deviceIds: number[], keep: number): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const result = await tx.execute(sql`
    with doomed as (
      select x.id
      from devices d
      cross join lateral (
        select c.id from connection_results c
        where c.device_id = d.id
        order by c.id desc nulls last
        offset ${keep}
      ) x
      where d.id = any(${bigintArray(deviceIds)}::bigint[])
        and x.id is distinct from d.last_connection_id
    ), gone as (
      delete from connection_results
      where id = any(array(select id from doomed))
      returning 1
    )
    select count(*)::int as deleted from gone`);
  return Number(rowsOf<{ deleted: number }>(result)[0]?.deleted ?? 0);
}

/** The age retention before 0009 (pruneHistoryOlderThan of that day): batches of `batch` rows along the primary key. */
export async function oldPruneHistoryOlderThan(db: DbExecutor, cutoff: Date, batch: number): Promise<{ deleted: number; statements: number }> {
  const before = cutoff.toISOString();
  let afterId = 0;
  let total = 0;
  let statements = 0;
  for (;;) {
    const result = await db.execute(sql`
      with examined as materialized (
        select id, device_id, at from connection_results
        where id > ${afterId}
        order by id
        limit ${batch}
      ), doomed as (
        select c.id from connection_results c
        where c.id = any(array(
          select e.id from examined e
          where e.at < ${before}::timestamptz
            and e.id is distinct from (select d.last_connection_id from devices d where d.id = e.device_id)))
        for update skip locked
      ), gone as (
        delete from connection_results
        where id = any(array(select id from doomed))
        returning 1
      )
      select (select count(*) from examined)::int as examined,
             (select count(*) from examined where at < ${before}::timestamptz)::int as old,
             (select max(id) from examined)::text as last_id,
             (select count(*) from gone)::int as deleted`);
    statements++;
    const step = rowsOf<{ examined: number; old: number; last_id: string | null; deleted: number }>(result)[0]!;
    total += Number(step.deleted);
    if (Number(step.examined) < batch || Number(step.old) === 0 || step.last_id === null) return { deleted: total, statements };
    afterId = Number(step.last_id);
  }
}
