/**
 * Connection history at scale (issue 14): the partitioned history (drizzle/0009) against the
 * layout before it (one table, batched deletes), each in a scratch database of its own on the
 * PostgreSQL server of DATABASE_URL, created and dropped here, measured in the same run:
 *
 *  a. group-commit throughput: connection results recorded per second through the real connection
 *     service (createConnectionService, its statements and its per-device cap of 100, run for the
 *     devices whose history_count passes it; the old layout with the cap's statement of that day, on
 *     every device of every batch), with an empty history and again with `days` days of it;
 *  b. a device's history page (listConnectionHistories, 20 + 1 rows newest first), median latency;
 *  c. retention, per day of history: dropping the oldest partition (dropHistoryBefore; a partition is
 *     historyPartitionDays(days) days) against the old batched walk along the primary key
 *     (pruneHistoryOlderThan of that day, 10,000 rows a statement) over the oldest day.
 *
 * The history is seeded as one row per device per day for `days` days before today (fast: INSERT …
 * SELECT from generate_series, its indexes built after the load; the same in both layouts). The
 * phases interleave the two layouts, so load that comes and goes weighs on both alike.
 *
 * Usage: npx tsx bench/history.bench.ts [--devices N] [--days D] [--results R] [--quick]
 *   N defaults to 1,000,000 (quick: 5,000), D to 30, R (results per throughput round) to 5,000
 *   (quick: 1,000). Needs DATABASE_URL (PostgreSQL). Writes bench/results/history.json (into
 *   BENCH_RESULTS_DIR if set).
 */
import { loadavg } from 'node:os';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { redactUrl } from '../src/config.js';
import { openDatabase, type Database, type Tx } from '../src/db/client.js';
import { listConnectionHistories } from '../src/db/device-queries.js';
import {
  dropHistoryBefore,
  historyPartitionDays,
  listHistoryPartitions,
  prepareHistoryPartitions,
  pruneDeviceHistory,
  type KnownHistoryCounts,
} from '../src/db/history-queries.js';
import { migrate } from '../src/db/migrate.js';
import { createInProcessEventBus } from '../src/events/bus.js';
import { createLogger } from '../src/logger.js';
import { createConnectionService } from '../src/services/connection-service.js';
import { dropScratchSides, machine, positiveNumber, runBenchMain, sourceVersion, UsageError, writeResults } from './bench-common.js';
import { migrationsBefore, oldPruneDeviceHistory, oldPruneHistoryOlderThan } from './history/old-layout.js';

const here = dirname(fileURLToPath(import.meta.url));
const DAY_MS = 86_400_000;
const KEEP = 100;
const ROUNDS = 3;
const USAGE = 'usage: npx tsx bench/history.bench.ts [--devices N] [--days D] [--results R] [--quick]';

