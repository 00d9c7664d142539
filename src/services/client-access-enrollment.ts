import { BlockList, isIP } from 'node:net';
import { insertAuditEvent } from '../db/audit-queries.js';
import {
  countPendingRequestsOfDevice,
  getCertificateById,
  getCertificateWithAgentBySerial,
  getRequestOfDeviceKey,
  insertCertificateRequest,
} from '../db/client-certificate-queries.js';
import { readCertificateStatusCounts } from '../db/certificate-figures-queries.js';
import { adjustCounters } from '../db/counter-queries.js';
import { lockOrInsertDeviceOfAgent } from '../db/device-queries.js';
import { parseCidr, plainAddress } from '../domain/addresses.js';
import { DEVICE_NAME_MAX_LENGTH } from '../domain/names.js';
import type { ClientCertificateStatus } from '../domain/statuses.js';
import { noMetrics, type LimitCode } from '../metrics/sink.js';
import { PkiError, parseCertificateRequest } from '../pki/index.js';
import { AppError } from './app-error.js';
import { checkAgentVersionText } from './auth-status-rules.js';
import type { AuthorityInfo } from './authority-service.js';
import { issueCertificates, type IssuanceDeps } from './certificate-issuance.js';
import type { ServiceDeps } from './deps.js';
import { checkAgentId, checkText, parseId } from './input-checks.js';
import { addressKey, createRateLimiter } from './rate-limit.js';
import { transact } from './transaction.js';

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

/** csrInvalid turns a PKI finding about a request into the error agents and scripts branch on. */
function csrInvalid(reason: string): AppError {
  return new AppError('CSR_INVALID', `the certificate request is not acceptable: ${reason}`);
}

/**
 * createEnrollment is the agents' side of Manage client access: enrollment requests (with renewal
 * and auto-approval decided at once) and the requester's reading of its request.
 */
export function createEnrollment(
  deps: ServiceDeps &
    IssuanceDeps & {
      authority: AuthorityInfo;
      autoApproveNetworks: string[];
      enrollmentLimits: EnrollmentLimits;
    },
) {
  const { db } = deps;
  const metrics = deps.metrics ?? noMetrics;
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

  /** isRenewal says whether a presented certificate is a valid, approved certificate of this same agent. */
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

  const enrollment = {
    /**
     * enroll takes an agent's certificate request: it creates or updates the device and opens a
     * PENDING request, or returns the request made before with the same key.
     */
    async enroll(input: EnrollInput): Promise<{ requestId: string; status: ClientCertificateStatus }> {
      const agentId = checkAgentId(input.agentId);
      const deviceName = checkText(input.deviceName, 'deviceName', { max: DEVICE_NAME_MAX_LENGTH });
      const agentVersion = checkAgentVersionText(input.agentVersion);
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
        if (same) {
          outbox.count((m) => m.enrollment('repeated'));
          return same;
        }
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
          // Read from the kept ledger of statuses: a count of the requests cost 350-450 ms of the
          // database at 84,000 pending (BENCHMARKS.md, "Client access at a million devices"). It sees
          // what is committed and this transaction's rows, without a lock: concurrent enrollments may
          // pass the cap by their number, never by more.
          if ((await readCertificateStatusCounts(tx)).PENDING >= limits.maxPendingTotal) {
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
        if (!inserted) {
          outbox.count((m) => m.enrollment('repeated'));
          return row;
        }
        outbox.count((m) => m.enrollment(renewal ? 'renewed' : auto ? 'auto_approved' : 'requested'));
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
        if (renewal) return (await issueCertificates(tx, outbox, deps, [{ row, agentId }], 'system:renewal', 'renewal', now))[0]!;
        if (auto) return (await issueCertificates(tx, outbox, deps, [{ row, agentId }], 'system:auto-approval', 'auto-approval', now))[0]!;
        outbox.publish({ type: 'clientAccessRequested', requestId: row.id });
        return row;
      });
      return { requestId: String(row.id), status: row.status };
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
  };

  return {
    ...enrollment,
    // What was accepted is counted as it commits (above); a refusal of the caller's here. The database
    // away, or a bug, is no refusal: the transport's 5xx count shows it.
    async enroll(input: EnrollInput): Promise<{ requestId: string; status: ClientCertificateStatus }> {
      try {
        return await enrollment.enroll(input);
      } catch (err) {
        if (err instanceof AppError) {
          metrics.enrollment('refused');
          if ((LIMIT_CODES as readonly string[]).includes(err.code)) metrics.rateLimited(err.code as LimitCode);
        }
        throw err;
      }
    },
  };
}

const LIMIT_CODES = ['ENROLLMENT_RATE_LIMITED', 'TOO_MANY_PENDING_REQUESTS', 'PENDING_REQUESTS_FULL'] as const satisfies readonly LimitCode[];
