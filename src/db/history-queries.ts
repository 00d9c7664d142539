import { sql, type SQL } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { executeNow, executePreparedSql } from './prepared.js';
import { rowsOf } from './rows.js';
import { connectionResults } from './schema.js';
import type { AuthStatus, ConnectionSource, FailureReason, UnverifiedReason } from '../domain/statuses.js';

// Bounding connection_results (at a million devices reporting every 15 minutes, ~100 million rows
// a day) without ever scanning it:
//
// - by age, whole partitions: the table is partitioned by RANGE on `at` (drizzle/0009), in partitions
//   of whole UTC days (historyPartitionDays) made ahead by the maintenance rounds (prepareHistoryPartitions), and retention
//   drops those that end before the cutoff (dropHistoryBefore): a catalog change per partition,
//   whatever its number of rows. A DEFAULT partition takes what falls outside every partition (a
//   clock far off, rounds that did not run for days), so an insert never fails for lack of one; it
//   is normally empty, and retention deletes its old rows by a scan of it alone.
// - per device, connection_results_device_id_idx (device_id, id desc), one btree per partition:
//   each device's entries are read from the index alone (one descent per partition), and what lies
//   beyond its newest `keep` is the excess.
//
// The per-device cap never deletes the row a device's last_connection_id points at (its newest
// result, also kept in the device row). Retention does: a device silent for longer than the
// retention has an empty history, and its last attempt stays in the device row (lastConnection).
//
// devices.history_count is exact when known (drizzle/0012): every writer of a device's history rows
// (the group commit, its cap, recordUnverifiedAttempts) holds the device row's lock and moves the
// count with the rows. Retention does not touch device rows: it bumps core_settings.history_epoch in
// its transaction, and a count of an older epoch (devices.history_count_epoch) is unknown. Dropping a
// partition locks connection_results whole (ACCESS EXCLUSIVE), so it cannot commit between a group
// commit's history INSERT and its COMMIT: the cap, which runs after that INSERT, reads the epoch
// that holds for the rows it sees. A delete from the DEFAULT partition alone takes no such lock; the
// cap then may see a count stale by it, and writes it under the epoch of its own snapshot, older than
// the retention's: unknown again once that commits.

/** ids as one bigint[] parameter, whatever their number (so one plan serves every batch). */
function bigintArray(ids: readonly number[]): string {
  for (const id of ids) {
    if (!Number.isSafeInteger(id)) throw new RangeError(`not a device id: ${id}`);
  }
  return `{${ids.join(',')}}`;
}

/**
 * KnownHistoryCounts says, for the devices given to pruneDeviceHistory (in the same order), how many
 * of each one's oldest results are beyond `keep` (excess: its exact history_count plus the results
 * just appended, minus keep), or null when its count is unknown; and the history epoch
 * (core_settings.history_epoch) those counts were read in.
 */
export interface KnownHistoryCounts {
  excess: readonly (number | null)[];
  epoch: number;
}

/**
 * pruneDeviceHistory deletes, for each given device, its connection results beyond the newest
 * `keep` (by id), in one statement for all of them; returns how many rows it deleted. Two ways:
 *
 * - a device whose count is known (`known`, counted in the history epoch that is still current when
 *   the statement runs): its `excess` oldest results, read from the oldest end of its entries of
 *   connection_results_device_id_idx in each partition (a MergeAppend of backward index-only scans
 *   that stops after `excess` entries); its count is then `keep`, as the caller wrote it.
 * - any other (no `known`, a null excess, or retention bumped the epoch since the caller read it):
 *   all its entries, from the index alone (the ids are all it needs); what lies beyond the newest
 *   `keep` is deleted, and its history_count set to the rows it leaves, in the current epoch.
 *
 * Both ways are one read of the index per device (a known count's stops at its excess), so the
 * statement names the partitioned history twice (that read and the delete), not three times: PostgreSQL
 * plans every partition of each, and at the group commit's usual batches of a few devices the plan
 * costs more than the run (BENCHMARKS.md, "The cap's plan").
 * Either way the excess is deleted by id, one probe of each partition's primary key per deleted row.
 * Its cost follows the devices given and the partitions, not the history's size; the group commit
 * gives it only the devices whose history_count passes `keep` or is unknown (historyCapNeeded). It is
 * meant to run inside the transaction that recorded the devices' new results (their rows locked),
 * after their last_connection_id and history_count were written; the row last_connection_id names is
 * never deleted.
 */
