import { and, asc, eq, gt, inArray, notInArray, sql, type SQL } from 'drizzle-orm';
import type { DbExecutor } from './client.js';
import { keysetBoundsSql, keysetOrder, keysetWhere, type Keyset } from './keyset.js';
import { containsPattern } from './like.js';
import type { ClientCertificateRow } from './device-queries.js';
import { executePrepared } from './prepared.js';
import { rowsOf } from './rows.js';
import { clientCertificates, crlPendingRevocations, devices, revocationList, secureData } from './schema.js';
import type { ClientCertificateStatus } from '../domain/statuses.js';
import type { RevocationReason } from '../domain/revocation.js';

export type RevocationListRow = typeof revocationList.$inferSelect;
export type SecureDataRow = typeof secureData.$inferSelect;

/** insertCertificateRequest opens a PENDING request unless the device asked with this key before; returns the request either way. */
export async function insertCertificateRequest(
  tx: DbExecutor,
  row: typeof clientCertificates.$inferInsert,
): Promise<{ row: ClientCertificateRow; inserted: boolean }> {
  const [inserted] = await tx.insert(clientCertificates).values(row).onConflictDoNothing().returning();
  if (inserted) return { row: inserted, inserted: true };
  const [existing] = await tx
    .select()
    .from(clientCertificates)
    .where(
      and(
        eq(clientCertificates.deviceId, row.deviceId),
        eq(clientCertificates.publicKeyFingerprint, row.publicKeyFingerprint),
      ),
    );
  if (!existing) throw new Error('certificate request neither inserted nor found');
  return { row: existing, inserted: false };
}

/** getCertificateById reads one request or certificate. */
export async function getCertificateById(db: DbExecutor, id: number): Promise<ClientCertificateRow | undefined> {
  const [row] = await db.select().from(clientCertificates).where(eq(clientCertificates.id, id));
  return row;
}

/** getCertificatesByIds reads several requests in one query (order not kept). */
export async function getCertificatesByIds(db: DbExecutor, ids: number[]): Promise<ClientCertificateRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(clientCertificates).where(inArray(clientCertificates.id, ids));
}

/** lockCertificatesByIds reads requests and locks them until the transaction ends, so one decision wins. */
export async function lockCertificatesByIds(tx: DbExecutor, ids: number[]): Promise<ClientCertificateRow[]> {
  if (ids.length === 0) return [];
  return tx
    .select()
    .from(clientCertificates)
    .where(inArray(clientCertificates.id, ids))
    .orderBy(asc(clientCertificates.id))
    .for('update');
}

/** getCertificateWithAgentBySerial finds an issued certificate and the agent id of its device. */
export async function getCertificateWithAgentBySerial(
  db: DbExecutor,
  serialNumber: string,
): Promise<{ cert: ClientCertificateRow; agentId: string | null } | undefined> {
  const [row] = await db
    .select({ cert: clientCertificates, agentId: devices.agentId })
    .from(clientCertificates)
    .innerJoin(devices, eq(devices.id, clientCertificates.deviceId))
    .where(eq(clientCertificates.serialNumber, serialNumber));
  return row;
}

/** getCertificatesWithAgentBySerials is getCertificateWithAgentBySerial for several serials in one query. */
export async function getCertificatesWithAgentBySerials(
  db: DbExecutor,
  serialNumbers: readonly string[],
): Promise<{ cert: ClientCertificateRow; agentId: string | null }[]> {
  if (serialNumbers.length === 0) return [];
  return db
    .select({ cert: clientCertificates, agentId: devices.agentId })
    .from(clientCertificates)
    .innerJoin(devices, eq(devices.id, clientCertificates.deviceId))
    .where(inArray(clientCertificates.serialNumber, [...serialNumbers]));
}

/** getRequestOfDeviceKey finds the request a device made for a public key. */
export async function getRequestOfDeviceKey(
  db: DbExecutor,
  deviceId: number,
  publicKeyFingerprint: string,
): Promise<ClientCertificateRow | undefined> {
  const [row] = await db
    .select()
    .from(clientCertificates)
    .where(
      and(eq(clientCertificates.deviceId, deviceId), eq(clientCertificates.publicKeyFingerprint, publicKeyFingerprint)),
    );
  return row;
}

/** RequestListFilter narrows the Manage client access list; every part given must hold. */
export interface RequestListFilter {
  statuses?: ClientCertificateStatus[];
  /** Case-insensitive substring of the device's name or agent id, or of the name the request asks for. */
  search?: string;
}

