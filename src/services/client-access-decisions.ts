import { insertAuditEvents } from '../db/audit-queries.js';
import { lockCertificatesByIds, rejectCertificates } from '../db/client-certificate-queries.js';
import type { Tx } from '../db/client.js';
import { getDevicesByIds, type ClientCertificateRow } from '../db/device-queries.js';
import { REVOCATION_REASONS, type RevocationReason } from '../domain/revocation.js';
import { AppError, badInput, notFound } from './app-error.js';
import { requireAdmin, type Caller } from './caller.js';
import { issueCertificates, type IssuanceDeps } from './certificate-issuance.js';
import { retireCertificates } from './certificate-retirement.js';
import type { ServiceDeps } from './deps.js';
import { checkText, parseId } from './input-checks.js';
import { transact, type Outbox } from './transaction.js';
import { clientCertificateView, type ClientCertificateView } from './views.js';

export const MAX_BULK_APPROVALS = 500;

export interface BulkApproveResult {
  approved: ClientCertificateView[];
  failed: { id: string; code: string; message: string }[];
}

export interface BulkRevokeResult {
  revoked: ClientCertificateView[];
  failed: { id: string; code: string; message: string }[];
}

export interface BulkRejectResult {
  rejected: ClientCertificateView[];
  failed: { id: string; code: string; message: string }[];
}

function notApproved(row: ClientCertificateRow): AppError {
  return new AppError('CONFLICT', `request ${row.id} is ${row.status}; only an APPROVED certificate can be revoked`, { status: row.status });
}

function checkReason(reason: RevocationReason): RevocationReason {
  if (!REVOCATION_REASONS.includes(reason)) throw badInput(`unknown revocation reason ${reason}`, 'reason');
  return reason;
}

function notPending(row: ClientCertificateRow): AppError {
  return new AppError(
    'REQUEST_NOT_PENDING',
    `request ${row.id} is ${row.status}${row.decidedBy ? ` (decided by ${row.decidedBy})` : ''}; only a PENDING request can be decided`,
    { status: row.status },
  );
}

const rejectNote = (reason?: string | null) => (reason == null || reason.trim() === '' ? null : checkText(reason, 'reason', { max: 500 }));

/**
 * rejectAll rejects locked PENDING requests, audits each and announces each once the transaction
 * commits; returns them in id order.
 */
