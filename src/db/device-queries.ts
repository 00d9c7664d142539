import { and, asc, eq, getTableColumns, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { keysetBoundsSql, keysetWhere, keysetOrder, type Keyset } from './keyset.js';
import { counterAdjustment, emptyCounts, type StatusCounts } from './counter-queries.js';
import { executePrepared, executePreparedSql } from './prepared.js';
import { rowsOf } from './rows.js';
import { clientCertificates, connectionResults, coreSettings, devices } from './schema.js';
import type { AuthStatus, FailureReason } from '../domain/statuses.js';
import { containsPattern } from './like.js';

export type DeviceRow = typeof devices.$inferSelect;
export type ConnectionResultRow = typeof connectionResults.$inferSelect;
export type ClientCertificateRow = typeof clientCertificates.$inferSelect;

export interface DeviceListFilter {
  statuses?: AuthStatus[];
  /** Devices that failed for one of these reasons (authStatus AUTHENTICATION_FAILED). */
  failureReasons?: FailureReason[];
  /** Case-insensitive substring of name or agent id. */
  search?: string;
}

function filterWhere(filter: DeviceListFilter): SQL | undefined {
  const parts: (SQL | undefined)[] = [];
  if (filter.statuses && filter.statuses.length > 0) parts.push(inArray(devices.authStatus, filter.statuses));
  if (filter.failureReasons && filter.failureReasons.length > 0) {
    // The status test is what the partial index devices_failed_reason_id_idx is on; a reason is
    // shown (and so matched) only while the device is failed.
    parts.push(eq(devices.authStatus, 'AUTHENTICATION_FAILED'), inArray(devices.failureReason, filter.failureReasons));
  }
  if (filter.search) {
    const pattern = containsPattern(filter.search);
    parts.push(or(sql`lower(${devices.name}) like ${pattern}`, sql`lower(${devices.agentId}) like ${pattern}`));
  }
  return and(...parts);
}

/** getDeviceById reads one device. */
export async function getDeviceById(db: DbExecutor, id: number): Promise<DeviceRow | undefined> {
  const [row] = await db.select().from(devices).where(eq(devices.id, id));
  return row;
}

/** getDevicesByIds reads several devices in one query (order not kept). */
export async function getDevicesByIds(db: DbExecutor, ids: readonly number[]): Promise<DeviceRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(devices).where(inArray(devices.id, [...ids]));
}

/** getDeviceByAgentId reads the device an agent id belongs to. */
export async function getDeviceByAgentId(db: DbExecutor, agentId: string): Promise<DeviceRow | undefined> {
  const [row] = await db.select().from(devices).where(eq(devices.agentId, agentId));
  return row;
}

/** getDevicesByAgentIds reads the devices of several agents in one query (order not kept). */
export async function getDevicesByAgentIds(db: DbExecutor, agentIds: readonly string[]): Promise<DeviceRow[]> {
  if (agentIds.length === 0) return [];
  return db.select().from(devices).where(inArray(devices.agentId, [...agentIds]));
}

/**
 * lockDevicesByAgentIds reads the devices of these agents and locks their rows, in id order, and
 * reads the security switch and the history epoch (core_settings.history_epoch, see
 * knownHistoryCount) in the same statement (both undefined when no device matched).
 */
export async function lockDevicesByAgentIds(
  tx: DbExecutor,
  agentIds: readonly string[],
): Promise<{ devices: DeviceRow[]; securityEnabled: boolean | undefined; historyEpoch: number | undefined }> {
  if (agentIds.length === 0) return { devices: [], securityEnabled: undefined, historyEpoch: undefined };
  // One jsonb parameter whatever the number of agents: the same text every time, so it runs as a prepared statement.
  const rows = await tx
    .select({ device: devices, securityEnabled: coreSettings.clientCertificateSecurityEnabled, historyEpoch: coreSettings.historyEpoch })
    .from(devices)
    .innerJoin(coreSettings, eq(coreSettings.id, 1))
    .where(sql`${devices.agentId} in (select jsonb_array_elements_text(${JSON.stringify(agentIds)}::jsonb))`)
    .orderBy(asc(devices.id))
    .for('update', { of: devices })
    .prepare('lockDevicesByAgentIds')
    .execute();
  return { devices: rows.map((r) => r.device), securityEnabled: rows[0]?.securityEnabled, historyEpoch: rows[0]?.historyEpoch };
}

