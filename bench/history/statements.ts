/**
 * The group commit's statements one by one, with an empty history and with a seeded one, in the same
 * run (issue 14 part 3: why the check-in rate falls as the history grows). Two scratch databases on
 * DATABASE_URL's server (made and dropped here), the same devices in both; one gets `days` days of
 * history, `perDay` rows per device per day. Then batches of `batch` random devices are written in
 * a transaction each, alternately into either database, with the statements of the connection
 * service's writeKnown run one after the other (not pipelined) and timed: the lock, the history
 * INSERT, the devices UPDATE, the per-device cap (pruneDeviceHistory) and the commit. Last, one
 * batch's cap under EXPLAIN (ANALYZE, BUFFERS) in both.
 *
 * Each batch runs in four cap modes, interleaved: "all" caps every device of the batch (as before
 * drizzle/0011), "count" only those whose history_count passes the cap, each recounted, as a prepared
 * statement (as before drizzle/0012), "recount" the same planned with its parameters known,
 * "exact" only those, each by its exact count: its oldest excess deleted, no recount, planned for its values (as the
 * server now does). "all" and "count" run the statement prepared, as the server did then. The seeded devices' history_count is set to the rows seeded, in the current
 * history epoch. Last, one batch's cap under EXPLAIN in both statements' forms (recount and exact).
 *
 * Usage: DATABASE_URL=… npx tsx bench/history/statements.ts [--devices N] [--days D] [--per-day P]
 *   [--batches B] [--batch S] [--keep K] [--retention R]
 *   N 300,000, D 30, P 1, B 40 per database and mode, S 500, K 100, R 30 (the partitions made are
 *   those of R days' retention, whatever D: --days 2 --per-day 50 is a fleet at its cap of 100). Scratch databases are named
 *   $BENCH_DB_PREFIX (certfleet_histprof) _empty/_full_<stamp>. Prints; writes nothing.
 */
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import { openDatabase, type Database, type Tx } from '../../src/db/client.js';
import { insertConnectionResultsOfAgents, lockDevicesByAgentIds, updateDevicesAfterResults } from '../../src/db/device-queries.js';
import {
  historyCapNeeded,
  historyCountAfter,
  historyPartitionDays,
  knownHistoryCount,
  prepareHistoryPartitions,
  pruneDeviceHistory,
  pruneDeviceHistorySql,
  type KnownHistoryCounts,
} from '../../src/db/history-queries.js';
import { migrate } from '../../src/db/migrate.js';
import { executePreparedSql } from '../../src/db/prepared.js';
import { dropScratchSides, positiveNumber, runBenchMain } from '../bench-common.js';

const DAY_MS = 86_400_000;
const USAGE = 'usage: npx tsx bench/history/statements.ts [--devices N] [--days D] [--per-day P] [--batches B] [--batch S] [--keep K] [--retention R]';
const STEPS = ['lock', 'insert', 'update', 'prune', 'commit'] as const;
type Step = (typeof STEPS)[number];
/**
 * all: the cap runs for every device of the batch (as before drizzle/0011); count: only past the cap by
 * history_count, recounting each (as before drizzle/0012); both prepared, as then. recount: count's
 * statement planned for its values; exact: only those, deleting each one's oldest excess by its exact
 * count, planned for its values (pruneDeviceHistory, the server now: a prepared statement under
 * plan_cache_mode = force_custom_plan).
 */
const MODES = ['all', 'count', 'recount', 'exact'] as const;
type Mode = (typeof MODES)[number];

