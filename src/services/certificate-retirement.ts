import { insertAuditEvents } from '../db/audit-queries.js';
import { revokeCertificates, supersedeApprovedCertificates } from '../db/client-certificate-queries.js';
import type { DbExecutor, Tx } from '../db/client.js';
import { adjustCounters } from '../db/counter-queries.js';
import type { ClientCertificateRow } from '../db/device-queries.js';
import { expireSucceededDevices, failDevicesLastSeenWith } from '../db/retirement-queries.js';
import type { RevocationReason } from '../domain/revocation.js';
import type { Outbox } from './transaction.js';

/**
 * Retirement says which certificates stop authenticating their devices, and why.
 *
 * - revoke: an admin withdraws certificates (by id, APPROVED ones only).
 * - supersede: the devices' other APPROVED certificates, once new ones for them are approved (a
 *   re-enrollment or a renewal); revoked with reason SUPERSEDED, in the approving transaction.
 * - expire: authenticated devices whose certificate's notAfter has passed, at most limit of them
 *   (the certificates themselves stay APPROVED: time, not a decision, ended them).
 */
export type Retirement =
  | { kind: 'revoke'; certificateIds: readonly number[]; reason: RevocationReason; by: string }
  | { kind: 'supersede'; deviceIds: readonly number[]; keepIds: readonly number[]; by: string }
  | { kind: 'expire'; limit: number };

export interface Retired {
  /** The certificates revoked (none for expiry). */
  certificates: ClientCertificateRow[];
  /** The devices moved from AUTHENTICATION_SUCCEEDED to AUTHENTICATION_FAILED. */
  failedDeviceIds: number[];
}

/**
 * retireCertificates is the one way a certificate stops counting for its device, inside the
 * caller's transaction: revocation, supersession and expiry each move the devices last seen with
 * the certificate from AUTHENTICATION_SUCCEEDED to AUTHENTICATION_FAILED (CERTIFICATE_REVOKED, or
 * CERTIFICATE_EXPIRED), move the kept counters by the same numbers, and announce every move
 * (deviceAuthStatusChanged, summaryChanged) once the transaction commits. A revoked certificate is
 * also audited, announced as a clientAccessDecided REVOKED, and named in the CRL within the CRL
 * window (the gateway reads the status, not the CRL, so the device is refused at once).
 *
 * Supersession fails the device too, although the device now has a valid certificate: the chart
 * describes the device's newest connection, and that connection was made with a certificate that
 * is now revoked, on the CRL, and would be refused if shown again. Keeping it "Authentication
 * succeeded" would tell a security admin that a device proved itself with a valid certificate when
 * nothing has yet proved that the new one reached it: a re-enrollment approved for the wrong key,
 * or an agent that never picks its new certificate up, would stay "ready" indefinitely. The
 * device's next connection with its new certificate turns it back to succeeded, for a renewing
 * agent a moment later. The certificate's own record tells why (revocationReason SUPERSEDED).
 */
export async function retireCertificates(
  tx: Tx,
  outbox: Outbox,
  crl: { markRevoked(tx: DbExecutor, outbox: Outbox, certificateIds: readonly number[]): Promise<void> },
  retirement: Retirement,
  now: Date,
): Promise<Retired> {
  if (retirement.kind === 'expire') {
    const expired = await expireSucceededDevices(tx, now, retirement.limit);
    if (expired.length > 0) outbox.count((m) => m.certificatesExpired(expired.length));
    await countFailedDevices(tx, outbox, expired, now);
    return { certificates: [], failedDeviceIds: expired.map((d) => d.id) };
  }
  const { by } = retirement;
  const certificates =
    retirement.kind === 'revoke'
      ? await revokeCertificates(tx, retirement.certificateIds, retirement.reason, now)
      : await supersedeApprovedCertificates(tx, retirement.deviceIds, retirement.keepIds, now);
  if (certificates.length === 0) return { certificates, failedDeviceIds: [] };
  const byReason = new Map<RevocationReason, number>();
  for (const c of certificates) {
    const reason = c.revocationReason ?? 'UNSPECIFIED';
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  outbox.count((m) => byReason.forEach((n, reason) => m.certificatesRevoked(n, reason)));
  // The status flips here, in the caller's transaction; the CRL follows within its window, signed off
  // this request's path, once for every revocation of that window (revocation-service.ts).
  await crl.markRevoked(tx, outbox, certificates.map((c) => c.id));
  const failed = await failDevicesLastSeenWith(tx, certificates.map((c) => c.id), now);
  await countFailedDevices(tx, outbox, failed, now);
  const failedIds = new Set(failed.map((d) => d.id));
  await insertAuditEvents(
    tx,
    certificates.map((c) => ({
      actor: by,
      action: 'clientAccess.revoked',
      targetId: String(c.id),
      details: { serialNumber: c.serialNumber, reason: c.revocationReason, devicesFailed: failedIds.has(c.deviceId) ? 1 : 0 },
      at: now,
    })),
  );
  for (const c of certificates) {
    outbox.publish({ type: 'clientAccessDecided', requestId: c.id, decision: 'REVOKED', by, at: now.toISOString(), reason: c.revocationReason });
  }
  return { certificates, failedDeviceIds: [...failedIds] };
}

/** countFailedDevices keeps the chart right for devices moved from succeeded to failed, and announces each move after the commit. */
async function countFailedDevices(tx: DbExecutor, outbox: Outbox, moved: { id: number }[], at: Date): Promise<void> {
  if (moved.length === 0) return;
  await adjustCounters(tx, { AUTHENTICATION_SUCCEEDED: -moved.length, AUTHENTICATION_FAILED: moved.length });
  outbox.publish({ type: 'summaryChanged' });
  for (const d of moved) {
    outbox.publish({
      type: 'deviceAuthStatusChanged',
      deviceId: d.id,
      previous: 'AUTHENTICATION_SUCCEEDED',
      current: 'AUTHENTICATION_FAILED',
      at: at.toISOString(),
    });
  }
}