/** listDevices reads a page of the devices a filter matches, by id (see Keyset; the list's own order is ascending). */
export async function listDevices(db: DbExecutor, params: DeviceListFilter & Keyset): Promise<DeviceRow[]> {
  return db
    .select()
    .from(devices)
    .where(and(filterWhere(params), keysetWhere(devices.id, params)))
    .orderBy(keysetOrder(devices.id, params))
    .limit(params.limit);
}

/** countDevices counts the devices a filter matches (use the kept counters when no search is given). */
export async function countDevices(db: DbExecutor, filter: DeviceListFilter): Promise<number> {
  const [row] = await db.select({ n: sql<string>`count(*)` }).from(devices).where(filterWhere(filter));
  return Number(row?.n ?? 0);
}

/** countDevicesByStatus is the slow GROUP BY recount, for invariant checks and benchmarks only. */
export async function countDevicesByStatus(db: DbExecutor): Promise<StatusCounts> {
  const rows = await db
    .select({ status: devices.authStatus, count: sql<string>`count(*)` })
    .from(devices)
    .groupBy(devices.authStatus);
  const counts = emptyCounts();
  for (const r of rows) counts[r.status] = Number(r.count);
  return counts;
}

export interface DeviceUpsert {
  name: string;
  agentId: string | null;
  agentVersion: string | null;
  /** From the inventory import: marks the device imported (an update never unmarks it). */
  imported?: boolean;
}

/**
 * upsertDevices inserts devices, or updates the ones already known (by agent id, or by name for
 * agentless devices), and says which rows are new so the caller can count them.
 */
export async function upsertDevices(
  tx: DbExecutor,
  items: DeviceUpsert[],
  at: Date,
): Promise<{ row: DeviceRow; inserted: boolean }[]> {
  // Sorted, so that two imports touching the same devices lock their rows in the same order.
  const withAgent = items.filter((d) => d.agentId !== null).sort((a, b) => (a.agentId! < b.agentId! ? -1 : 1));
  const agentless = items
    .filter((d) => d.agentId === null)
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  const out: { row: DeviceRow; inserted: boolean }[] = [];
  // xmax = 0 only on a freshly inserted row version: it tells inserts from updates in one statement.
  const returning = { ...getTableColumns(devices), inserted: sql<boolean>`(xmax = 0)` };
  if (withAgent.length > 0) {
    const rows = await tx
      .insert(devices)
      .values(withAgent.map((d) => ({ ...d, imported: d.imported === true, createdAt: at, updatedAt: at })))
      .onConflictDoUpdate({
        target: devices.agentId,
        set: {
          name: sql`excluded.name`,
          agentVersion: sql`coalesce(excluded.agent_version, ${devices.agentVersion})`,
          imported: sql`${devices.imported} or excluded.imported`,
          updatedAt: at,
        },
      })
      .returning(returning);
    out.push(...rows.map(({ inserted, ...row }) => ({ row, inserted })));
  }
  if (agentless.length > 0) {
    // The agentless name key is an expression index, which ON CONFLICT (column) cannot name:
    // insert what is new, then update the ones that conflicted.
    const rows = await tx
      .insert(devices)
      .values(agentless.map((d) => ({ ...d, imported: d.imported === true, createdAt: at, updatedAt: at })))
      .onConflictDoNothing()
      .returning();
    const added = new Set(rows.map((r) => r.name.toLowerCase()));
    out.push(...rows.map((row) => ({ row, inserted: true })));
    for (const d of agentless.filter((x) => !added.has(x.name.toLowerCase()))) {
      const [row] = await tx
        .update(devices)
        .set({
          name: d.name,
          agentVersion: sql`coalesce(${d.agentVersion}, ${devices.agentVersion})`,
          imported: sql`${devices.imported} or ${d.imported === true}`,
          updatedAt: at,
        })
        .where(sql`lower(${devices.name}) = ${d.name.toLowerCase()} and ${devices.agentId} is null and not ${devices.isCoreServer}`)
        .returning();
      if (!row) throw new Error(`device ${JSON.stringify(d.name)} neither inserted nor found`);
      out.push({ row, inserted: false });
    }
  }
  return out;
}