interface Side {
  label: 'empty' | 'full';
  name: string;
  database: Database;
  raw: postgres.Sql;
  first: number;
  last: number;
  times: Record<Mode, Record<Step, number[]>>;
  deleted: Record<Mode, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
class Rollback extends Error {}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function open(label: Side['label'], baseUrl: string, prefix: string, stamp: string, admin: postgres.Sql, n: number): Promise<Side> {
  const name = `${prefix}_${label}_${stamp}`;
  await admin.unsafe(`create database "${name}"`);
  // BENCH_PLAN_CACHE_MODE (auto, force_custom_plan, force_generic_plan): the server's plan_cache_mode for the prepared statements.
  const planCache = process.env.BENCH_PLAN_CACHE_MODE;
  if (planCache) {
    if (!/^(auto|force_custom_plan|force_generic_plan)$/.test(planCache)) throw new Error('BENCH_PLAN_CACHE_MODE: auto, force_custom_plan or force_generic_plan');
    await admin.unsafe(`alter database "${name}" set plan_cache_mode = ${planCache}`);
  }
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  const database = await openDatabase({ dataDir: '/nonexistent', databaseUrl: u.toString(), poolSize: 2 });
  await migrate(database.db);
  const raw = postgres(u.toString(), { max: 1, onnotice: () => {} });
  await raw`set synchronous_commit = off`;
  const [range] = await raw<{ lo: string; hi: string }[]>`
    with made as (
      insert into devices (name, agent_id, agent_version, auth_status, failure_reason, history_count, history_count_epoch)
      select 'bench-' || g, 'bench-agent-' || g, '2024.3', 'AUTHENTICATION_FAILED', 'NO_CLIENT_CERTIFICATE', 0, coalesce((select history_epoch from core_settings where id = 1), 0)
      from generate_series(1, ${n}::int) g
      returning id)
    select min(id)::text as lo, max(id)::text as hi from made`;
  await raw`update auth_status_counters set count = count + ${n}::bigint where status = 'AUTHENTICATION_FAILED'`;
  const times = Object.fromEntries(MODES.map((m) => [m, Object.fromEntries(STEPS.map((s) => [s, []]))])) as unknown as Side['times'];
  return { label, name, database, raw, first: Number(range!.lo), last: Number(range!.hi), times, deleted: { all: 0, count: 0, recount: 0, exact: 0 } };
}

/** As bench/history.bench.ts seeds it, with perDay rows per device per day spread over the day. */
async function seed(side: Side, days: number, perDay: number, retention: number, today: number): Promise<void> {
  const r = side.raw;
  // The partitions a server with this retention has, whether the seeded days fill them or not.
  const partitionDays = historyPartitionDays(retention);
  const span = Math.max(days, retention);
  await prepareHistoryPartitions(side.database.db, new Date(today - Math.ceil(span / partitionDays) * partitionDays * DAY_MS), new Date(today), partitionDays);
  await r`alter table connection_results drop constraint connection_results_pkey`;
  await r`drop index connection_results_device_id_idx`;
  await r`set session_replication_role = replica`.catch(() => undefined);
  for (let k = days; k >= 1; k--) {
    const day = new Date(today - k * DAY_MS).toISOString();
    await r`
      insert into connection_results (device_id, at, source, result, failure_reason, agent_version, remote_address)
      select g, ${day}::timestamptz + (j * (86400 / ${perDay}::int) + g % (86400 / ${perDay}::int)) * interval '1 second',
             'SECURE_CONNECTION', 'AUTHENTICATION_FAILED', 'NO_CLIENT_CERTIFICATE', '2024.3', '10.0.0.1'
      from generate_series(0, ${perDay - 1}::int) j, generate_series(${side.first}::bigint, ${side.last}::bigint) g
      order by j, g`;
  }
  await r`set session_replication_role = origin`.catch(() => undefined);
  await r`update devices set history_count = ${days * perDay}::int, history_count_epoch = (select history_epoch from core_settings where id = 1)`;
  await r`set maintenance_work_mem = '256MB'`;
  await r`alter table connection_results add constraint connection_results_pkey primary key (id, at)`;
  await r`create index connection_results_device_id_idx on connection_results (device_id, id desc nulls last)`;
  await r`vacuum analyze connection_results`;
  await r`vacuum analyze devices`;
}

/** One group commit of `size` random devices, its statements timed one by one. */
async function batchOnce(side: Side, mode: Mode, size: number, keep: number, record: boolean): Promise<void> {
  const span = side.last - side.first + 1;
  const agentIds = [...new Set(Array.from({ length: size }, () => `bench-agent-${1 + Math.floor(Math.random() * span)}`))];
  const t: Partial<Record<Step, number>> = {};
  let mark = performance.now();
  const lap = (s: Step) => {
    const now = performance.now();
    t[s] = now - mark;
    mark = now;
  };
  let deleted = 0;
  await side.database.db.transaction(async (tx: Tx) => {
    mark = performance.now();
    const locked = await lockDevicesByAgentIds(tx, agentIds);
    lap('lock');
    const at = new Date();
    // By agent id, as the server sends it (there right behind the lock, in the same round trip; here after it, timed alone).
    const inserted = await insertConnectionResultsOfAgents(
      tx,
      locked.devices.map((d) => ({ agentId: d.agentId!, at, source: 'SECURE_CONNECTION', result: 'AUTHENTICATION_FAILED', failureReason: 'NO_CLIENT_CERTIFICATE', agentVersion: '2024.3', remoteAddress: '10.0.0.2' })),
    );
    lap('insert');
    const epoch = locked.historyEpoch!;
    const before = locked.devices.map((d) => knownHistoryCount(d, epoch));
    await updateDevicesAfterResults(
      tx,
      locked.devices.map((d, i) => ({ ...d, historyCount: historyCountAfter(before[i]!, 1, keep), historyCountEpoch: before[i] === null ? d.historyCountEpoch : epoch, lastConnectionId: inserted[i]!.id, lastAttemptAt: at, lastSource: 'SECURE_CONNECTION', lastResult: 'AUTHENTICATION_FAILED', lastFailureReason: 'NO_CLIENT_CERTIFICATE', lastAgentVersion: '2024.3', lastRemoteAddress: '10.0.0.2', updatedAt: at })),
    );
    lap('update');
    const capped = locked.devices.map((d, i) => ({ id: d.id, before: before[i]! })).filter((d) => mode === 'all' || historyCapNeeded(d.before, 1, keep));
    const known: KnownHistoryCounts | undefined =
      mode === 'exact' ? { excess: capped.map((d) => (d.before === null ? null : d.before + 1 - keep)), epoch } : undefined;
    const ids = capped.map((d) => d.id);
    deleted =
      mode === 'all' || mode === 'count'
        ? ids.length === 0
          ? 0
          : Number((await executePreparedSql<{ deleted: number }>(tx, pruneDeviceHistorySql(ids, keep)))[0]?.deleted ?? 0)
        : await pruneDeviceHistory(tx, ids, keep, known);
    lap('prune');
  });
  lap('commit');
  if (!record) return;
  for (const s of STEPS) side.times[mode][s].push(t[s]!);
  side.deleted[mode] += deleted;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      days: { type: 'string' },
      'per-day': { type: 'string' },
      batches: { type: 'string' },
      batch: { type: 'string' },
      keep: { type: 'string' },
      retention: { type: 'string' },
    },
    strict: true,
  });
  const devices = values.devices ? positiveNumber(values.devices, '--devices') : 300_000;
  const days = values.days ? positiveNumber(values.days, '--days') : 30;
  const perDay = values['per-day'] ? positiveNumber(values['per-day'], '--per-day') : 1;
  const batches = values.batches ? positiveNumber(values.batches, '--batches') : 40;
  const size = values.batch ? positiveNumber(values.batch, '--batch') : 500;
  const keep = values.keep ? positiveNumber(values.keep, '--keep') : 100;
  const retention = values.retention ? positiveNumber(values.retention, '--retention') : 30;
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('needs DATABASE_URL (PostgreSQL)');
  const prefix = process.env.BENCH_DB_PREFIX ?? 'certfleet_histprof';
  if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error('BENCH_DB_PREFIX: lower-case letters, digits and _ only');
  const stamp = `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}_${process.pid}`;
  const log = (s: string) => process.stdout.write(`${s}\n`);
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  const sides: Side[] = [];
  try {
    sides.push(await open('empty', baseUrl, prefix, stamp, admin, devices));
    sides.push(await open('full', baseUrl, prefix, stamp, admin, devices));
    const [empty, full] = sides as [Side, Side];
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    let t0 = performance.now();
    await seed(full, days, perDay, retention, today);
    log(`seeded ${(devices * days * perDay).toLocaleString('en-US')} rows (${devices} devices × ${days} days × ${perDay}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    await empty.raw`vacuum analyze devices`;
    for (let i = 0; i < 5; i++) for (const s of sides) for (const m of MODES) await batchOnce(s, m, size, keep, false);
    t0 = performance.now();
    for (let i = 0; i < batches; i++) {
      const order = [...MODES.slice(i % MODES.length), ...MODES.slice(0, i % MODES.length)];
      for (const s of i % 2 ? [full, empty] : [empty, full]) for (const m of i % 4 < 2 ? order : [...order].reverse()) await batchOnce(s, m, size, keep, true);
    }
    log(`${batches} batches of ${size} per database and cap mode in ${((performance.now() - t0) / 1000).toFixed(1)} s; median ms per batch (mean);`);
    log('cap "all": every device of the batch, prepared (before drizzle/0011), "count": those past the cap by history_count, recounted,');
    log('    prepared (before 0012), "recount": the same planned for its values, "exact": those past the cap, their oldest excess by');
    log('    their exact count, planned for its values (the server now)');
    const cols: [Side, Mode][] = MODES.flatMap((m) => [[empty, m], [full, m]] as [Side, Mode][]);
    log(`  ${'step'.padEnd(8)} ${cols.map(([sd, m]) => `${sd.label}/${m}`.padStart(14)).join(' ')}`);
    for (const s of [...STEPS, 'total'] as const) {
      const of = (side: Side, m: Mode) => {
        const t = side.times[m];
        return s === 'total' ? t.lock.map((_, i) => sum(STEPS.map((x) => t[x][i]!))) : t[s];
      };
      const cell = (side: Side, m: Mode) => `${median(of(side, m)).toFixed(1)} (${(sum(of(side, m)) / batches).toFixed(1)})`.padStart(14);
      log(`  ${s.padEnd(8)} ${cols.map(([sd, m]) => cell(sd, m)).join(' ')}`);
    }
    log(`  rows deleted by the cap: ${cols.map(([sd, m]) => `${sd.label}/${m} ${sd.deleted[m]}`).join(', ')}`);
    for (const s of sides) {
      for (const form of ['recount', 'exact'] as const) {
        const plan = await s.raw.begin(async (q) => {
          const span = s.last - s.first + 1;
          const ids = [...new Set(Array.from({ length: size }, () => s.first + Math.floor(Math.random() * span)))];
          // Each device one result more first, as in a group commit (in a device at its cap, one row to delete).
          await q`
            insert into connection_results (device_id, at, source, result, failure_reason, agent_version, remote_address)
            select g, now(), 'SECURE_CONNECTION', 'AUTHENTICATION_FAILED', 'NO_CLIENT_CERTIFICATE', '2024.3', '10.0.0.2'
            from unnest(${`{${ids.join(',')}}`}::bigint[]) g`;
          let known: KnownHistoryCounts | undefined;
          if (form === 'exact') {
            const counts = await q<{ id: string; history_count: number | null; history_count_epoch: string; epoch: string }[]>`
              select d.id::text, d.history_count, d.history_count_epoch::text, c.history_epoch::text as epoch
              from devices d, core_settings c where c.id = 1 and d.id = any(${`{${ids.join(',')}}`}::bigint[])`;
            const epoch = Number(counts[0]!.epoch);
            const byId = new Map(counts.map((c) => [Number(c.id), knownHistoryCount({ historyCount: c.history_count, historyCountEpoch: Number(c.history_count_epoch) }, epoch)]));
            known = { excess: ids.map((id) => { const n = byId.get(id); return n === null || n === undefined ? null : n + 1 - keep; }), epoch };
          }
          // The cap's statement as the server runs it (its parameters inline: EXPLAIN takes none).
          const { sql: text, params } = new PgDialect().sqlToQuery(pruneDeviceHistorySql(ids, keep, known));
          const inline = text.replace(/\$(\d+)/g, (_, n: string) => {
            const v = params[Number(n) - 1];
            return typeof v === 'number' ? String(v) : `'${String(v)}'`;
          });
          // The server runs it as a prepared statement, which after five runs may keep a generic plan
          // (its parameters unknown to the planner): BENCH_EXPLAIN_GENERIC=1 shows that plan instead.
          if (process.env.BENCH_EXPLAIN_GENERIC === '1') {
            await q.unsafe('set local plan_cache_mode = force_generic_plan');
            await q.unsafe(`prepare cap_generic as ${text}`);
            const args = params.map((v) => (typeof v === 'number' ? String(v) : `'${String(v)}'`)).join(', ');
            const g = await q.unsafe(`explain (analyze, buffers, costs off) execute cap_generic(${args})`);
            await q.unsafe('deallocate cap_generic');
            throw new Rollback(g.map((x) => String(Object.values(x)[0])).join('\n'));
          }
          const r = await q.unsafe(`explain (analyze, buffers, costs off) ${inline}`);
          // Thrown to roll the deletes back.
          throw new Rollback(r.map((x) => String(Object.values(x)[0])).join('\n'));
        }).catch((err: Error) => (err instanceof Rollback ? err.message : `(explain failed: ${err.message})`));
        log(`\n== the cap (pruneDeviceHistory, ${form}), every device of one batch of ${size}, ${s.label} history:\n${plan}`);
      }
    }
  } finally {
    await dropScratchSides(sides, admin, log);
  }
}

runBenchMain(import.meta.url, USAGE, main);