/**
 * requestFilterWhere is the WHERE of a request list. With a page (a Keyset), each search branch
 * stops at the page's size too: the planner can then walk the ids in order and stop early for a
 * search most rows match, or start from the trigram indexes for a rare one.
 */
function requestFilterWhere(filter: RequestListFilter, page?: Keyset): SQL | undefined {
  const c = clientCertificates;
  const bounds = page ? keysetWhere(c.id, page) : undefined;
  const statuses = filter.statuses ? inArray(c.status, filter.statuses) : undefined;
  if (!filter.search) return and(statuses, bounds);
  const pattern = containsPattern(filter.search);
  const also = sql`${
    filter.statuses ? sql` and r.status in (${sql.join(filter.statuses.map((st) => sql`${st}`), sql`, `)})` : sql``
  }${page ? keysetBoundsSql(sql`r.id`, page) : sql``}`;
  const limit = page ? sql` order by r.id ${page.order === 'asc' ? sql`asc` : sql`desc`} limit ${page.limit}` : sql``;
  // Two branches, each served by trigram indexes: the devices' on lower(name) and lower(agent_id)
  // (then client_certificates_device_id_idx), and client_certificates_requested_name_trgm_idx. An OR
  // across the two tables in one WHERE would make PostgreSQL test every request row instead.
  return and(
    statuses,
    bounds,
    sql`${c.id} in (
      (select r.id from client_certificates r join devices d on d.id = r.device_id
       where (lower(d.name) like ${pattern} or lower(d.agent_id) like ${pattern})${also}${limit})
      union
      (select r.id from client_certificates r
       where lower(r.requested_device_name) like ${pattern}${also}${limit}))`,
  );
}

/** listCertificates reads a page of the requests a filter matches, by id (see Keyset; the list's own order is ascending). */
export async function listCertificates(
  db: DbExecutor,
  params: RequestListFilter & Keyset,
): Promise<ClientCertificateRow[]> {
  return db
    .select()
    .from(clientCertificates)
    .where(requestFilterWhere(params, params))
    .orderBy(keysetOrder(clientCertificates.id, params))
    .limit(params.limit);
}

/** countCertificates counts the requests a filter matches. */
export async function countCertificates(db: DbExecutor, filter: RequestListFilter): Promise<number> {
  const [row] = await db.select({ n: sql<string>`count(*)` }).from(clientCertificates).where(requestFilterWhere(filter));
  return Number(row?.n ?? 0);
}

/** updateCertificate writes the given columns of one request. */
export async function updateCertificate(
  tx: DbExecutor,
  id: number,
  set: Partial<typeof clientCertificates.$inferInsert>,
): Promise<ClientCertificateRow> {
  const [row] = await tx.update(clientCertificates).set(set).where(eq(clientCertificates.id, id)).returning();
  return row!;
}

/** revokeCertificates revokes the approved certificates among ids, with one reason; returns those it revoked. */
export async function revokeCertificates(
  tx: DbExecutor,
  ids: readonly number[],
  reason: RevocationReason,
  at: Date,
): Promise<ClientCertificateRow[]> {
  if (ids.length === 0) return [];
  return tx
    .update(clientCertificates)
    .set({ status: 'REVOKED', revokedAt: at, revocationReason: reason })
    .where(and(inArray(clientCertificates.id, [...ids]), eq(clientCertificates.status, 'APPROVED')))
    .returning();
}

/** supersedeApprovedCertificates revokes the devices' other approved certificates once new ones are approved. */
export async function supersedeApprovedCertificates(
  tx: DbExecutor,
  deviceIds: readonly number[],
  exceptIds: readonly number[],
  at: Date,
): Promise<ClientCertificateRow[]> {
  if (deviceIds.length === 0) return [];
  return tx
    .update(clientCertificates)
    .set({ status: 'REVOKED', revokedAt: at, revocationReason: 'SUPERSEDED' })
    .where(
      and(
        inArray(clientCertificates.deviceId, [...deviceIds]),
        eq(clientCertificates.status, 'APPROVED'),
        exceptIds.length === 0 ? undefined : notInArray(clientCertificates.id, [...exceptIds]),
      ),
    )
    .returning();
}