type Layout = 'old' | 'new';
interface Side {
  layout: Layout;
  name: string;
  url: string;
  database: Database;
  /** A connection of its own for seeding (synchronous_commit off there only). */
  raw: postgres.Sql;
  firstDevice: number;
  lastDevice: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function open(layout: Layout, baseUrl: string, stamp: string, admin: postgres.Sql): Promise<Side> {
  const name = `certfleet_hist_${layout}_${stamp}`; // digits and fixed words only
  await admin.unsafe(`create database "${name}"`);
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const database = await openDatabase({ dataDir: '/nonexistent', databaseUrl: url, poolSize: 10 });
  const folder = layout === 'old' ? migrationsBefore('0009') : undefined;
  try {
    await migrate(database.db, folder ? { folder } : {});
  } finally {
    if (folder) rmSync(folder, { recursive: true, force: true });
  }
  const raw = postgres(url, { max: 1, onnotice: () => {} });
  // The devices row of today (drizzle/0011, history_count; 0012, its epoch) in both: the connection service writes it.
  if (layout === 'old') {
    await raw`alter table devices add column history_count integer, add column history_count_epoch bigint not null default 0`;
    await raw`alter table core_settings add column history_epoch bigint not null default 0`;
  }
  return { layout, name, url, database, raw, firstDevice: 0, lastDevice: 0 };
}

/** seedDevices inserts n devices, already failed (no certificate) as the results recorded later say, and counts them. */
async function seedDevices(side: Side, n: number): Promise<void> {
  const r = side.raw;
  await r`set synchronous_commit = off`;
  const [range] = await r<{ lo: string; hi: string }[]>`
    with made as (
      insert into devices (name, agent_id, agent_version, auth_status, failure_reason, history_count, history_count_epoch)
      select 'bench-' || g, 'bench-agent-' || g, '2024.3', 'AUTHENTICATION_FAILED', 'NO_CERTIFICATE', 0, coalesce((select history_epoch from core_settings where id = 1), 0)
      from generate_series(1, ${n}::int) g
      returning id)
    select min(id)::text as lo, max(id)::text as hi from made`;
  side.firstDevice = Number(range!.lo);
  side.lastDevice = Number(range!.hi);
  await r`update auth_status_counters set count = count + ${n}::bigint where status = 'AUTHENTICATION_FAILED'`;
}

/**
 * seedHistory adds one row per device per day for the `days` days before today, in day order (ids
 * follow time, as the server writes them); the history's indexes are dropped for the load and built
 * after it, which leaves the same indexes a live table has.
 */
async function seedHistory(side: Side, days: number, partitionDays: number, today: number, log: (s: string) => void): Promise<void> {
  const r = side.raw;
  if (side.layout === 'new') {
    // The migration made today's partitions: the seeded days get theirs before it, aligned on today.
    await prepareHistoryPartitions(side.database.db, new Date(today - Math.ceil(days / partitionDays) * partitionDays * DAY_MS), new Date(today), partitionDays);
  }
  await r`alter table connection_results drop constraint connection_results_pkey`;
  await r`drop index connection_results_device_id_idx`;
  // Foreign-key checks off for the load when the role may (a superuser): every device exists.
  await r`set session_replication_role = replica`.catch(() => undefined);
  const started = performance.now();
  for (let k = days; k >= 1; k--) {
    const day = new Date(today - k * DAY_MS).toISOString();
    await r`
      insert into connection_results (device_id, at, source, result, failure_reason, agent_version, remote_address)
      select g, ${day}::timestamptz + (g % 86400) * interval '1 second', 'SECURE_CONNECTION', 'AUTHENTICATION_FAILED',
             'NO_CERTIFICATE', '2024.3', '10.0.0.1'
      from generate_series(${side.firstDevice}::bigint, ${side.lastDevice}::bigint) g`;
  }
  await r`set session_replication_role = origin`.catch(() => undefined);
  // Each device's count of results, as the server keeps it: the rows just loaded (the empty phase's were truncated).
  await r`update devices set history_count = ${days}::int, history_count_epoch = coalesce((select history_epoch from core_settings where id = 1), 0)`;
  log(`  ${side.layout}: ${days} days loaded in ${((performance.now() - started) / 1000).toFixed(1)} s; building indexes`);
  await r`set maintenance_work_mem = '256MB'`;
  await r.unsafe(`alter table connection_results add constraint connection_results_pkey primary key (${side.layout === 'new' ? 'id, at' : 'id'})`);
  await r`create index connection_results_device_id_idx on connection_results (device_id, id desc nulls last)`;
  await r`vacuum analyze connection_results`;
  await r`vacuum analyze devices`;
}

/** throughput records `count` results at once through the connection service (group commit), on random devices; results per second. */
async function throughput(side: Side, count: number): Promise<number> {
  const connections = createConnectionService({
    db: side.database.db,
    bus: createInProcessEventBus(() => undefined),
    clock: () => new Date(),
    log: createLogger('silent'),
    // The old layout caps every device of every batch, as the server did then; the partitioned one
    // only the devices whose history_count passes the cap (drizzle/0011), as the server does now.
    groupCommit:
      side.layout === 'new'
        ? { pruneHistory: (tx: Tx, ids: number[], known: KnownHistoryCounts) => pruneDeviceHistory(tx, ids, KEEP, known), historyPerDevice: KEEP }
        : { pruneHistory: (tx: Tx, ids: number[]) => oldPruneDeviceHistory(tx, ids, KEEP) },
  });
  const span = side.lastDevice - side.firstDevice + 1;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, () => {
      const id = side.firstDevice + Math.floor(Math.random() * span);
      return connections.recordConnectionResult({
        source: 'SECURE_CONNECTION',
        agentId: `bench-agent-${id - side.firstDevice + 1}`,
        agentVersion: '2024.3',
        certificate: null,
        remoteAddress: '10.0.0.2',
      });
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** pageLatencies reads the first history page of each given device (index into the device range), in ms. */
async function pageLatencies(side: Side, picks: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of picks) {
    const id = side.firstDevice + p;
    const t = performance.now();
    const page = await listConnectionHistories(side.database.db, [id], { limit: 21, order: 'desc' });
    out.push(performance.now() - t);
    if ((page.get(id)?.length ?? 0) === 0) throw new Error(`device ${id} has no history in the ${side.layout} layout`);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string' },
      days: { type: 'string' },
      results: { type: 'string' },
      'partition-days': { type: 'string' },
      quick: { type: 'boolean' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const devices = values.devices ? positiveNumber(values.devices, '--devices') : quick ? 5_000 : 1_000_000;
  const days = values.days ? positiveNumber(values.days, '--days') : 30;
  const perRound = values.results ? positiveNumber(values.results, '--results') : quick ? 1_000 : 5_000;
  if (days < 2 || days > 365) throw new UsageError('--days must be 2 to 365');
  // As the maintenance rounds would make them for a retention of `days` days.
  const partitionDays = values['partition-days'] ? positiveNumber(values['partition-days'], '--partition-days') : historyPartitionDays(days);
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new UsageError('bench/history.bench.ts needs DATABASE_URL (a PostgreSQL server; it makes two scratch databases there)');

  const log = (s: string) => process.stdout.write(`${s}\n`);
  const loads = [loadavg()];
  const started = new Date();
  const stamp = `${started.toISOString().replace(/[-:T]/g, '').slice(0, 14)}_${process.pid}`;
  log(`history benchmark: ${devices.toLocaleString('en-US')} devices × ${days} days = ${(devices * days).toLocaleString('en-US')} rows per layout, on ${redactUrl(baseUrl)}`);
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  const sides: Side[] = [];
  try {
    for (const layout of ['old', 'new'] as const) sides.push(await open(layout, baseUrl, stamp, admin));
    const [old, neu] = sides as [Side, Side];
    await Promise.all(sides.map((s) => seedDevices(s, devices)));
    // Results land today; the seeded history is the days before it (today's partition stays small, as on a live server early in the day).
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;

    const rates: Record<Layout, { empty: number[]; full: number[] }> = { old: { empty: [], full: [] }, new: { empty: [], full: [] } };
    const measureRates = async (phase: 'empty' | 'full') => {
      // A server runs for long: a round not counted first, so that each pooled connection has
      // planned (and prepared) the statements, as it has on a live server.
      for (const side of [old, neu]) await throughput(side, perRound);
      for (let round = 0; round < ROUNDS; round++) {
        // The order alternates round by round.
        for (const side of round % 2 ? [neu, old] : [old, neu]) rates[side.layout][phase].push(await throughput(side, perRound));
      }
      log(`  throughput, ${phase} history: old ${median(rates.old[phase]).toFixed(0)} /s, partitioned ${median(rates.new[phase]).toFixed(0)} /s`);
    };
    log('\n== group commit, empty history');
    await measureRates('empty');
    loads.push(loadavg());

    // The seeded history is older than what the empty phase wrote: start it afresh, so that ids follow time as on a live server.
    for (const s of sides) await s.raw`truncate connection_results`;
    log(`\n== seeding ${days} days of history in both layouts`);
    const seedStart = performance.now();
    await Promise.all(sides.map((s) => seedHistory(s, days, partitionDays, today, log)));
    const seedSeconds = (performance.now() - seedStart) / 1000;
    // The load left gigabytes of dirty pages: written now (a checkpoint, when the role may), not by
    // the checkpointer during the full phase's rounds, which the empty phase did not have to share.
    await admin`checkpoint`.catch(() => undefined);
    loads.push(loadavg());

    log('\n== group commit, full history');
    await measureRates('full');
    loads.push(loadavg());

    log('\n== history page of one device');
    const picks = Array.from({ length: quick ? 50 : 200 }, () => Math.floor(Math.random() * devices));
    const pages: Record<Layout, number[]> = { old: [], new: [] };
    // Warm both the same way, then alternate device by device.
    await pageLatencies(old, picks.slice(0, 5));
    await pageLatencies(neu, picks.slice(0, 5));
    for (const [i, p] of picks.entries()) {
      for (const side of i % 2 ? [neu, old] : [old, neu]) pages[side.layout].push(...(await pageLatencies(side, [p])));
    }
    log(`  median: old ${median(pages.old).toFixed(2)} ms, partitioned ${median(pages.new).toFixed(2)} ms`);
    loads.push(loadavg());

    // The oldest partition that holds seeded rows goes whole; the old layout deletes the oldest day
    // of it (its cost grows with the rows: one day is enough to tell it per day).
    const seededFrom = today - days * DAY_MS;
    const oldest = (await listHistoryPartitions(neu.database.db)).find((p) => p.upper.getTime() > seededFrom)!;
    const daysDropped = Math.round((oldest.upper.getTime() - seededFrom) / DAY_MS);
    log(`\n== retention: the oldest partition (${daysDropped} day(s) of history) against the old walk over one day`);
    const t0 = performance.now();
    const dropped = await dropHistoryBefore(neu.database.db, oldest.upper);
    const newSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const walked = await oldPruneHistoryOlderThan(old.database.db, new Date(seededFrom + DAY_MS), 10_000);
    const oldSeconds = (performance.now() - t1) / 1000;
    if (dropped.partitions !== 1) throw new Error(`expected one partition dropped, got ${dropped.partitions}`);
    if (walked.deleted !== devices) throw new Error(`the old walk deleted ${walked.deleted} rows, not one day's ${devices}`);
    log(`  partitioned: ${dropped.partitions} partition (${daysDropped} days, ${(devices * daysDropped).toLocaleString('en-US')} rows) dropped in ${(newSeconds * 1000).toFixed(1)} ms; old: ${walked.deleted.toLocaleString('en-US')} rows (1 day) deleted in ${walked.statements} statements, ${oldSeconds.toFixed(2)} s`);
    loads.push(loadavg());

    const m = (xs: number[]) => median(xs);
    const result = {
      benchmark: 'history',
      database: 'postgres',
      quick,
      date: started.toISOString(),
      command: `DATABASE_URL=${redactUrl(baseUrl)} npx tsx bench/history.bench.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: machine(),
      source: sourceVersion(),
      loadAverages: loads,
      devices,
      days,
      rowsPerLayout: devices * days,
      partitionDays,
      seedSeconds,
      resultsPerRound: perRound,
      rounds: ROUNDS,
      throughput: {
        old: { empty: m(rates.old.empty), full: m(rates.old.full), samples: rates.old },
        new: { empty: m(rates.new.empty), full: m(rates.new.full), samples: rates.new },
      },
      page: { oldMedianMs: m(pages.old), newMedianMs: m(pages.new), samples: picks.length },
      retention: {
        days: daysDropped,
        new: { seconds: newSeconds, partitions: dropped.partitions, defaultRows: dropped.defaultRows, rows: devices * daysDropped },
        old: { seconds: oldSeconds, days: 1, rows: walked.deleted, statements: walked.statements },
      },
      ratios: {
        newFullOverEmpty: m(rates.new.full) / m(rates.new.empty),
        oldFullOverEmpty: m(rates.old.full) / m(rates.old.empty),
        newOverOldFull: m(rates.new.full) / m(rates.old.full),
        pageNewOverOld: m(pages.new) / m(pages.old),
        /** Per day of history: the old walk's day against the partition drop's time shared among its days. */
        retentionPerDayOldOverNew: oldSeconds / (newSeconds / daysDropped),
      },
    };
    for (const f of writeResults(here, 'history', 'postgres', result)) log(`wrote ${f}`);
  } finally {
    await dropScratchSides(sides, admin, log);
  }
}

runBenchMain(import.meta.url, USAGE, main);
