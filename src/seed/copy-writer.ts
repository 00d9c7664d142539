// The COPY writer of the bulk seed, on a PostgreSQL server: the same rows as the INSERT writer,
// streamed in COPY's text format. (Measured about as fast as the INSERTs; it spares building and
// parsing multi-megabyte array literals, and the rows stream while the next batch is drawn.)
import { once } from 'node:events';
import type { Sql } from 'postgres';
import type { Database, Tx } from '../db/client.js';
import type { Batch } from './columns.js';

type CopyColumn = [name: string, kind: 'text' | 'number' | 'time', values: readonly unknown[] | string];

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** copyEscape writes text in COPY's text format: backslash escapes for its four special characters. */
function copyEscape(text: string): string {
  if (!COPY_SPECIAL.test(text)) return text;
  // PEM blocks only have newlines: the common case needs no callback per character.
  if (text.indexOf('\\') < 0 && text.indexOf('\t') < 0 && text.indexOf('\r') < 0) return text.replaceAll('\n', '\\n');
  return text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]!);
}

/** renderColumn is one column in COPY's text format (\N for null), a whole column at a time. */
function renderColumn(values: readonly unknown[], kind: CopyColumn[1], rows: number): string[] {
  const out = new Array<string>(rows);
  if (kind === 'time') {
    const date = new Date(0);
    for (let i = 0; i < rows; i++) {
      const v = values[i] as number | null;
      out[i] = v === null ? '\\N' : (date.setTime(v), date.toISOString());
    }
  } else if (kind === 'number') {
    for (let i = 0; i < rows; i++) {
      const v = values[i] as number | null;
      out[i] = v === null ? '\\N' : String(v);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const v = values[i] as string | null;
      out[i] = v === null ? '\\N' : copyEscape(v);
    }
  }
  return out;
}

/**
 * CopyFailure keeps the error of a COPY. postgres.js resolves a COPY query with its stream as soon as
 * the server is ready for data, so an error the server reports later reaches only the query's own
 * reject (a no-op by then); the hook below keeps it, to be thrown instead of the "transaction is
 * aborted" error of the next statement.
 */
interface CopyFailure {
  error?: unknown;
}

/** copyInto streams rows into a table and resolves once the server has taken all of them (or rejects with its error). */
async function copyInto(client: Sql, failure: CopyFailure, table: string, columns: CopyColumn[], rows: number): Promise<void> {
  if (rows === 0) return;
  // Table and column names are this file's constants; the values travel as COPY data, never as SQL.
  const query = client.unsafe(`copy ${table} (${columns.map((c) => c[0]).join(', ')}) from stdin`);
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, rejectFailed) => (fail = rejectFailed));
  failed.catch(() => {});
  const hooked = query as unknown as { reject(error: unknown): void };
  const reject = hooked.reject;
  hooked.reject = (error: unknown) => {
    failure.error ??= error;
    fail(error);
    reject(error);
  };
  const stream = await query.writable();
  const rendered = columns.map(([, kind, values]) => (typeof values === 'string' ? copyEscape(values) : renderColumn(values, kind, rows)));
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    let line = '';
    for (let c = 0; c < rendered.length; c++) {
      const r = rendered[c]!;
      line += (c === 0 ? '' : '\t') + (typeof r === 'string' ? r : r[i]);
    }
    chunk += line + '\n';
    if (chunk.length >= 256 * 1024) {
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
    }
  }
  // 'finish' comes with the server's CommandComplete; until then the connection must carry nothing else.
  const finished = once(stream, 'finish');
  stream.end(chunk);
  await Promise.race([finished, failed]);
}

/** copyBatch writes a batch with three COPYs, one after the other. */
export async function copyBatch(client: Sql, b: Batch): Promise<void> {
  const failure: CopyFailure = {};
  try {
    const d = b.devices;
    await copyInto(client, failure, 'devices', [
      ['id', 'number', d.id],
      ['name', 'text', d.name],
      ['agent_id', 'text', d.agentId],
      ['agent_version', 'text', d.agentVersion],
      ['auth_status', 'text', d.authStatus],
      ['failure_reason', 'text', d.failureReason],
      ['last_connection_id', 'number', d.lastConnectionId],
      ['last_attempt_at', 'time', d.lastAttemptAt],
      ['last_source', 'text', d.lastSource],
      ['last_result', 'text', d.lastResult],
      ['last_failure_reason', 'text', d.lastFailureReason],
      ['last_agent_version', 'text', d.lastAgentVersion],
      ['last_certificate_serial', 'text', d.lastCertificateSerial],
      ['last_certificate_not_after', 'time', d.lastCertificateNotAfter],
      ['created_at', 'time', d.createdAt],
      ['updated_at', 'time', d.updatedAt],
    ], d.id.length);
    const h = b.history;
    await copyInto(client, failure, 'connection_results', [
      ['id', 'number', h.id],
      ['device_id', 'number', h.deviceId],
      ['at', 'time', h.at],
      ['source', 'text', h.source],
      ['result', 'text', h.result],
      ['failure_reason', 'text', h.failureReason],
      ['agent_version', 'text', h.agentVersion],
      ['certificate_serial_number', 'text', h.serial],
      ['certificate_not_after', 'time', h.notAfter],
    ], h.id.length);
    const c = b.certificates;
    await copyInto(client, failure, 'client_certificates', [
      ['device_id', 'number', c.deviceId],
      ['status', 'text', c.status],
      ['subject', 'text', c.subject],
      ['key_algorithm', 'text', 'EC-P256'],
      ['public_key_fingerprint', 'text', c.fingerprint],
      ['public_key_spki', 'text', c.spki],
      ['csr_pem', 'text', c.csrPem],
      ['requested_at', 'time', c.requestedAt],
      ['decided_at', 'time', c.decidedAt],
      ['decided_by', 'text', c.decidedBy],
      ['decision_note', 'text', c.decisionNote],
      ['serial_number', 'text', c.serial],
      ['not_before', 'time', c.notBefore],
      ['not_after', 'time', c.notAfter],
      ['certificate_pem', 'text', c.certificatePem],
      ['revoked_at', 'time', c.revokedAt],
      ['revocation_reason', 'text', c.revocationReason],
      ['requested_from', 'text', c.requestedFrom],
    ], c.deviceId.length);
  } catch (err) {
    throw failure.error ?? err;
  }
  if (failure.error) throw failure.error;
}

/** copyClientOf is the postgres.js connection behind a drizzle transaction on a PostgreSQL server, if it has one. */
export function copyClientOf(database: Database, tx: Tx): Sql | undefined {
  if (database.kind !== 'postgres') return undefined;
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  return typeof (client as { unsafe?: unknown } | undefined)?.unsafe === 'function' ? (client as Sql) : undefined;
}

