import { BlockList, isIP } from 'node:net';
import { insertAuditEvent, insertAuditEvents } from '../db/audit-queries.js';
import {
  approveCertificates,
  countCertificates,
  countPendingRequestsOfDevice,
  countPendingRequestsUpTo,
  getCertificateById,
  getCertificatesByIds,
  getCertificateWithAgentBySerial,
  getRequestOfDeviceKey,
  insertCertificateRequest,
  listCertificates,
  lockCertificatesByIds,
  rejectCertificates,
  supersedeApprovedCertificates,
  updateCertificate,
} from '../db/client-certificate-queries.js';
import { adjustCounters } from '../db/counter-queries.js';
import {
  applyRequestedNames,
  failDevicesUsingCertificate,
  getDevicesByIds,
  lockOrInsertDeviceOfAgent,
  type ClientCertificateRow,
} from '../db/device-queries.js';
import { parseCidr, plainAddress } from '../domain/addresses.js';
import { DEVICE_NAME_MAX_LENGTH } from '../domain/names.js';
import { REVOCATION_REASONS, type RevocationReason } from '../domain/revocation.js';
import { CLIENT_CERTIFICATE_STATUSES, type ClientCertificateStatus } from '../domain/statuses.js';
import { PkiError, parseCertificateRequest, type CaSigner } from '../pki/index.js';
import { AppError, badInput, notFound } from './app-error.js';
import { checkAgentVersion } from './auth-status-rules.js';
import type { AuthorityInfo } from './authority-service.js';
import { requireAdmin, requireViewer, type Caller } from './caller.js';
import type { ServiceDeps } from './deps.js';
import { checkAgentId, checkText, parseId } from './input-checks.js';
import { checkFirst, decodeCursor, pageOf, type Page } from './pagination.js';
import { addressKey, createRateLimiter } from './rate-limit.js';
import type { RevocationService } from './revocation-service.js';
import { countMovedDevices } from './status-moves.js';
import { transact, type Outbox } from './transaction.js';
import { clientCertificateView, type ClientCertificateView } from './views.js';
import type { Tx } from '../db/client.js';

export const MAX_BULK_APPROVALS = 500;
const MAX_CSR_LENGTH = 16 * 1024;
// A request over a cap waits for an admin's decision: nothing frees it sooner.
const RETRY_AFTER_CAP_SECONDS = 300;

/** EnrollmentLimits bound what enrollment floods can leave in the database and cost the CA. */
export interface EnrollmentLimits {
  /** Open (PENDING) requests one agent id may have; a new key beyond that is refused. */
  maxPendingPerAgent: number;
  /** Open requests in the whole core. */
  maxPendingTotal: number;
  /** Enrollment calls per source address (IPv6: per /64) per minute, per replica. */
  perAddressPerMinute: number;
}

export interface EnrollInput {
  agentId: string;
  deviceName: string;
  agentVersion: string;
  csrPem: string;
  remoteAddress: string;
  /** The DER of the certificate the agent presented over TLS, if any (a renewal). */
  presentedCertificate: Buffer | null;
}

export interface BulkApproveResult {
  approved: ClientCertificateView[];
  failed: { id: string; code: string; message: string }[];
}

export interface BulkRejectResult {
  rejected: ClientCertificateView[];
  failed: { id: string; code: string; message: string }[];
}

/** csrInvalid turns a PKI finding about a request into the error agents and scripts branch on. */
function csrInvalid(reason: string): AppError {
  return new AppError('CSR_INVALID', `the certificate request is not acceptable: ${reason}`);
}