/** approveCertificates records the issued certificates of several requests in one statement. */
export async function approveCertificates(
  tx: DbExecutor,
  items: { id: number; serialNumber: string; notBefore: Date; notAfter: Date; certificatePem: string }[],
  decidedBy: string,
  at: Date,
): Promise<ClientCertificateRow[]> {
  if (items.length === 0) return [];
  // The whole batch travels as one jsonb parameter (dates as ISO text): one code path for both
  // drivers, and a statement drizzle builds from a handful of chunks, not five parameters per item.
  const values = JSON.stringify(
    items.map((i) => ({ id: i.id, serial: i.serialNumber, nb: i.notBefore.toISOString(), na: i.notAfter.toISOString(), pem: i.certificatePem })),
  );
  // The approved rows come back from the update itself (returning), not from a second read.
  return tx
    .update(clientCertificates)
    .set({
      status: 'APPROVED',
      decidedAt: sql`${at.toISOString()}::timestamptz`,
      decidedBy,
      serialNumber: sql`v.serial`,
      notBefore: sql`v.nb`,
      notAfter: sql`v.na`,
      certificatePem: sql`v.pem`,
    })
    .from(sql`jsonb_to_recordset(${values}::jsonb) as v(id bigint, serial text, nb timestamptz, na timestamptz, pem text)`)
    .where(sql`${clientCertificates.id} = v.id`)
    .returning();
}

// What a CRL entry needs of a revoked certificate: never whole rows, which carry two PEMs each.
const REVOKED_ENTRY_COLUMNS = {
  serialNumber: clientCertificates.serialNumber,
  revokedAt: clientCertificates.revokedAt,
  revocationReason: clientCertificates.revocationReason,
  notAfter: clientCertificates.notAfter,
};

/**
 * listRevokedUnexpired lists what a CRL entry needs of each revoked certificate the CRL must still
 * name. Only those columns: whole rows carry two PEMs each, which at a million devices made this
 * read of every CRL reissue several times slower (a sort spilled to disk, megabytes sent).
 */
export async function listRevokedUnexpired(db: DbExecutor, now: Date): Promise<RevokedEntry[]> {
  return db
    .select(REVOKED_ENTRY_COLUMNS)
    .from(clientCertificates)
    .where(and(eq(clientCertificates.status, 'REVOKED'), gt(clientCertificates.notAfter, now)))
    .orderBy(asc(clientCertificates.id));
}

/** getRevocationList reads the current CRL, if one was issued. */
export async function getRevocationList(db: DbExecutor): Promise<RevocationListRow | undefined> {
  const [row] = await db.select().from(revocationList).where(eq(revocationList.id, 1));
  return row;
}

/** lockRevocationList reads the CRL row and locks it, so CRL numbers are issued one at a time. */
export async function lockRevocationList(tx: DbExecutor): Promise<RevocationListRow | undefined> {
  const [row] = await tx.select().from(revocationList).where(eq(revocationList.id, 1)).for('update');
  return row;
}

/** saveRevocationList stores a newly issued CRL. */
export async function saveRevocationList(tx: DbExecutor, row: Omit<RevocationListRow, 'id'>): Promise<void> {
  await tx
    .insert(revocationList)
    .values({ id: 1, ...row })
    .onConflictDoUpdate({ target: revocationList.id, set: row });
}

/** CRL_REISSUE_LOCK is the advisory lock key (any constant) a CRL's signer holds: one replica signs a given reissue. */
export const CRL_REISSUE_LOCK = 0x63_72_6c_31;

/** insertCrlPending records, in the revoking transaction, that the CRL must be reissued to name what it revoked (null: read them all again). */
export async function insertCrlPending(tx: DbExecutor, certificateIds: readonly number[] | null): Promise<void> {
  await tx.insert(crlPendingRevocations).values({ certificateIds: certificateIds === null ? null : [...certificateIds] });
}

/**
 * lockCrlReissue takes the CRL signer's lock until the transaction ends: with wait, after whoever
 * holds it; without, only if it is free (false: another replica is signing).
 */
export async function lockCrlReissue(tx: DbExecutor, wait: boolean): Promise<boolean> {
  const result = await tx.execute(
    wait
      ? sql`select true as locked from pg_advisory_xact_lock(${CRL_REISSUE_LOCK})`
      : sql`select pg_try_advisory_xact_lock(${CRL_REISSUE_LOCK}) as locked`,
  );
  return rowsOf<{ locked: boolean }>(result)[0]?.locked === true;
}

