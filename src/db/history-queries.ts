import { sql } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { executePreparedSql } from './prepared.js';
import { rowsOf } from './rows.js';
import { connectionResults } from './schema.js';
import type { AuthStatus, ConnectionSource, FailureReason, UnverifiedReason } from '../domain/statuses.js';

// Bounding connection_results (at a million devices reporting every 15 minutes, ~100 million rows
// a day) without ever scanning the table. Both deletes walk an existing btree:
//
// - by age, the primary key: ids are drawn in insert order and `at` is the recording time, so the
//   oldest rows are the ones with the lowest ids. Each statement looks at the next `batch` rows
//   by id and stops the walk at the first batch that holds nothing old. No index on `at`: a btree
//   would add a third index to the hottest insert path, and a BRIN index on `at` decays here,
//   because the per-device cap frees single rows all over the table, new rows refill those holes,
//   and a BRIN range's min/max only ever widens, until every range matches "at < cutoff".
// - per device, connection_results_device_id_idx (device_id, id desc): each device's newest
//   `keep` entries sit together in one or two leaf pages, and what lies beyond them is the excess.
//
// Neither ever deletes the row a device's last_connection_id points at (its newest result, also
// kept in the device row), so a device long silent keeps its last attempt in its history.

/** ids as one bigint[] parameter, whatever their number (so one plan serves every batch). */
function bigintArray(ids: readonly number[]): string {
  for (const id of ids) {
    if (!Number.isSafeInteger(id)) throw new RangeError(`not a device id: ${id}`);
  }
  return `{${ids.join(',')}}`;
}

/**
 * pruneDeviceHistory deletes, for each given device, its connection results beyond the newest
 * `keep` (by id), in one statement for all of them; returns how many rows it deleted. Its cost is
 * about `keep` + the excess index entries per device, read from connection_results_device_id_idx;
 * it is meant to run inside the transaction that recorded the devices' new results (their rows
 * locked), after their last_connection_id was written.
 */
export async function pruneDeviceHistory(tx: DbExecutor, deviceIds: number[], keep: number): Promise<number> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number of at least 1 (got ${keep})`);
  if (deviceIds.length === 0) return 0;
  // Runs in every group commit: a prepared statement (its text never changes).
  const rows = await executePreparedSql<{ deleted: number }>(tx, sql`
    with doomed as (
      select x.id
      from devices d
      cross join lateral (
        select c.id from connection_results c
        where c.device_id = d.id
        -- "nulls last" as in the index (id is never null): a plain "desc" would sort instead.
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
  return Number(rows[0]?.deleted ?? 0);
}

/**
 * pruneHistoryOlderThan deletes the connection results recorded before cutoff, except each
 * device's newest, walking the primary key `batch` rows per statement (each its own transaction
 * when db is not a transaction) until a statement finds nothing older; returns how many it deleted.
 * Rows another transaction holds are skipped (the next run takes them), so it never waits for, or
 * deadlocks with, the connection writers or another replica doing the same.
 */
export async function pruneHistoryOlderThan(db: DbExecutor, cutoff: Date, batch: number): Promise<number> {
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`batch must be a whole number of at least 1 (got ${batch})`);
  const before = cutoff.toISOString();
  let afterId = 0;
  let total = 0;
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
            -- A scalar subquery, not a join: one primary-key probe per old row, never a pass over devices.
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
    const step = rowsOf<{ examined: number; old: number; last_id: string | null; deleted: number }>(result)[0]!;
    total += Number(step.deleted);
    // A short batch is the end of the table; a batch with nothing old is past the cutoff (ids
    // follow time, give or take the clocks of replicas, which a batch's width absorbs).
    if (Number(step.examined) < batch || Number(step.old) === 0 || step.last_id === null) return total;
    afterId = Number(step.last_id);
  }
}

/** UnverifiedAttemptRow is one attempt kept in a device's history without moving the device. */
export interface UnverifiedAttemptRow {
  deviceId: number;
  at: Date;
  source: ConnectionSource;
  result: AuthStatus;
  failureReason: FailureReason | null;
  agentVersion: string | null;
  certificateSerialNumber: string | null;
  certificateNotAfter: Date | null;
  unverifiedReason: UnverifiedReason;
  remoteAddress: string | null;
}

/**
 * recordUnverifiedAttempts appends unverified attempts to their devices' histories, adds every
 * device's count (which may exceed the rows given: a flood keeps its count, not each attempt), and
 * deletes each device's unverified attempts beyond the newest `keep`. Devices are locked in id
 * order, the order every writer of device rows uses.
 */
export async function recordUnverifiedAttempts(
  tx: DbExecutor,
  rows: readonly UnverifiedAttemptRow[],
  counts: readonly { deviceId: number; count: number; lastAt: Date }[],
  keep: number,
): Promise<void> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number of at least 1 (got ${keep})`);
  if (counts.length === 0) return;
  const byDevice = JSON.stringify(counts.map((c) => ({ id: c.deviceId, n: c.count, at: c.lastAt.toISOString() })));
  await tx.execute(sql`
    with locked as (
      select id from devices where id = any(array(select (v->>'id')::bigint from jsonb_array_elements(${byDevice}::jsonb) v))
      order by id
      for update
    )
    update devices d set
      unverified_attempts = d.unverified_attempts + v.n,
      last_unverified_at = greatest(d.last_unverified_at, v.at)
    from jsonb_to_recordset(${byDevice}::jsonb) as v(id bigint, n bigint, at timestamptz)
    where d.id = v.id and d.id in (select id from locked)`);
  if (rows.length > 0) {
    await tx.insert(connectionResults).values(
      rows.map((r) => ({
        deviceId: r.deviceId,
        at: r.at,
        source: r.source,
        result: r.result as Exclude<AuthStatus, 'NO_AUTHENTICATION_INFO'>,
        failureReason: r.failureReason,
        agentVersion: r.agentVersion,
        certificateSerialNumber: r.certificateSerialNumber,
        certificateNotAfter: r.certificateNotAfter,
        verified: false,
        unverifiedReason: r.unverifiedReason,
        remoteAddress: r.remoteAddress,
      })),
    );
  }
  await tx.execute(sql`
    delete from connection_results
    where id = any(array(
      select x.id
      from unnest(${bigintArray(counts.map((c) => c.deviceId))}::bigint[]) as d(id)
      cross join lateral (
        select c.id from connection_results c
        where c.device_id = d.id and not c.verified
        order by c.id desc nulls last -- connection_results_unverified_idx
        offset ${keep}
      ) x))`);
}