/** createClientAccessService is Configure > Manage client access: requests, decisions, issuance, revocation. */
export function createClientAccessService(
  deps: ServiceDeps & {
    authority: AuthorityInfo;
    signer: CaSigner;
    revocation: RevocationService;
    clientCertDays: number;
    autoApproveNetworks: string[];
    enrollmentLimits: EnrollmentLimits;
  },
) {
  const { db } = deps;
  const limits = deps.enrollmentLimits;
  const enrollRate = createRateLimiter({ perMinute: limits.perAddressPerMinute });
  const autoApprove = new BlockList();
  for (const cidr of deps.autoApproveNetworks) {
    const n = parseCidr(cidr)!;
    autoApprove.addSubnet(n.address, n.prefix, n.family);
  }

  function fromAutoApproveNetwork(address: string): boolean {
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && autoApprove.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * issueAll signs the certificates of locked PENDING requests and records the decisions: the
   * signatures run side by side, the writes are a few statements for the whole batch.
   */
  async function issueAll(
    tx: Tx,
    requests: { row: ClientCertificateRow; agentId: string }[],
    decidedBy: string,
    how: 'manual' | 'renewal' | 'auto-approval',
    now: Date,
  ): Promise<ClientCertificateRow[]> {
    if (requests.length === 0) return [];
    const issued = await Promise.all(
      requests.map(async ({ row, agentId }) => {
        // The key was checked at enrollment; rows from before the key was stored are parsed again.
        const spki = row.publicKeySpki
          ? Buffer.from(row.publicKeySpki, 'base64')
          : (await parseCertificateRequest(row.csrPem)).publicKeySpki;
        const cert = await deps.signer.issueClientCertificate({
          subjectCommonName: agentId,
          publicKeySpki: spki,
          validityDays: deps.clientCertDays,
          now,
        });
        return { id: row.id, agentId, ...cert };
      }),
    );
    const approved = await approveCertificates(tx, issued, decidedBy, now);
    // What the agent asked to be called applies now that someone approved it.
    await applyRequestedNames(tx, issued.map((i) => i.id), now);
    // New certificates replace their devices' older ones only now that they are approved.
    const superseded = await supersedeApprovedCertificates(
      tx,
      [...new Set(requests.map((r) => r.row.deviceId))],
      issued.map((i) => i.id),
      now,
    );
    if (superseded.length > 0) await deps.revocation.reissueCrl(tx, now);
    const supersededByDevice = new Map<number, string[]>();
    for (const s of superseded) supersededByDevice.set(s.deviceId, [...(supersededByDevice.get(s.deviceId) ?? []), s.serialNumber!]);
    await insertAuditEvents(
      tx,
      requests.map(({ row }, k) => ({
        actor: decidedBy,
        action: 'clientAccess.approved',
        targetId: String(row.id),
        details: {
          agentId: issued[k]!.agentId,
          how,
          serialNumber: issued[k]!.serialNumber,
          superseded: supersededByDevice.get(row.deviceId) ?? [],
        },
        at: now,
      })),
    );
    const byId = new Map(approved.map((r) => [r.id, r]));
    return requests.map(({ row }) => byId.get(row.id)!);
  }

  /** renewalOf says whether a presented certificate is a valid, approved certificate of this same agent. */
  async function isRenewal(agentId: string, der: Buffer | null, now: Date): Promise<boolean> {
    if (!der) return false;
    let presented;
    try {
      presented = await deps.signer.inspectPresentedCertificate(der);
    } catch {
      return false;
    }
    if (!presented.chainsToCa) return false;
    const rec = await getCertificateWithAgentBySerial(db, presented.serialNumber);
    return (
      rec !== undefined &&
      rec.cert.status === 'APPROVED' &&
      rec.agentId === agentId &&
      presented.subjectCommonName === agentId &&
      presented.notBefore.getTime() <= now.getTime() &&
      now.getTime() <= presented.notAfter.getTime()
    );
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

  function notPending(row: ClientCertificateRow): AppError {
    return new AppError(
      'REQUEST_NOT_PENDING',
      `request ${row.id} is ${row.status}${row.decidedBy ? ` (decided by ${row.decidedBy})` : ''}; only a PENDING request can be decided`,
      { status: row.status },
    );
  }

  return {
    /**
     * enroll takes an agent's certificate request: it creates or updates the device and opens a
     * PENDING request, or returns the request made before with the same key.
     */
    async enroll(input: EnrollInput): Promise<{ requestId: string; status: ClientCertificateStatus }> {
      const agentId = checkAgentId(input.agentId);
      const deviceName = checkText(input.deviceName, 'deviceName', { max: DEVICE_NAME_MAX_LENGTH });
      const agentVersion = checkAgentVersion(input.agentVersion);
      if (input.csrPem.length > MAX_CSR_LENGTH) throw csrInvalid(`csrPem is longer than ${MAX_CSR_LENGTH} characters`);
      // Before the CSR's signature is checked: that is the expensive part a flood would buy.
      const wait = enrollRate.take(addressKey(input.remoteAddress));
      if (wait > 0) {
        throw new AppError(
          'ENROLLMENT_RATE_LIMITED',
          `too many enrollment requests from this address (at most ${limits.perAddressPerMinute} a minute); try again in ${wait} s`,
          { retryAfterSeconds: wait },
        );
      }
      let csr;
      try {
        csr = await parseCertificateRequest(input.csrPem);
      } catch (err) {
        if (err instanceof PkiError) throw csrInvalid(err.message);
        throw err;
      }
      if (csr.subjectCommonName !== agentId) {
        throw csrInvalid(`its subject CN ${JSON.stringify(csr.subjectCommonName.slice(0, 70))} must equal agentId ${JSON.stringify(agentId)}`);
      }
      const now = deps.clock();
      const renewal = await isRenewal(agentId, input.presentedCertificate, now);
      const auto = !renewal && fromAutoApproveNetwork(input.remoteAddress);
      const row = await transact(deps, async (tx, outbox) => {
        // A new agent id becomes a device as it asks; an existing device is not touched until approval.
        const device = await lockOrInsertDeviceOfAgent(tx, { name: deviceName, agentId, agentVersion }, now);
        const same = device.inserted ? undefined : await getRequestOfDeviceKey(tx, device.row.id, csr.publicKeyFingerprint);
        if (same) return same;
        if (!renewal && !auto) {
          // Only what stays PENDING counts: a renewal or an automatic approval is decided at once.
          const mine = device.inserted ? 0 : await countPendingRequestsOfDevice(tx, device.row.id);
          if (mine >= limits.maxPendingPerAgent) {
            throw new AppError(
              'TOO_MANY_PENDING_REQUESTS',
              `agent ${JSON.stringify(agentId)} already has ${mine} requests waiting for a decision (at most ${limits.maxPendingPerAgent}); an admin must approve or reject them first`,
              { retryAfterSeconds: RETRY_AFTER_CAP_SECONDS },
            );
          }
          // Read without a lock: concurrent enrollments may pass the cap by their number, never by more.
          if ((await countPendingRequestsUpTo(tx, limits.maxPendingTotal)) >= limits.maxPendingTotal) {
            throw new AppError(
              'PENDING_REQUESTS_FULL',
              `this core already holds ${limits.maxPendingTotal} requests waiting for a decision; try again later`,
              { retryAfterSeconds: RETRY_AFTER_CAP_SECONDS },
            );
          }
        }
        if (device.inserted) {
          await adjustCounters(tx, { NO_AUTHENTICATION_INFO: 1 });
          outbox.publish({ type: 'summaryChanged' });
        }
        const { row, inserted } = await insertCertificateRequest(tx, {
          deviceId: device.row.id,
          status: 'PENDING',
          subject: `CN=${agentId}`,
          keyAlgorithm: csr.keyAlgorithm,
          publicKeyFingerprint: csr.publicKeyFingerprint,
          publicKeySpki: csr.publicKeySpki.toString('base64'),
          csrPem: csr.csrPem,
          requestedAt: now,
          requestedFrom: input.remoteAddress.slice(0, 64),
          requestedDeviceName: deviceName,
          requestedAgentVersion: agentVersion,
        });
        if (!inserted) return row;
        await insertAuditEvent(tx, {
          actor: `agent:${agentId}`,
          action: 'clientAccess.requested',
          targetId: String(row.id),
          details: {
            keyAlgorithm: csr.keyAlgorithm,
            publicKeyFingerprint: csr.publicKeyFingerprint,
            from: input.remoteAddress,
            deviceName,
            agentVersion,
          },
          at: now,
        });
        if (renewal) return (await issueAll(tx, [{ row, agentId }], 'system:renewal', 'renewal', now))[0]!;
        if (auto) return (await issueAll(tx, [{ row, agentId }], 'system:auto-approval', 'auto-approval', now))[0]!;
        outbox.publish({ type: 'clientAccessRequested', requestId: row.id });
        return row;
      });
      return { requestId: String(row.id), status: row.status };
    },

    /** loadRequests reads several requests for subscribers (one query for a whole batch of events). */
    async loadRequests(ids: number[]): Promise<Map<number, ClientCertificateView>> {
      return new Map((await getCertificatesByIds(db, ids)).map((r) => [r.id, clientCertificateView(r)]));
    },

    /**
     * getEnrollment tells an agent where its request stands and hands over the certificate once
     * approved — only to the requester, who proves the requested key over TLS. Anyone else gets
     * the same refusal whether the request exists or not.
     */
    async getEnrollment(
      requestId: string,
      presentedCertificate: Buffer | null,
    ): Promise<{ status: ClientCertificateStatus; certificatePem?: string; caCertificatePem?: string }> {
      const id = parseId(requestId, 'requestId');
      if (!presentedCertificate) {
        throw new AppError(
          'UNAUTHENTICATED',
          'present a certificate of the requested key over TLS to read a request (a pending agent presents a self-signed certificate of it)',
        );
      }
      let fingerprint: string | null;
      try {
        fingerprint = deps.signer.inspectPresentedCertificate(presentedCertificate).publicKeyFingerprint;
      } catch {
        fingerprint = null;
      }
      const row = fingerprint === null ? undefined : await getCertificateById(db, id);
      if (!row || row.publicKeyFingerprint !== fingerprint) {
        throw new AppError('NOT_FOUND', `no certificate request ${JSON.stringify(requestId)} for the key presented`, { id: requestId });
      }
      if (row.status !== 'APPROVED') return { status: row.status };
      return { status: row.status, certificatePem: row.certificatePem!, caCertificatePem: deps.authority.certificatePem };
    },

    /** listRequests pages the requests and certificates for Manage client access. */
    async listRequests(
      caller: Caller,
      args: { status?: ClientCertificateStatus | null; first: number; after?: string | null },
    ): Promise<Page<ClientCertificateView> & { totalCount: number }> {
      requireViewer(caller);
      const first = checkFirst(args.first);
      const afterId = decodeCursor('request', args.after);
      const status = args.status ?? undefined;
      if (status && !CLIENT_CERTIFICATE_STATUSES.includes(status)) throw badInput(`unknown status ${status}`, 'status');
      const [rows, totalCount] = await Promise.all([
        listCertificates(db, { status, afterId, limit: first + 1 }),
        countCertificates(db, status),
      ]);
      return { ...pageOf(rows, first, 'request', (r) => r.id, clientCertificateView), totalCount };
    },

    /** approve issues the certificate of one PENDING request; concurrent approvals issue exactly one. */
    async approve(caller: Caller, id: string): Promise<ClientCertificateView> {
      return decide(caller, id, async (tx, row, _outbox, now) => {
        if (row.status !== 'PENDING') throw notPending(row);
        const [device] = await getDevicesByIds(tx, [row.deviceId]);
        return (await issueAll(tx, [{ row, agentId: device!.agentId! }], caller.subject, 'manual', now))[0]!;
      });
    },

    /** approveMany approves in bulk; each id that cannot be approved fails alone, with its reason. */
    async approveMany(caller: Caller, ids: string[]): Promise<BulkApproveResult> {
      requireAdmin(caller);
      const failed: BulkApproveResult['failed'] = [];
      const wanted = bulkIds(ids, failed);
      const now = deps.clock();
      const approved = await transact(deps, async (tx) => {
        const pending = await lockPending(tx, wanted, failed);
        const devices = new Map((await getDevicesByIds(tx, [...new Set(pending.map((r) => r.deviceId))])).map((d) => [d.id, d]));
        return issueAll(tx, pending.map((row) => ({ row, agentId: devices.get(row.deviceId)!.agentId! })), caller.subject, 'manual', now);
      });
      return { approved: approved.map(clientCertificateView), failed };
    },

    /** rejectMany rejects in bulk (an enrollment flood is cleared in one call); each id that cannot be rejected fails alone. */
    async rejectMany(caller: Caller, ids: string[], reason?: string | null): Promise<BulkRejectResult> {
      requireAdmin(caller);
      const note = reason == null || reason.trim() === '' ? null : checkText(reason, 'reason', { max: 500 });
      const failed: BulkRejectResult['failed'] = [];
      const wanted = bulkIds(ids, failed);
      const now = deps.clock();
      const rejected = await transact(deps, async (tx) => {
        const pending = await lockPending(tx, wanted, failed);
        const rows = await rejectCertificates(tx, pending.map((r) => r.id), caller.subject, note, now);
        await insertAuditEvents(
          tx,
          rows.map((r) => ({ actor: caller.subject, action: 'clientAccess.rejected', targetId: String(r.id), details: { reason: note }, at: now })),
        );
        return rows.sort((a, b) => a.id - b.id);
      });
      return { rejected: rejected.map(clientCertificateView), failed };
    },

    /** reject refuses a PENDING request, with an optional reason kept for the audit. */
    async reject(caller: Caller, id: string, reason?: string | null): Promise<ClientCertificateView> {
      const note = reason == null || reason.trim() === '' ? null : checkText(reason, 'reason', { max: 500 });
      return decide(caller, id, async (tx, row, _outbox, now) => {
        if (row.status !== 'PENDING') throw notPending(row);
        const rejected = await updateCertificate(tx, row.id, {
          status: 'REJECTED',
          decidedAt: now,
          decidedBy: caller.subject,
          decisionNote: note,
        });
        await insertAuditEvent(tx, {
          actor: caller.subject,
          action: 'clientAccess.rejected',
          targetId: String(row.id),
          details: { reason: note },
          at: now,
        });
        return rejected;
      });
    },

    /**
     * revoke withdraws an approved certificate: a new CRL is issued and a device authenticated with
     * it turns to AUTHENTICATION_FAILED (CERTIFICATE_REVOKED) in the same transaction.
     */
    async revoke(caller: Caller, id: string, reason: RevocationReason = 'UNSPECIFIED'): Promise<ClientCertificateView> {
      if (!REVOCATION_REASONS.includes(reason)) throw badInput(`unknown revocation reason ${reason}`, 'reason');
      return decide(caller, id, async (tx, row, outbox, now) => {
        if (row.status !== 'APPROVED') {
          throw new AppError('CONFLICT', `request ${row.id} is ${row.status}; only an APPROVED certificate can be revoked`, {
            status: row.status,
          });
        }
        const revoked = await updateCertificate(tx, row.id, { status: 'REVOKED', revokedAt: now, revocationReason: reason });
        await deps.revocation.reissueCrl(tx, now);
        const failedDevices = await failDevicesUsingCertificate(tx, row.serialNumber!, now);
        await countMovedDevices(tx, outbox, failedDevices, 'AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED', now);
        await insertAuditEvent(tx, {
          actor: caller.subject,
          action: 'clientAccess.revoked',
          targetId: String(row.id),
          details: { serialNumber: row.serialNumber, reason, devicesFailed: failedDevices.length },
          at: now,
        });
        return revoked;
      });
    },
  };
}

export type ClientAccessService = ReturnType<typeof createClientAccessService>;