async function rejectAll(
  tx: Tx,
  outbox: Outbox,
  pending: ClientCertificateRow[],
  by: string,
  note: string | null,
  now: Date,
): Promise<ClientCertificateRow[]> {
  const rows = await rejectCertificates(tx, pending.map((r) => r.id), by, note, now);
  await insertAuditEvents(
    tx,
    rows.map((r) => ({ actor: by, action: 'clientAccess.rejected', targetId: String(r.id), details: { reason: note }, at: now })),
  );
  for (const r of rows) {
    outbox.publish({ type: 'clientAccessDecided', requestId: r.id, decision: 'REJECTED', by, at: now.toISOString(), reason: note });
  }
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * createDecisions is the admins' side of Manage client access: approve, reject and revoke, one at
 * a time or in bulk. Each decision is one transaction, audited, and announced after it commits
 * (clientAccessDecided).
 */
export function createDecisions(deps: ServiceDeps & IssuanceDeps) {
  /** logDecision tells the operator who decided what, once the decision is committed (the audit log has it too). */
  function logDecision(msg: string, action: string, caller: Caller, views: ClientCertificateView[], extra: Record<string, unknown> = {}) {
    deps.log.info(msg, {
      action,
      actor: caller.subject,
      certificateRequestIds: views.map((v) => v.id),
      deviceIds: [...new Set(views.map((v) => String(v.deviceId)))],
      serialNumbers: views.map((v) => v.serialNumber).filter((n) => n !== null),
      ...extra,
    });
  }

  async function decide(
    caller: Caller,
    id: string,
    fn: (tx: Tx, row: ClientCertificateRow, outbox: Outbox, now: Date) => Promise<ClientCertificateRow>,
  ): Promise<ClientCertificateView> {
    requireAdmin(caller);
    const dbId = parseId(id);
    const now = deps.clock();
    const row = await transact(deps, async (tx, outbox) => {
      const [locked] = await lockCertificatesByIds(tx, [dbId]);
      if (!locked) throw notFound('client certificate request', id);
      return fn(tx, locked, outbox, now);
    });
    return clientCertificateView(row);
  }

  /** bulkIds reads the ids of a bulk call once each; a malformed id fails alone. */
  function bulkIds(ids: string[], failed: BulkApproveResult['failed']): Map<number, string> {
    if (ids.length > MAX_BULK_APPROVALS) {
      throw badInput(`ids may list at most ${MAX_BULK_APPROVALS} requests per call (got ${ids.length})`, 'ids');
    }
    const wanted = new Map<number, string>();
    for (const id of ids) {
      try {
        const dbId = parseId(id, 'ids');
        if (!wanted.has(dbId)) wanted.set(dbId, id);
      } catch (err) {
        failed.push({ id, code: (err as AppError).code, message: (err as AppError).message });
      }
    }
    return wanted;
  }

  /** lockPending locks the wanted requests and sorts them into the pending ones and per-item failures. */
  async function lockPending(tx: Tx, wanted: Map<number, string>, failed: BulkApproveResult['failed']): Promise<ClientCertificateRow[]> {
    const rows = await lockCertificatesByIds(tx, [...wanted.keys()]);
    const found = new Map(rows.map((r) => [r.id, r]));
    const pending: ClientCertificateRow[] = [];
    for (const [dbId, id] of wanted) {
      const row = found.get(dbId);
      if (!row) {
        failed.push({ id, code: 'NOT_FOUND', message: `client certificate request "${id}" not found` });
      } else if (row.status !== 'PENDING') {
        const e = notPending(row);
        failed.push({ id, code: e.code, message: e.message });
      } else {
        pending.push(row);
      }
    }
    return pending;
  }

  return {
    /** approve issues the certificate of one PENDING request; concurrent approvals issue exactly one. */
    async approve(caller: Caller, id: string): Promise<ClientCertificateView> {
      const view = await decide(caller, id, async (tx, row, outbox, now) => {
        if (row.status !== 'PENDING') throw notPending(row);
        const [device] = await getDevicesByIds(tx, [row.deviceId]);
        return (await issueCertificates(tx, outbox, deps, [{ row, agentId: device!.agentId! }], caller.subject, 'manual', now))[0]!;
      });
      logDecision('client access approved', 'clientAccess.approved', caller, [view]);
      return view;
    },

    /** approveMany approves in bulk; each id that cannot be approved fails alone, with its reason. */
    async approveMany(caller: Caller, ids: string[]): Promise<BulkApproveResult> {
      requireAdmin(caller);
      const failed: BulkApproveResult['failed'] = [];
      const wanted = bulkIds(ids, failed);
      const now = deps.clock();
      const approved = await transact(deps, async (tx, outbox) => {
        // Per attempt: a transaction run again must not list its failures twice.
        const lockFailed: BulkApproveResult['failed'] = [];
        const pending = await lockPending(tx, wanted, lockFailed);
        const devices = new Map((await getDevicesByIds(tx, [...new Set(pending.map((r) => r.deviceId))])).map((d) => [d.id, d]));
        const requests = pending.map((row) => ({ row, agentId: devices.get(row.deviceId)!.agentId! }));
        return { rows: await issueCertificates(tx, outbox, deps, requests, caller.subject, 'manual', now), lockFailed };
      });
      const views = approved.rows.map(clientCertificateView);
      if (views.length > 0) logDecision('client access approved', 'clientAccess.approved', caller, views);
      return { approved: views, failed: [...failed, ...approved.lockFailed] };
    },

    /** rejectMany rejects in bulk (an enrollment flood is cleared in one call); each id that cannot be rejected fails alone. */
    async rejectMany(caller: Caller, ids: string[], reason?: string | null): Promise<BulkRejectResult> {
      requireAdmin(caller);
      const note = rejectNote(reason);
      const failed: BulkRejectResult['failed'] = [];
      const wanted = bulkIds(ids, failed);
      const now = deps.clock();
      const rejected = await transact(deps, async (tx, outbox) => {
        // Per attempt: a transaction run again must not list its failures twice.
        const lockFailed: BulkRejectResult['failed'] = [];
        const pending = await lockPending(tx, wanted, lockFailed);
        return { rows: await rejectAll(tx, outbox, pending, caller.subject, note, now), lockFailed };
      });
      const views = rejected.rows.map(clientCertificateView);
      if (views.length > 0) logDecision('client access rejected', 'clientAccess.rejected', caller, views, { reason: note });
      return { rejected: views, failed: [...failed, ...rejected.lockFailed] };
    },

    /**
     * revokeMany revokes in bulk with one reason, in one transaction (one CRL mark for all); each id
     * that cannot be revoked fails alone, with the code a single revoke would have returned.
     */
    async revokeMany(caller: Caller, ids: string[], reason: RevocationReason = 'UNSPECIFIED'): Promise<BulkRevokeResult> {
      requireAdmin(caller);
      checkReason(reason);
      const failed: BulkRevokeResult['failed'] = [];
      const wanted = bulkIds(ids, failed);
      const now = deps.clock();
      const revoked = await transact(deps, async (tx, outbox) => {
        // Per attempt: a transaction run again must not list its failures twice.
        const lockFailed: BulkRevokeResult['failed'] = [];
        const rows = await lockCertificatesByIds(tx, [...wanted.keys()]);
        const found = new Map(rows.map((r) => [r.id, r]));
        const approved: number[] = [];
        for (const [dbId, id] of wanted) {
          const row = found.get(dbId);
          if (!row) lockFailed.push({ id, code: 'NOT_FOUND', message: `client certificate request "${id}" not found` });
          else if (row.status !== 'APPROVED') {
            const e = notApproved(row);
            lockFailed.push({ id, code: e.code, message: e.message });
          } else approved.push(dbId);
        }
        const { certificates } = await retireCertificates(
          tx,
          outbox,
          deps.revocation,
          { kind: 'revoke', certificateIds: approved, reason, by: caller.subject },
          now,
        );
        return { rows: certificates.sort((a, b) => a.id - b.id), lockFailed };
      });
      const views = revoked.rows.map(clientCertificateView);
      if (views.length > 0) logDecision('client certificate revoked', 'clientAccess.revoked', caller, views, { reason });
      return { revoked: views, failed: [...failed, ...revoked.lockFailed] };
    },

    /** reject refuses a PENDING request, with an optional reason kept for the audit. */
    async reject(caller: Caller, id: string, reason?: string | null): Promise<ClientCertificateView> {
      const note = rejectNote(reason);
      const view = await decide(caller, id, async (tx, row, outbox, now) => {
        if (row.status !== 'PENDING') throw notPending(row);
        return (await rejectAll(tx, outbox, [row], caller.subject, note, now))[0]!;
      });
      logDecision('client access rejected', 'clientAccess.rejected', caller, [view], { reason: note });
      return view;
    },

    /**
     * revoke withdraws an approved certificate through retireCertificates: a device authenticated
     * with it turns to AUTHENTICATION_FAILED (CERTIFICATE_REVOKED) in the same transaction, and the
     * CRL names it within the CRL window.
     */
    async revoke(caller: Caller, id: string, reason: RevocationReason = 'UNSPECIFIED'): Promise<ClientCertificateView> {
      checkReason(reason);
      const view = await decide(caller, id, async (tx, row, outbox, now) => {
        if (row.status !== 'APPROVED') throw notApproved(row);
        const { certificates } = await retireCertificates(
          tx,
          outbox,
          deps.revocation,
          { kind: 'revoke', certificateIds: [row.id], reason, by: caller.subject },
          now,
        );
        return certificates[0]!;
      });
      logDecision('client certificate revoked', 'clientAccess.revoked', caller, [view], { reason });
      return view;
    },
  };
}
