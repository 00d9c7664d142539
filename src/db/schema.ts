import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/pg-core';
import type { RevocationReason } from '../domain/revocation.js';
import { AGENT_ID_MAX_LENGTH, DEVICE_NAME_MAX_LENGTH } from '../domain/names.js';
import {
  AUTH_STATUSES,
  CLIENT_CERTIFICATE_STATUSES,
  CONNECTION_SOURCES,
  UNVERIFIED_REASONS,
  type AuthStatus,
  type ClientCertificateStatus,
  type ConnectionSource,
  type FailureReason,
  type UnverifiedReason,
} from '../domain/statuses.js';

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const devices = pgTable(
  'devices',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    name: varchar('name', { length: DEVICE_NAME_MAX_LENGTH }).notNull(),
    agentId: varchar('agent_id', { length: AGENT_ID_MAX_LENGTH }),
    agentVersion: varchar('agent_version', { length: 64 }),
    isCoreServer: boolean('is_core_server').notNull().default(false),
    authStatus: text('auth_status').$type<AuthStatus>().notNull().default('NO_AUTHENTICATION_INFO'),
    failureReason: text('failure_reason').$type<FailureReason>(),
    // The newest connection result, kept in the row so that lists never join the history.
    lastConnectionId: bigint('last_connection_id', { mode: 'number' }),
    lastAttemptAt: ts('last_attempt_at'),
    lastSource: text('last_source').$type<ConnectionSource>(),
    lastResult: text('last_result').$type<AuthStatus>(),
    lastFailureReason: text('last_failure_reason').$type<FailureReason>(),
    lastAgentVersion: varchar('last_agent_version', { length: 64 }),
    lastCertificateSerial: varchar('last_certificate_serial', { length: 64 }),
    lastCertificateNotAfter: ts('last_certificate_not_after'),
    lastRemoteAddress: varchar('last_remote_address', { length: 64 }),
    /** Known from the inventory import (registerDevices), not only from an agent's enrollment. */
    imported: boolean('imported').notNull().default(false),
    /** Connection results about this device that proved no key on file: counted, never applied. */
    unverifiedAttempts: bigint('unverified_attempts', { mode: 'number' }).notNull().default(0),
    lastUnverifiedAt: ts('last_unverified_at'),
    /**
     * How many connection results the device has, exactly, when known: null (devices from before
     * drizzle/0011, the bulk seed), or a count made in an older history epoch (historyCountEpoch
     * below core_settings.history_epoch), is unknown. The group commit runs the per-device cap only
     * for devices whose count passes CONNECTION_HISTORY_PER_DEVICE or is unknown; with a known count
     * the cap deletes just the oldest excess, an unknown one it recounts (drizzle/0012).
     */
    historyCount: integer('history_count'),
    /**
     * The history epoch (core_settings.history_epoch) historyCount was made in. Retention deletes rows
     * without touching device rows; it bumps the epoch instead, in the same transaction, which makes
     * every count made before it unknown.
     */
    historyCountEpoch: bigint('history_count_epoch', { mode: 'number' }).notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('devices_agent_id_key').on(t.agentId),
    uniqueIndex('devices_one_core_server').on(t.isCoreServer).where(sql`${t.isCoreServer}`),
    // Importing the same agentless device twice updates it instead of duplicating it.
    uniqueIndex('devices_agentless_name_key')
      .on(sql`lower(${t.name})`)
      .where(sql`${t.agentId} is null and not ${t.isCoreServer}`),
    index('devices_auth_status_id_idx').on(t.authStatus, t.id),
    // The expiry sweep finds authenticated devices whose certificate has run out without a scan.
    index('devices_succeeded_cert_expiry_idx')
      .on(t.lastCertificateNotAfter)
      .where(sql`${t.authStatus} = 'AUTHENTICATION_SUCCEEDED'`),
    // Troubleshooting lists (DeviceFilter.failureReasons): the failed devices of some reasons, in id order.
    index('devices_failed_reason_id_idx')
      .on(t.failureReason, t.id)
      .where(sql`${t.authStatus} = 'AUTHENTICATION_FAILED'`),
    index('devices_name_trgm_idx').using('gin', sql`lower(${t.name}) gin_trgm_ops`),
    index('devices_agent_id_trgm_idx').using('gin', sql`lower(${t.agentId}) gin_trgm_ops`),
    check('devices_auth_status_check', sql`${t.authStatus} in (${inList(AUTH_STATUSES)})`),
  ],
);