/**
 * lockOrInsertDeviceOfAgent locks the device of an agent id, or inserts it with the given name
 * and version when the id is new; an existing device is left as it is.
 */
export async function lockOrInsertDeviceOfAgent(
  tx: DbExecutor,
  d: { agentId: string; name: string; agentVersion: string | null },
  at: Date,
): Promise<{ row: DeviceRow; inserted: boolean }> {
  const [inserted] = await tx
    .insert(devices)
    .values({ ...d, createdAt: at, updatedAt: at })
    .onConflictDoNothing({ target: devices.agentId })
    .returning();
  if (inserted) return { row: inserted, inserted: true };
  const [existing] = await tx.select().from(devices).where(eq(devices.agentId, d.agentId)).for('update');
  if (!existing) throw new Error(`device of agent ${JSON.stringify(d.agentId)} neither inserted nor found`);
  return { row: existing, inserted: false };
}

/**
 * applyRequestedNames gives the devices of approved requests the name and agent version those
 * requests asked for (an enrollment changes nothing on a device until it is approved).
 */
export async function applyRequestedNames(tx: DbExecutor, requestIds: readonly number[], at: Date): Promise<void> {
  if (requestIds.length === 0) return;
  await tx.execute(sql`
    update devices d set
      name = coalesce(c.requested_device_name, d.name),
      agent_version = coalesce(c.requested_agent_version, d.agent_version),
      updated_at = ${at.toISOString()}::timestamptz
    from client_certificates c
    where c.id = any(${`{${requestIds.map((id) => Math.trunc(id)).join(',')}}`}::bigint[])
      and c.device_id = d.id
      and (c.requested_device_name is not null or c.requested_agent_version is not null)`);
}

/** insertCoreDevice registers the core server as a device unless it already is; returns it. */
export async function insertCoreDevice(tx: DbExecutor, name: string, at: Date): Promise<{ row: DeviceRow; inserted: boolean }> {
  const [inserted] = await tx
    .insert(devices)
    .values({ name, isCoreServer: true, createdAt: at, updatedAt: at })
    .onConflictDoNothing({ target: devices.isCoreServer, where: sql`${devices.isCoreServer}` })
    .returning();
  if (inserted) return { row: inserted, inserted: true };
  const [existing] = await tx.select().from(devices).where(eq(devices.isCoreServer, true));
  if (!existing) throw new Error('core device neither inserted nor found');
  return { row: existing, inserted: false };
}

/** updateDevice writes the given columns of one device. */
export async function updateDevice(tx: DbExecutor, id: number, set: Partial<typeof devices.$inferInsert>): Promise<DeviceRow> {
  const [row] = await tx.update(devices).set(set).where(eq(devices.id, id)).returning();
  return row!;
}

/** A verified connection result as the group commit appends it. */
export type NewConnectionResult = Pick<
  typeof connectionResults.$inferInsert,
  'deviceId' | 'at' | 'source' | 'result' | 'failureReason' | 'agentVersion' | 'certificateSerialNumber' | 'certificateNotAfter' | 'remoteAddress'
>;

/** A verified connection result named by its device's agent id (see insertConnectionResultsOfAgents). */
export type NewAgentConnectionResult = Omit<NewConnectionResult, 'deviceId'> & { agentId: string };