/** listCrlPending lists the pending revocations' marks committed so far, with the certificates each revoked. */
export async function listCrlPending(db: DbExecutor): Promise<{ id: number; certificateIds: number[] | null }[]> {
  return db.select({ id: crlPendingRevocations.id, certificateIds: crlPendingRevocations.certificateIds }).from(crlPendingRevocations);
}

/** RevokedEntry is what a CRL entry needs of a revoked certificate, and when it may leave the CRL (notAfter). */
export type RevokedEntry = Pick<ClientCertificateRow, 'serialNumber' | 'revokedAt' | 'revocationReason' | 'notAfter'>;

/** listRevokedByIds reads the CRL entries of the given certificates that are revoked and unexpired. */
export async function listRevokedByIds(db: DbExecutor, ids: readonly number[], now: Date): Promise<RevokedEntry[]> {
  if (ids.length === 0) return [];
  return db
    .select(REVOKED_ENTRY_COLUMNS)
    .from(clientCertificates)
    .where(and(inArray(clientCertificates.id, [...ids]), eq(clientCertificates.status, 'REVOKED'), gt(clientCertificates.notAfter, now)));
}

/** deleteCrlPending deletes the marks a stored CRL covers. */
export async function deleteCrlPending(tx: DbExecutor, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.delete(crlPendingRevocations).where(inArray(crlPendingRevocations.id, [...ids]));
}

/**
 * getRevocationListHead reads the current CRL's number and times without its PEM (megabytes at tens
 * of thousands of entries), and how long ago, by the database's clock, the oldest revocation it may
 * not name yet was committed (null: none pending).
 */
export async function getRevocationListHead(
  db: DbExecutor,
): Promise<{ crl: Omit<RevocationListRow, 'crlPem' | 'id'> | null; pendingAgeMs: number | null }> {
  const result = await db.execute(sql`
    select r.crl_number, r.this_update, r.next_update,
      (select extract(epoch from clock_timestamp() - min(p.at)) * 1000 from crl_pending_revocations p) as pending_age_ms
    from (select 1) one left join revocation_list r on r.id = 1`);
  const row = rowsOf<Record<string, unknown>>(result)[0]!;
  const age = row.pending_age_ms === null || row.pending_age_ms === undefined ? null : Math.max(0, Number(row.pending_age_ms));
  if (row.crl_number === null || row.crl_number === undefined) return { crl: null, pendingAgeMs: age };
  return {
    crl: {
      crlNumber: Number(row.crl_number),
      thisUpdate: new Date(row.this_update as string | Date),
      nextUpdate: new Date(row.next_update as string | Date),
    },
    pendingAgeMs: age,
  };
}

/** getRevocationListPem reads the PEM of the current CRL with its number (null: none issued). */
export async function getRevocationListPem(db: DbExecutor): Promise<{ crlNumber: number; crlPem: string } | null> {
  const [row] = await db
    .select({ crlNumber: revocationList.crlNumber, crlPem: revocationList.crlPem })
    .from(revocationList)
    .where(eq(revocationList.id, 1));
  return row ?? null;
}

/** upsertSecureData stores a sealed secret under its name. */
export async function upsertSecureData(tx: DbExecutor, row: SecureDataRow): Promise<SecureDataRow> {
  const [saved] = await tx
    .insert(secureData)
    .values(row)
    .onConflictDoUpdate({
      target: secureData.name,
      set: { sealedValue: row.sealedValue, updatedAt: row.updatedAt, updatedBy: row.updatedBy },
    })
    .returning();
  return saved!;
}

/** getSecureData reads one sealed secret. */
export async function getSecureData(db: DbExecutor, name: string): Promise<SecureDataRow | undefined> {
  const [row] = await db.select().from(secureData).where(eq(secureData.name, name));
  return row;
}

/** listSecureDataNames lists the secrets' names and update times, never their values. */
export async function listSecureDataNames(db: DbExecutor): Promise<{ name: string; updatedAt: Date }[]> {
  return db
    .select({ name: secureData.name, updatedAt: secureData.updatedAt })
    .from(secureData)
    .orderBy(asc(secureData.name));
}

/** KeyProof is what the core has on file about one (agent id, presented key) pair. */
export interface KeyProof {
  deviceId: number;
  /** The device came from the inventory import (registerDevices). */
  imported: boolean;
  /** The device has any request or certificate: a key on file. */
  hasKeyOnFile: boolean;
  /** The device has a certificate this core issued (approved at some point, maybe since revoked or expired). */
  hasIssuedCertificate: boolean;
  /** The request or certificate of the presented key for this device, if there is one. */
  key: { id: number; status: ClientCertificateStatus; serialNumber: string | null } | null;
}

