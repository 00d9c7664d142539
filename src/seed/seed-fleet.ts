/**
 * Bulk seeding for scale tests: fills the app's own tables (devices, connection_results,
 * client_certificates) with a realistic fleet, batch by batch, each batch one transaction that
 * also moves auth_status_counters by exactly what it inserted (as the app's writers do), so a core
 * started on the database afterwards, or already running on it, sees a consistent chart.
 *
 * The run is cut along its seams: options.ts (what a run takes and reports, the mixes), ids.ts
 * (deterministic draws, unique names, agent ids and serials), placeholders.ts (certificates and
 * requests that parse but verify with nothing), draw.ts (what a seeded fleet looks like, into
 * columns.ts batches), insert-writer.ts and copy-writer.ts (the two ways a batch reaches the
 * database), and this file, which runs the batches and checks the counters at the end.
 *
 * Not seeded: the audit trail of every decision (one fleet.seeded audit event records the run).
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { insertAuditEvent } from '../db/audit-queries.js';
import type { Database } from '../db/client.js';
import { insertCrlPending } from '../db/client-certificate-queries.js';
import { adjustCounters, emptyCounts } from '../db/counter-queries.js';
import { HISTORY_PARTITIONS_AHEAD_DAYS, historyPartitionDays, prepareHistoryPartitions } from '../db/history-queries.js';
import { migrate } from '../db/migrate.js';
import { rowsOf } from '../db/rows.js';
import { DAY_MS } from '../domain/time.js';
import { AUTH_STATUSES, CLIENT_CERTIFICATE_STATUSES, type AuthStatus, type ClientCertificateStatus, type FailureReason } from '../domain/statuses.js';
import { notifyReplicas } from '../events/postgres-bus.js';
import type { Batch } from './columns.js';
import { copyBatch, copyClientOf } from './copy-writer.js';
import { generateBatch, historyRowsOf, type Plan } from './draw.js';
import { cumulative } from './ids.js';
import { insertBatch } from './insert-writer.js';
import { FAILURE_REASON_MIX, SeedRefusedError, resolveStatusMix, type SeedOptions, type SeedProgress, type SeedReport } from './options.js';
import { buildKeyPool } from './placeholders.js';

/** reserveIds takes n values from a table's identity sequence (sequences are not transactional: other writers may take ids in between). */
async function reserveIds(db: Database['db'], table: 'devices' | 'connection_results', n: number): Promise<number[]> {
  if (n === 0) return [];
  const rows = rowsOf<{ id: string | number }>(
    await db.execute(sql`select nextval(pg_get_serial_sequence(${table}, 'id')) as id from generate_series(1, ${n}::int)`),
  );
  return rows.map((r) => Number(r.id));
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/**
 * databaseReason is the database's own words for a failure: drizzle wraps them in "Failed query: ..."
 * with the parameters, which here are arrays of megabytes.
 */
function databaseReason(err: unknown): string {
  let e = err as { message?: unknown; cause?: unknown; detail?: unknown } | undefined;
  while (e && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  const message = String(e?.message ?? err).split('\n')[0]!.slice(0, 500);
  return typeof e?.detail === 'string' && e.detail ? `${message} (${e.detail.slice(0, 300)})` : message;
}

const addCounts = <K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>) => {
  for (const [k, n] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + n;
};

/**
 * seedFleet adds opts.devices devices, their connection history and client certificates to the
 * database, the way the app would have written them, and keeps the chart counters exact.
 *
 * - It migrates the database first, as startCore does, and leaves the core's bootstrap (the core
 *   server device, the CA, the CRL) to the core: seeded devices coexist with a core started before
 *   or after, on the same database.
 * - It refuses (SeedRefusedError) when devices other than the core server exist, unless opts.append.
 * - Each batch of opts.batch devices is one transaction that also moves the counters by what it
 *   added, so the counters are right at every commit, as with the app's own writers; on a
 *   PostgreSQL server opts.concurrency batches are written at once (COPY), while the next ones are
 *   drawn. If a batch fails, the batches committed before it stay (a consistent, smaller fleet).
 * - At the end, with the counter rows locked, the counters are compared with a GROUP BY recount;
 *   a difference throws.
 * onProgress is called after every committed batch. Works on both drivers; use PostgreSQL for large fleets.
 */
export async function seedFleet(
  database: Database,
  opts: SeedOptions,
  onProgress?: (p: SeedProgress) => void,
): Promise<SeedReport> {
  const started = performance.now();
  const total = checkInt('devices', opts.devices, 1, 50_000_000);
  const history = checkInt('history', opts.history ?? 3, 1, 100);
  const batchSize = checkInt('batch', opts.batch ?? 10_000, 100, 100_000);
  const seed = checkInt('seed', opts.seed ?? 1, 0, 0xffffffff);
  const historyDays = checkInt('historyDays', opts.historyDays ?? 7, 1, 90);
  const certificateDays = checkInt('certificateDays', opts.certificateDays ?? 365, historyDays + 30, 3650);
  // PGlite is one connection: one batch at a time.
  const concurrency = database.kind === 'postgres' ? checkInt('concurrency', opts.concurrency ?? 2, 1, 8) : 1;
  const now = opts.now?.getTime() ?? Date.now();
  if (!Number.isFinite(now)) throw new RangeError('now must be a valid Date');
  const mix = resolveStatusMix(opts.mix);
  const reasons = Object.keys(FAILURE_REASON_MIX) as FailureReason[];
  const db = database.db;

  await migrate(db);
  const [state] = rowsOf<{ devices: string | number; others: string | number; max_id: string | number }>(
    await db.execute(
      sql`select count(*) as devices, count(*) filter (where not is_core_server) as others, coalesce(max(id), 0) as max_id from devices`,
    ),
  );
  const devicesBefore = Number(state!.devices);
  const others = Number(state!.others);
  if (others > 0 && !opts.append) {
    throw new SeedRefusedError(
      `the database already has ${others} device(s) besides the core server: add to them with append (--append), ` +
        'or seed an empty database (create one and point DATABASE_URL at it)',
    );
  }
  // Ordinals (the unique part of names, agent ids and serials) start above every id present: ids
  // handed out later are higher still, so the next run's ordinals start above this run's.
  const ordinalBase = Number(state!.max_id);
  const plan: Plan = {
    seed,
    now,
    history,
    historyDays,
    certificateDays,
    statusCum: cumulative(AUTH_STATUSES.map((s) => mix[s])),
    reasons,
    reasonCum: cumulative(reasons.map((r) => FAILURE_REASON_MIX[r]!)),
    pool: await buildKeyPool(seed, now, certificateDays),
  };

  // The history's days get their partitions first (as the maintenance rounds make them at the
  // default retention of 30 days), instead of all landing in the DEFAULT partition.
  await prepareHistoryPartitions(
    db,
    new Date(now - (historyDays + 1) * DAY_MS),
    new Date(now + HISTORY_PARTITIONS_AHEAD_DAYS * DAY_MS),
    historyPartitionDays(30),
  );

  const loopStarted = performance.now();
  const byStatus = emptyCounts();
  const byFailureReason: Partial<Record<FailureReason, number>> = {};
  const certificates = Object.fromEntries(CLIENT_CERTIFICATE_STATUSES.map((s) => [s, 0])) as Record<ClientCertificateStatus, number>;
  let historyRows = 0;
  let inserted = 0;
  let firstDeviceId = Number.POSITIVE_INFINITY;
  let lastDeviceId = 0;
  let drawMs = 0;

  // Batches are drawn one at a time (JS is one thread), each while earlier ones are being written.
  const batchCount = Math.ceil(total / batchSize);
  let nextBatch = 0;
  let failure: unknown;
  let drawing: Promise<unknown> = Promise.resolve();
  const take = () => (failure === undefined && nextBatch < batchCount ? nextBatch++ : undefined);
  const drawBatch = (k: number): Promise<Batch> => {
    const drawn = drawing.then(async () => {
      const first = k * batchSize;
      const n = Math.min(batchSize, total - first);
      const [deviceIds, historyIds] = await Promise.all([
        reserveIds(db, 'devices', n),
        reserveIds(db, 'connection_results', historyRowsOf(plan, first, n)),
      ]);
      const t0 = performance.now();
      const ordinals = deviceIds.map((_, j) => ordinalBase + first + j + 1);
      const b = await generateBatch(plan, first, deviceIds, ordinals, historyIds);
      drawMs += performance.now() - t0;
      return b;
    });
    drawing = drawn.catch(() => {});
    // Awaited by its worker; a failure meanwhile must not count as unhandled.
    drawn.catch(() => {});
    return drawn;
  };

  const writeBatch = (b: Batch) =>
    db.transaction(async (tx) => {
      // Losing the last batches in a server crash is harmless here; waiting for each flush is not needed.
      await tx.execute(sql`set local synchronous_commit = off`);
      const copyClient = opts.copy === false ? undefined : copyClientOf(database, tx);
      if (copyClient) await copyBatch(copyClient, b);
      else await insertBatch(tx, b);
      // The counters move in the same transaction as the devices they count, like every writer of the app.
      await adjustCounters(tx, b.byStatus);
    });

  const worker = async () => {
    const k = take();
    let ready = k === undefined ? undefined : drawBatch(k);
    while (ready) {
      let batch: Batch;
      try {
        batch = await ready;
        const k2 = take();
        ready = k2 === undefined ? undefined : drawBatch(k2);
        await writeBatch(batch);
      } catch (err) {
        failure ??= err;
        return;
      }
      inserted += batch.devices.id.length;
      historyRows += batch.history.id.length;
      addCounts(byStatus, batch.byStatus);
      addCounts(byFailureReason, batch.byFailureReason);
      addCounts(certificates, batch.certificateCounts);
      for (const id of batch.devices.id) {
        if (id < firstDeviceId) firstDeviceId = id;
        if (id > lastDeviceId) lastDeviceId = id;
      }
      if (onProgress) {
        const elapsedSeconds = (performance.now() - loopStarted) / 1000;
        onProgress({
          devicesInserted: inserted,
          devicesTotal: total,
          historyRows,
          certificates: CLIENT_CERTIFICATE_STATUSES.reduce((n, s) => n + certificates[s], 0),
          elapsedSeconds,
          devicesPerSecond: elapsedSeconds > 0 ? inserted / elapsedSeconds : 0,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== undefined) {
    throw new Error(
      `bulk seed stopped after committing ${inserted} of ${total} devices (the chart counters include exactly those; ` +
        `add the rest with append, or start again on an empty database): ${databaseReason(failure)}`,
      { cause: failure },
    );
  }

  // The check: with all four counter rows locked (in adjustCounters' order), no status move can
  // commit between reading the counters and the recount, whatever else runs on the database.
  const counters = await db.transaction(async (tx) => {
    await tx.execute(sql`select status from auth_status_counters order by status collate "C" for update`);
    const kept = emptyCounts();
    const recount = emptyCounts();
    for (const r of rowsOf<{ status: AuthStatus; count: string | number }>(await tx.execute(sql`select status, count from auth_status_counters`))) {
      kept[r.status] = Number(r.count);
    }
    for (const r of rowsOf<{ status: AuthStatus; n: string | number }>(
      await tx.execute(sql`select auth_status as status, count(*) as n from devices group by auth_status`),
    )) {
      recount[r.status] = Number(r.n);
    }
    const wrong = AUTH_STATUSES.filter((s) => kept[s] !== recount[s]);
    if (wrong.length > 0) {
      throw new Error(
        `bulk seed: the kept counters disagree with a recount of the devices (${wrong.map((s) => `${s} kept ${kept[s]}, counted ${recount[s]}`).join('; ')})`,
      );
    }
    // Seeded revocations reach the CRL as the app's do: a pending mark (without ids: the next CRL
    // reads every revoked certificate again), signed by a running core within its CRL window.
    if (certificates.REVOKED > 0) await insertCrlPending(tx, null);
    await insertAuditEvent(tx, {
      actor: 'system:bulk-seed',
      action: 'fleet.seeded',
      details: { devices: total, byStatus, historyRows, certificates, seed, firstDeviceId, lastDeviceId },
      at: new Date(now),
    });
    return kept;
  });

  // Fresh statistics for the planner: a million new rows would otherwise be planned with the
  // statistics of an empty table until autovacuum gets round to them.
  await database.db.execute(sql`analyze devices, connection_results, client_certificates`);

  // Running replicas refresh their dashboards, as after any committed change (no-op on PGlite).
  if (database.notifications) await notifyReplicas(database.notifications, { type: 'summaryChanged' }).catch(() => {});
  const seconds = (performance.now() - started) / 1000;
  const loopSeconds = (performance.now() - loopStarted) / 1000;
  return {
    devices: total,
    byStatus,
    byFailureReason,
    historyRows,
    certificates,
    firstDeviceId,
    lastDeviceId,
    devicesBefore,
    counters,
    seconds,
    timings: { drawSeconds: drawMs / 1000, databaseWaitSeconds: Math.max(0, loopSeconds - drawMs / 1000) },
  };
}
