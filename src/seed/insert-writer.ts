// The INSERT writer of the bulk seed: one INSERT ... SELECT FROM unnest(...) per table, each column
// one array parameter. Used on PGlite, and on a PostgreSQL server when COPY is turned off.
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import type { Batch } from './columns.js';

// Timestamps travel as epoch milliseconds (float8) and numbers and text as arrays: one parameter per column.
const arr = (values: unknown[]) => sql.param(values);
const tsOf = (column: string) => sql.raw(`to_timestamp(${column} / 1000.0)`);

/** insertBatch sends the three INSERTs at once: they run in order on the transaction's connection, pipelined. */
export async function insertBatch(tx: Tx, b: Batch): Promise<void> {
  const d = b.devices;
  const statements: Promise<unknown>[] = [];
  statements.push(tx.execute(sql`
    insert into devices (id, name, agent_id, agent_version, is_core_server, auth_status, failure_reason,
      last_connection_id, last_attempt_at, last_source, last_result, last_failure_reason, last_agent_version,
      last_certificate_serial, last_certificate_not_after, created_at, updated_at)
    overriding system value
    select id, name, agent_id, agent_version, false, auth_status, failure_reason,
      last_connection_id, ${tsOf('last_attempt_at')}, last_source, last_result, last_failure_reason, last_agent_version,
      last_certificate_serial, ${tsOf('last_certificate_not_after')}, ${tsOf('created_at')}, ${tsOf('updated_at')}
    from unnest(${arr(d.id)}::bigint[], ${arr(d.name)}::text[], ${arr(d.agentId)}::text[], ${arr(d.agentVersion)}::text[],
      ${arr(d.authStatus)}::text[], ${arr(d.failureReason)}::text[], ${arr(d.lastConnectionId)}::bigint[],
      ${arr(d.lastAttemptAt)}::float8[], ${arr(d.lastSource)}::text[], ${arr(d.lastResult)}::text[],
      ${arr(d.lastFailureReason)}::text[], ${arr(d.lastAgentVersion)}::text[], ${arr(d.lastCertificateSerial)}::text[],
      ${arr(d.lastCertificateNotAfter)}::float8[], ${arr(d.createdAt)}::float8[], ${arr(d.updatedAt)}::float8[])
      as t(id, name, agent_id, agent_version, auth_status, failure_reason, last_connection_id, last_attempt_at,
        last_source, last_result, last_failure_reason, last_agent_version, last_certificate_serial,
        last_certificate_not_after, created_at, updated_at)`));
  const h = b.history;
  if (h.id.length > 0) {
    statements.push(tx.execute(sql`
      insert into connection_results (id, device_id, at, source, result, failure_reason, agent_version,
        certificate_serial_number, certificate_not_after)
      overriding system value
      select id, device_id, ${tsOf('at')}, source, result, failure_reason, agent_version, serial, ${tsOf('not_after')}
      from unnest(${arr(h.id)}::bigint[], ${arr(h.deviceId)}::bigint[], ${arr(h.at)}::float8[], ${arr(h.source)}::text[],
        ${arr(h.result)}::text[], ${arr(h.failureReason)}::text[], ${arr(h.agentVersion)}::text[], ${arr(h.serial)}::text[],
        ${arr(h.notAfter)}::float8[])
        as t(id, device_id, at, source, result, failure_reason, agent_version, serial, not_after)`));
  }
  const c = b.certificates;
  if (c.deviceId.length > 0) {
    statements.push(tx.execute(sql`
      insert into client_certificates (device_id, status, subject, key_algorithm, public_key_fingerprint, public_key_spki,
        csr_pem, requested_at, decided_at, decided_by, decision_note, serial_number, not_before, not_after,
        certificate_pem, revoked_at, revocation_reason, requested_from)
      select device_id, status, subject, 'EC-P256', fingerprint, spki, csr_pem, ${tsOf('requested_at')},
        ${tsOf('decided_at')}, decided_by, decision_note, serial, ${tsOf('not_before')}, ${tsOf('not_after')},
        certificate_pem, ${tsOf('revoked_at')}, revocation_reason, requested_from
      from unnest(${arr(c.deviceId)}::bigint[], ${arr(c.status)}::text[], ${arr(c.subject)}::text[],
        ${arr(c.fingerprint)}::text[], ${arr(c.spki)}::text[], ${arr(c.csrPem)}::text[], ${arr(c.requestedAt)}::float8[],
        ${arr(c.decidedAt)}::float8[], ${arr(c.decidedBy)}::text[], ${arr(c.decisionNote)}::text[], ${arr(c.serial)}::text[],
        ${arr(c.notBefore)}::float8[], ${arr(c.notAfter)}::float8[], ${arr(c.certificatePem)}::text[],
        ${arr(c.revokedAt)}::float8[], ${arr(c.revocationReason)}::text[], ${arr(c.requestedFrom)}::text[])
        as t(device_id, status, subject, fingerprint, spki, csr_pem, requested_at, decided_at, decided_by, decision_note,
          serial, not_before, not_after, certificate_pem, revoked_at, revocation_reason, requested_from)`));
  }
  await Promise.all(statements);
}