// Partitioned by RANGE on `at` (drizzle/0009, written by hand: drizzle-kit knows no partitions):
// partitions of whole UTC days made ahead by the maintenance rounds (history-partitions.ts), a
// DEFAULT partition for whatever falls outside them, retention by dropping whole partitions.
export const connectionResults = pgTable(
  'connection_results',
  {
    // Unique by its identity sequence; the primary key must hold the partition key, hence (id, at).
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    deviceId: bigint('device_id', { mode: 'number' })
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    at: ts('at').notNull(),
    source: text('source').$type<ConnectionSource>().notNull(),
    result: text('result').$type<AuthStatus>().notNull(),
    failureReason: text('failure_reason').$type<FailureReason>(),
    agentVersion: varchar('agent_version', { length: 64 }),
    certificateSerialNumber: varchar('certificate_serial_number', { length: 64 }),
    certificateNotAfter: ts('certificate_not_after'),
    /** False for an attempt that proved no key on file: kept for the admin, never applied to the device. */
    verified: boolean('verified').notNull().default(true),
    unverifiedReason: text('unverified_reason').$type<UnverifiedReason>(),
    /** The address the attempt came from, as the gateway saw it. */
    remoteAddress: varchar('remote_address', { length: 64 }),
  },
  (t) => [
    primaryKey({ name: 'connection_results_pkey', columns: [t.id, t.at] }),
    // A device's history, newest first; it also finds what the per-device cap deletes. Its order is
    // "id desc nulls last": a query must say the same (not a bare "desc") to read it without a sort.
    index('connection_results_device_id_idx').on(t.deviceId, t.id.desc()),
    // A device's unverified attempts, newest first: only the latest few are kept.
    index('connection_results_unverified_idx').on(t.deviceId, t.id.desc()).where(sql`not ${t.verified}`),
    check(
      'connection_results_unverified_check',
      sql`${t.verified} = (${t.unverifiedReason} is null) and (${t.unverifiedReason} is null or ${t.unverifiedReason} in (${inList(UNVERIFIED_REASONS)}))`,
    ),
    check('connection_results_source_check', sql`${t.source} in (${inList(CONNECTION_SOURCES)})`),
    check(
      'connection_results_result_check',
      sql`${t.result} in ('AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED', 'CLIENT_AGENTS_MUST_UPGRADE')`,
    ),
  ],
);