/** CertificateRecord is what the core has on file about an issued certificate, found by its serial number. */
export interface CertificateRecord {
  status: ClientCertificateStatus;
  /** The agent id of the device it was issued to (whoever presents it). */
  agentId: string | null;
}

/** ConnectionCheck is what one agent connection needs from the database, read on every request. */
export interface ConnectionCheck {
  /** The device of the agent id and what it has on file for the presented key; null when the agent id is not known. */
  proof: KeyProof | null;
  /** The certificate of the serial number asked for, whoever it was issued to; null when none was asked for or none has it. */
  certificate: CertificateRecord | null;
}

// One jsonb parameter whatever the number of items, so one prepared statement serves every batch.
// Every item gets its row (left joins): at most one device per agent id, one request per
// (device, key) and one certificate per serial number, so never more than one.
const CONNECTION_CHECKS_SQL = `
  select i.ord, d.id as device_id, d.imported,
         exists (select 1 from client_certificates c where c.device_id = d.id) as has_key,
         exists (select 1 from client_certificates c where c.device_id = d.id and c.serial_number is not null) as has_issued,
         k.id as key_id, k.status as key_status, k.serial_number as key_serial,
         s.id as cert_id, s.status as cert_status, sd.agent_id as cert_agent_id
  from jsonb_to_recordset($1::jsonb) as i(ord int, agent_id text, fp text, serial text)
  left join devices d on d.agent_id = i.agent_id
  left join client_certificates k on k.device_id = d.id and k.public_key_fingerprint = i.fp
  left join client_certificates s on s.serial_number = i.serial
  left join devices sd on sd.id = s.device_id`;

/**
 * getConnectionChecks reads, for several connections in one prepared statement, the device of each
 * agent id and what the core has on file about the presented key for it (a null fingerprint, no
 * certificate presented, matches no key), and the record of the certificate of each serial number
 * given (only the status and its device's agent id, not the row with its two PEMs).
 */
export async function getConnectionChecks(
  db: DbExecutor,
  items: readonly { agentId: string; fingerprint: string | null; serialNumber: string | null }[],
): Promise<ConnectionCheck[]> {
  if (items.length === 0) return [];
  const input = JSON.stringify(items.map((i, ord) => ({ ord, agent_id: i.agentId, fp: i.fingerprint, serial: i.serialNumber })));
  const rows = await executePrepared<Record<string, unknown>>(db, CONNECTION_CHECKS_SQL, [input]);
  const out: ConnectionCheck[] = items.map(() => ({ proof: null, certificate: null }));
  const isNull = (v: unknown) => v === null || v === undefined;
  for (const r of rows) {
    out[Number(r.ord)] = {
      proof: isNull(r.device_id)
        ? null
        : {
            deviceId: Number(r.device_id),
            imported: r.imported === true,
            hasKeyOnFile: r.has_key === true,
            hasIssuedCertificate: r.has_issued === true,
            key: isNull(r.key_id)
              ? null
              : {
                  id: Number(r.key_id),
                  status: r.key_status as ClientCertificateStatus,
                  serialNumber: (r.key_serial ?? null) as string | null,
                },
          },
      certificate: isNull(r.cert_id)
        ? null
        : { status: r.cert_status as ClientCertificateStatus, agentId: (r.cert_agent_id ?? null) as string | null },
    };
  }
  return out;
}

/** countPendingRequestsOfDevice counts a device's open (PENDING) requests. */
export async function countPendingRequestsOfDevice(db: DbExecutor, deviceId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<string>`count(*)` })
    .from(clientCertificates)
    .where(and(eq(clientCertificates.deviceId, deviceId), eq(clientCertificates.status, 'PENDING')));
  return Number(row?.n ?? 0);
}

/** rejectCertificates records the rejection of several requests in one statement. */
export async function rejectCertificates(
  tx: DbExecutor,
  ids: number[],
  decidedBy: string,
  note: string | null,
  at: Date,
): Promise<ClientCertificateRow[]> {
  if (ids.length === 0) return [];
  return tx
    .update(clientCertificates)
    .set({ status: 'REJECTED', decidedAt: at, decidedBy, decisionNote: note })
    .where(inArray(clientCertificates.id, ids))
    .returning();
}