// The rows travel as one jsonb parameter, whatever their number: one prepared statement serves every
// batch. Each row goes to the device of its agent id (devices_agent_id_key); a row whose agent id no
// device has is not inserted.
const INSERT_CONNECTION_RESULTS_OF_AGENTS_SQL = `
  insert into connection_results
    (device_id, at, source, result, failure_reason, agent_version, certificate_serial_number, certificate_not_after, remote_address)
  select d.id, v.at, v.source, v.result, v.failure_reason, v.agent_version, v.certificate_serial_number,
         v.certificate_not_after, v.remote_address
  from jsonb_to_recordset($1::jsonb) as v(
    agent_id text, at timestamptz, source text, result text, failure_reason text, agent_version varchar,
    certificate_serial_number varchar, certificate_not_after timestamptz, remote_address varchar, ord bigint)
  join devices d on d.agent_id = v.agent_id
  order by v.ord
  returning id, device_id`;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function resultJson(r: Omit<NewConnectionResult, 'deviceId'>, ord: number) {
  return {
    ord,
    at: iso(r.at),
    source: r.source,
    result: r.result,
    failure_reason: r.failureReason ?? null,
    agent_version: r.agentVersion ?? null,
    certificate_serial_number: r.certificateSerialNumber ?? null,
    certificate_not_after: iso(r.certificateNotAfter),
    remote_address: r.remoteAddress ?? null,
  };
}

/**
 * insertConnectionResultsOfAgents appends several verified results in one statement, each to the
 * device of its agent id (a row whose agent id no device has is left out), and returns the rows
 * inserted in the order given, each with its device: identity values are drawn row by row in the
 * SELECT's order, so sorting by id restores it. It needs no device id, so a group commit can send
 * it right behind lockDevicesByAgentIds, in the same round trip; the caller checks that every row
 * went to a device it locked.
 */
export async function insertConnectionResultsOfAgents(
  tx: DbExecutor,
  rows: readonly NewAgentConnectionResult[],
): Promise<{ id: number; deviceId: number }[]> {
  if (rows.length === 0) return [];
  const values = JSON.stringify(rows.map((r, ord) => ({ ...resultJson(r, ord), agent_id: r.agentId })));
  const inserted = await executePrepared<{ id: string | number; device_id: string | number }>(
    tx,
    INSERT_CONNECTION_RESULTS_OF_AGENTS_SQL,
    [values],
  );
  return inserted.map((r) => ({ id: Number(r.id), deviceId: Number(r.device_id) })).sort((a, b) => a.id - b.id);
}

/**
 * updateDevicesAfterResults writes the connection state (status, reason, versions, last_* columns,
 * history_count and its epoch) of several devices in one statement, and moves the counters by `counters` in the same statement
 * (see counterAdjustment). The rows must be locked by the caller's transaction.
 */
export async function updateDevicesAfterResults(
  tx: DbExecutor,
  rows: readonly DeviceRow[],
  counters: Partial<StatusCounts> = {},
): Promise<void> {
  const moveCounters = counterAdjustment(counters);
  if (rows.length === 0) {
    if (moveCounters) await executePreparedSql(tx, moveCounters);
    return;
  }
  const values = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      auth_status: r.authStatus,
      failure_reason: r.failureReason,
      agent_version: r.agentVersion,
      last_connection_id: r.lastConnectionId,
      last_attempt_at: iso(r.lastAttemptAt),
      last_source: r.lastSource,
      last_result: r.lastResult,
      last_failure_reason: r.lastFailureReason,
      last_agent_version: r.lastAgentVersion,
      last_certificate_serial: r.lastCertificateSerial,
      last_certificate_not_after: iso(r.lastCertificateNotAfter),
      last_remote_address: r.lastRemoteAddress,
      updated_at: iso(r.updatedAt),
      history_count: r.historyCount,
      history_count_epoch: r.historyCountEpoch,
    })),
  );
  // One parameter, whatever the number of devices: the rows travel as JSON and are unpacked by the server.
  // Two texts only (with or without counters): both run as prepared statements.
  await executePreparedSql(tx, sql`
    ${moveCounters ? sql`with moved_counters as (${moveCounters})` : sql``}
    update devices d set
      auth_status = v.auth_status,
      failure_reason = v.failure_reason,
      agent_version = v.agent_version,
      last_connection_id = v.last_connection_id,
      last_attempt_at = v.last_attempt_at,
      last_source = v.last_source,
      last_result = v.last_result,
      last_failure_reason = v.last_failure_reason,
      last_agent_version = v.last_agent_version,
      last_certificate_serial = v.last_certificate_serial,
      last_certificate_not_after = v.last_certificate_not_after,
      last_remote_address = v.last_remote_address,
      updated_at = v.updated_at,
      history_count = v.history_count,
      history_count_epoch = v.history_count_epoch
    from jsonb_to_recordset(${values}::jsonb) as v(
      id bigint, auth_status text, failure_reason text, agent_version varchar, last_connection_id bigint,
      last_attempt_at timestamptz, last_source text, last_result text, last_failure_reason text,
      last_agent_version varchar, last_certificate_serial varchar, last_certificate_not_after timestamptz,
      last_remote_address varchar, updated_at timestamptz, history_count integer, history_count_epoch bigint)
    where d.id = v.id`);
}