/** The chart's counters: changed in the same transaction as the device statuses they count. */
export const authStatusCounters = pgTable(
  'auth_status_counters',
  {
    status: text('status').$type<AuthStatus>().primaryKey(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    check('auth_status_counters_status_check', sql`${t.status} in (${inList(AUTH_STATUSES)})`),
    check('auth_status_counters_count_check', sql`${t.count} >= 0`),
  ],
);

/** One row: the core-wide switches. A trigger refuses turning the security model off. */
export const coreSettings = pgTable(
  'core_settings',
  {
    id: smallint('id').primaryKey().default(1),
    clientCertificateSecurityEnabled: boolean('client_certificate_security_enabled').notNull().default(false),
    enabledAt: ts('enabled_at'),
    enabledBy: text('enabled_by'),
    coreDeviceId: bigint('core_device_id', { mode: 'number' }).references(() => devices.id),
    /**
     * Bumped by each retention that deletes connection results (certfleet_drop_connection_history,
     * drizzle/0012), in its transaction: a device's history_count made in an older epoch is unknown.
     */
    historyEpoch: bigint('history_epoch', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('core_settings_single_row', sql`${t.id} = 1`)],
);

/** One row: this core's CA, its private key sealed (AES-256-GCM) by src/pki/key-protection. */
export const certificateAuthority = pgTable(
  'certificate_authority',
  {
    id: smallint('id').primaryKey().default(1),
    subject: text('subject').notNull(),
    certificatePem: text('certificate_pem').notNull(),
    sealedPrivateKey: text('sealed_private_key').notNull(),
    fingerprint: varchar('fingerprint', { length: 64 }).notNull(),
    serialNumber: varchar('serial_number', { length: 64 }).notNull(),
    notBefore: ts('not_before').notNull(),
    notAfter: ts('not_after').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [check('certificate_authority_single_row', sql`${t.id} = 1`)],
);

export const clientCertificates = pgTable(
  'client_certificates',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deviceId: bigint('device_id', { mode: 'number' })
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    status: text('status').$type<ClientCertificateStatus>().notNull().default('PENDING'),
    subject: text('subject').notNull(),
    keyAlgorithm: varchar('key_algorithm', { length: 32 }).notNull(),
    publicKeyFingerprint: varchar('public_key_fingerprint', { length: 64 }).notNull(),
    /** The requested key (SubjectPublicKeyInfo DER, base64), kept so approval need not parse the CSR again. */
    publicKeySpki: text('public_key_spki'),
    csrPem: text('csr_pem').notNull(),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    decidedAt: ts('decided_at'),
    decidedBy: text('decided_by'),
    decisionNote: text('decision_note'),
    serialNumber: varchar('serial_number', { length: 64 }),
    notBefore: ts('not_before'),
    notAfter: ts('not_after'),
    certificatePem: text('certificate_pem'),
    revokedAt: ts('revoked_at'),
    revocationReason: text('revocation_reason').$type<RevocationReason>(),
    /** The address the request came from (for auto-approval by network, and the audit). */
    requestedFrom: varchar('requested_from', { length: 64 }),
    /** The name and version the request asks for: applied to the device only when it is approved. */
    requestedDeviceName: varchar('requested_device_name', { length: DEVICE_NAME_MAX_LENGTH }),
    requestedAgentVersion: varchar('requested_agent_version', { length: 64 }),
  },
  (t) => [
    index('client_certificates_status_id_idx').on(t.status, t.id),
    index('client_certificates_device_id_idx').on(t.deviceId, t.id),
    // ClientAccessRequestFilter.search on the requested name (the device's name and agent id go through the devices' trigram indexes).
    index('client_certificates_requested_name_trgm_idx').using('gin', sql`lower(${t.requestedDeviceName}) gin_trgm_ops`),
    uniqueIndex('client_certificates_serial_key').on(t.serialNumber),
    uniqueIndex('client_certificates_device_key_key').on(t.deviceId, t.publicKeyFingerprint),
    // The metrics' certificates expiring soon: approved ones by the end of their validity, read as a range.
    index('client_certificates_approved_not_after_idx')
      .on(t.notAfter)
      .where(sql`${t.status} = 'APPROVED'`),
    check('client_certificates_status_check', sql`${t.status} in (${inList(CLIENT_CERTIFICATE_STATUSES)})`),
  ],
);

/**
 * How many client certificates are in each status, kept as changes: triggers on client_certificates
 * (drizzle/0008) append one row per status a statement changes, the maintenance rounds fold the rows
 * into one per status, and a reader sums what is there. Appending takes no lock that two writers
 * could contend for (a counter row would serialise every enrollment and approval on it), and the
 * sum costs the rows written since the last fold, not the number of certificates.
 */
export const clientCertificateStatusLedger = pgTable(
  'client_certificate_status_ledger',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    status: text('status').$type<ClientCertificateStatus>().notNull(),
    delta: bigint('delta', { mode: 'number' }).notNull(),
  },
  (t) => [check('client_certificate_status_ledger_status_check', sql`${t.status} in (${inList(CLIENT_CERTIFICATE_STATUSES)})`)],
);

/** One row: the current CRL, reissued within the CRL window of a revocation (crlPendingRevocations) and before it would expire. */
export const revocationList = pgTable(
  'revocation_list',
  {
    id: smallint('id').primaryKey().default(1),
    crlNumber: bigint('crl_number', { mode: 'number' }).notNull(),
    crlPem: text('crl_pem').notNull(),
    thisUpdate: ts('this_update').notNull(),
    nextUpdate: ts('next_update').notNull(),
  },
  (t) => [check('revocation_list_single_row', sql`${t.id} = 1`)],
);

/**
 * One row per committed revocation the current CRL may not name yet (a revoking transaction inserts
 * one; the CRL's signer deletes those it saw when it stores the CRL it signed after them). Insert-only
 * for revokers, so a revocation never waits for a signature or for another revocation; "at" is the
 * database's clock, so that replicas agree on how old the oldest one is.
 */
export const crlPendingRevocations = pgTable('crl_pending_revocations', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: ts('at').notNull().default(sql`clock_timestamp()`),
  /** The certificates it revoked, so that the next CRL adds them to the last one's entries; null: read every revoked certificate again. */
  certificateIds: bigint('certificate_ids', { mode: 'number' }).array(),
});

/** Secrets the core hands to devices; values sealed (AES-256-GCM) and bound to their name. */
export const secureData = pgTable('secure_data', {
  name: varchar('name', { length: 128 }).primaryKey(),
  sealedValue: text('sealed_value').notNull(),
  updatedAt: ts('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});

export const savedQueries = pgTable(
  'saved_queries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    owner: text('owner').notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    folder: text('folder').array().notNull(),
    // 'CHART' for a chart-generated query; its filter is authStatus alone.
    kind: varchar('kind', { length: 16 }).notNull(),
    authStatus: text('auth_status').$type<AuthStatus>(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('saved_queries_owner_idx').on(t.owner, t.id),
    uniqueIndex('saved_queries_chart_key').on(t.owner, t.authStatus).where(sql`${t.kind} = 'CHART'`),
  ],
);

export const auditEvents = pgTable('audit_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: ts('at').notNull().defaultNow(),
  actor: text('actor').notNull(),
  action: varchar('action', { length: 64 }).notNull(),
  targetId: text('target_id'),
  details: text('details'),
});