export async function pruneDeviceHistory(tx: DbExecutor, deviceIds: number[], keep: number, known?: KnownHistoryCounts): Promise<number> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number of at least 1 (got ${keep})`);
  if (deviceIds.length === 0) return 0;
  if (known && known.excess.length !== deviceIds.length) throw new RangeError('known.excess must name one excess per device');
  // Planned with its arrays known, every time: it runs in a quarter of the time the prepared
  // statement's generic plan took at the cap (20 against 83 ms for 500 devices, BENCHMARKS.md "Where
  // the fall came from"), for a plan of ~2 ms. (At a few devices the generic plan runs the statement
  // in a quarter of the time, plan included, yet three paired sustained runs held no more with it and
  // kept PostgreSQL busier: BENCHMARKS.md, "The cap's plan".) Still a prepared statement, told to plan for its
  // values (plan_cache_mode, for the rest of the transaction: the cap is the group commit's last
  // statement), both sent at once: an unnamed statement with parameters would make postgres.js wait
  // for its description first, a round trip more, and the pipelined COMMIT behind it another.
  const [, rows] = await Promise.all([
    executeNow(tx, 'set local plan_cache_mode = force_custom_plan'),
    executePreparedSql<{ deleted: number }>(tx, pruneDeviceHistorySql(deviceIds, keep, known)),
  ]);
  return Number(rows[0]?.deleted ?? 0);
}

/** intArray is counts as one int[] parameter, null for unknown. */
function intArray(values: readonly (number | null)[]): string {
  for (const v of values) {
    if (v !== null && !Number.isSafeInteger(v)) throw new RangeError(`not a count: ${v}`);
  }
  return `{${values.map((v) => (v === null ? 'NULL' : String(v))).join(',')}}`;
}

/** pruneDeviceHistorySql is pruneDeviceHistory's statement (bench/history/statements.ts explains it). */
export function pruneDeviceHistorySql(deviceIds: readonly number[], keep: number, known?: KnownHistoryCounts): SQL {
  const excess = intArray(known ? known.excess : deviceIds.map(() => null));
  // -1 matches no epoch: every device is recounted.
  const epoch = known ? known.epoch : -1;
  if (!Number.isSafeInteger(epoch)) throw new RangeError(`not an epoch: ${epoch}`);
  return sql`
    with cur as materialized (
      select history_epoch as epoch from core_settings where id = 1
    ), asked as materialized (
      -- A count read in an older epoch than this statement's is unknown: retention deleted results since.
      -- A device named twice is read once, and recounted if either asks for it.
      select distinct on (a.id) a.id, case when ${epoch}::bigint = (select epoch from cur) then a.excess end as excess
      from unnest(${bigintArray(deviceIds)}::bigint[], ${excess}::int[]) as a(id, excess)
      order by a.id, a.excess is null desc
    ), seen as (
      -- One read of the history for both ways, oldest first: a known count's excess oldest entries
      -- (it stops there), or all of an unknown count's.
      select d.id, d.last_connection_id, d.history_count, d.history_count_epoch, a.excess, x.ids
      from asked a
      join devices d on d.id = a.id
      cross join lateral (
        select array(
          select c.id from connection_results c
          where c.device_id = d.id
          -- The index's order read backwards ("asc nulls first"): no sort, and it stops at the excess.
          order by c.id asc nulls first
          limit case when a.excess is null then null else greatest(a.excess, 0) end) as ids
      ) x
    ), doomed as (
      -- A known count's entries read are all excess; of an unknown count's, all but the newest keep.
      select s.id as device_id, u.id
      from seen s
      cross join lateral unnest(case when s.excess is null then s.ids[1:cardinality(s.ids) - ${keep}] else s.ids end) as u(id)
      where u.id is distinct from s.last_connection_id
    ), gone as (
      delete from connection_results
      where id = any(array(select id from doomed))
      returning device_id
    ), counted as (
      -- What each recounted device keeps: every entry but the deleted ones (counted from doomed, which
      -- names exactly what the delete removes: the delete's own rows are not visible to this statement).
      select s.id, cardinality(s.ids) - coalesce(o.n, 0)::int as kept, s.history_count, s.history_count_epoch
      from seen s
      left join (select device_id, count(*) as n from doomed group by device_id) o on o.device_id = s.id
      where s.excess is null
    ), recounted as (
      update devices d set history_count = k.kept, history_count_epoch = (select epoch from cur)
      from counted k
      where d.id = k.id
        and (k.kept is distinct from k.history_count or k.history_count_epoch is distinct from (select epoch from cur))
      returning 1
    )
    select (select count(*) from gone)::int as deleted, (select count(*) from recounted)::int as recounted`;
}

/**
 * knownHistoryCount is a device's history_count when it is known in the history epoch `epoch` (the
 * current one, core_settings.history_epoch), else null: a count made before a retention is unknown.
 */
export function knownHistoryCount(row: { historyCount: number | null; historyCountEpoch: number }, epoch: number): number | null {
  return row.historyCount !== null && row.historyCountEpoch === epoch ? row.historyCount : null;
}

/**
 * historyCountAfter is a device's history_count once `added` results are appended and the cap has
 * run (with `keep`, when the caller caps): the count a group commit writes with the device row,
 * exact. An unknown count stays unknown (the cap counts it).
 */
export function historyCountAfter(count: number | null, added: number, keep: number | undefined): number | null {
  if (count === null) return null;
  return keep === undefined ? count + added : Math.min(count + added, keep);
}

/** historyCapNeeded says whether a device with this count, `added` results appended, needs the cap to run. */
export function historyCapNeeded(count: number | null, added: number, keep: number): boolean {
  return count === null || count + added > keep;
}

/** HISTORY_PARTITIONS_AHEAD_DAYS: the maintenance rounds keep partitions ready this far past now. */
export const HISTORY_PARTITIONS_AHEAD_DAYS = 3;

/**
 * historyPartitionDays is the length of a new history partition for a retention of retentionDays:
 * about a tenth of it (3 days at the default 30), at least a day. Every partition costs each query
 * that reads a device's history (a page, the per-device cap) one index descent and its planner some
 * work, so they are kept to some ten with data; retention then overshoots by at most a partition
 * (10 %, the history is kept 30 to 33 days), which stays cheap to drop whole.
 */
export function historyPartitionDays(retentionDays: number): number {
  return Math.max(1, Math.ceil(retentionDays / 10));
}

/** HistoryPartition is one range partition of connection_results: [lower, upper). */
export interface HistoryPartition {
  name: string;
  lower: Date;
  upper: Date;
}

/** listHistoryPartitions lists the range partitions of connection_results, oldest first (the DEFAULT one is not listed). */
export async function listHistoryPartitions(db: DbExecutor): Promise<HistoryPartition[]> {
  const rows = rowsOf<{ partition: string; lower_bound: string | Date; upper_bound: string | Date }>(
    await db.execute(sql`
      select partition::text as partition, lower_bound, upper_bound
      from certfleet_connection_history_partitions()
      where lower_bound is not null
      order by lower_bound`),
  );
  return rows.map((r) => ({ name: r.partition, lower: new Date(r.lower_bound), upper: new Date(r.upper_bound) }));
}

/**
 * prepareHistoryPartitions creates the partitions of `days` UTC days that [from, until) still lacks
 * (existing ones stay as they are); rows of a new partition's range found in the DEFAULT partition
 * move into it. Returns how many it created. Creating a partition locks the table briefly: run it
 * under a lock_timeout (the maintenance round does), so that it gives up rather than queue writers.
 */
export async function prepareHistoryPartitions(db: DbExecutor, from: Date, until: Date, days: number): Promise<number> {
  const result = await db.execute(
    sql`select certfleet_prepare_connection_history(${from.toISOString()}::timestamptz, ${until.toISOString()}::timestamptz, ${days}::int) as created`,
  );
  return Number(rowsOf<{ created: number }>(result)[0]?.created ?? 0);
}

/**
 * dropHistoryBefore drops the history partitions that end at or before cutoff (every row in them is
 * older) and deletes the DEFAULT partition's rows older than cutoff: its cost follows the number of
 * partitions, not of rows. A partition that straddles the cutoff stays whole until it is all older.
 */
export async function dropHistoryBefore(db: DbExecutor, cutoff: Date): Promise<{ partitions: number; defaultRows: number }> {
  const result = await db.execute(sql`select dropped, deleted from certfleet_drop_connection_history(${cutoff.toISOString()}::timestamptz)`);
  const row = rowsOf<{ dropped: number; deleted: string | number }>(result)[0];
  return { partitions: Number(row?.dropped ?? 0), defaultRows: Number(row?.deleted ?? 0) };
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
 * deletes each device's unverified attempts beyond the newest `keep`; each device's history_count
 * follows the rows it gains and loses (exact when known). Devices are locked in id order, the order
 * every writer of device rows uses.
 */
export async function recordUnverifiedAttempts(
  tx: DbExecutor,
  rows: readonly UnverifiedAttemptRow[],
  counts: readonly { deviceId: number; count: number; lastAt: Date }[],
  keep: number,
): Promise<void> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number of at least 1 (got ${keep})`);
  if (counts.length === 0) return;
  // The rows appended go into each device's history_count, and the rows the delete below removes come
  // off it: a known count stays exact (an unknown one, null or of an older epoch, stays unknown).
  const appended = new Map<number, number>();
  for (const r of rows) appended.set(r.deviceId, (appended.get(r.deviceId) ?? 0) + 1);
  const byDevice = JSON.stringify(
    counts.map((c) => ({ id: c.deviceId, n: c.count, at: c.lastAt.toISOString(), h: appended.get(c.deviceId) ?? 0 })),
  );
  await tx.execute(sql`
    with locked as (
      select id from devices where id = any(array(select (v->>'id')::bigint from jsonb_array_elements(${byDevice}::jsonb) v))
      order by id
      for update
    )
    update devices d set
      unverified_attempts = d.unverified_attempts + v.n,
      last_unverified_at = greatest(d.last_unverified_at, v.at),
      history_count = d.history_count + v.h
    from jsonb_to_recordset(${byDevice}::jsonb) as v(id bigint, n bigint, at timestamptz, h integer)
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
    with gone as (
      delete from connection_results
      where id = any(array(
        select x.id
        from unnest(${bigintArray(counts.map((c) => c.deviceId))}::bigint[]) as d(id)
        cross join lateral (
          select c.id from connection_results c
          where c.device_id = d.id and not c.verified
          order by c.id desc nulls last -- connection_results_unverified_idx
          offset ${keep}
        ) x))
      returning device_id
    )
    update devices d set history_count = d.history_count - g.n
    from (select device_id, count(*)::int as n from gone group by device_id) g
    where d.id = g.device_id`);
}