/**
 * listConnectionHistories reads one page of history for each of several devices in a single
 * query (a lateral join); the list's own order is newest first (descending ids), see Keyset.
 */
export async function listConnectionHistories(
  db: DbExecutor,
  deviceIds: readonly number[],
  params: Keyset,
): Promise<Map<number, ConnectionResultRow[]>> {
  const out = new Map<number, ConnectionResultRow[]>(deviceIds.map((id) => [id, []]));
  if (deviceIds.length === 0) return out;
  const ids = sql.join(
    deviceIds.map((id) => sql`${id}`),
    sql`, `,
  );
  // Both orders match connection_results_device_id_idx (device_id, id desc nulls last), read one way or the other: no sort.
  const order = params.order === 'desc' ? sql`c.id desc nulls last` : sql`c.id asc nulls first`;
  const result = await db.execute(sql`
    select r.id, r.device_id, r.at, r.source, r.result, r.failure_reason, r.agent_version,
           r.certificate_serial_number, r.certificate_not_after, r.verified, r.unverified_reason, r.remote_address
    from unnest(array[${ids}]::bigint[]) as d(id)
    cross join lateral (
      select c.* from connection_results c
      where c.device_id = d.id${keysetBoundsSql(sql`c.id`, params)}
      order by ${order}
      limit ${params.limit}
    ) r
    order by r.device_id, r.id ${params.order === 'desc' ? sql`desc` : sql`asc`}`);
  for (const r of rowsOf<Record<string, unknown>>(result)) {
    const deviceId = Number(r.device_id);
    out.get(deviceId)?.push({
      id: Number(r.id),
      deviceId,
      at: new Date(r.at as string | Date),
      source: r.source as ConnectionResultRow['source'],
      result: r.result as ConnectionResultRow['result'],
      failureReason: (r.failure_reason ?? null) as ConnectionResultRow['failureReason'],
      agentVersion: (r.agent_version ?? null) as string | null,
      certificateSerialNumber: (r.certificate_serial_number ?? null) as string | null,
      certificateNotAfter: r.certificate_not_after ? new Date(r.certificate_not_after as string | Date) : null,
      verified: r.verified !== false,
      unverifiedReason: (r.unverified_reason ?? null) as ConnectionResultRow['unverifiedReason'],
      remoteAddress: (r.remote_address ?? null) as string | null,
    });
  }
  return out;
}

/** listCertificatesOfDevices reads the client certificates of several devices, oldest first. */
export async function listCertificatesOfDevices(
  db: DbExecutor,
  deviceIds: readonly number[],
): Promise<ClientCertificateRow[]> {
  if (deviceIds.length === 0) return [];
  return db
    .select()
    .from(clientCertificates)
    .where(inArray(clientCertificates.deviceId, [...deviceIds]))
    .orderBy(asc(clientCertificates.id));
}
