import { insertAuditEvents } from '../db/audit-queries.js';
import { approveCertificates } from '../db/client-certificate-queries.js';
import type { Tx } from '../db/client.js';
import { applyRequestedNames, type ClientCertificateRow } from '../db/device-queries.js';
import { parseCertificateRequest, type CaSigner } from '../pki/index.js';
import { retireCertificates } from './certificate-retirement.js';
import type { RevocationService } from './revocation-service.js';
import type { Outbox } from './transaction.js';

/** IssuanceDeps is what issuing needs: the CA's signer, the certificates' lifetime, the CRL. */
export interface IssuanceDeps {
  signer: CaSigner;
  clientCertDays: number;
  revocation: RevocationService;
}

/** How a request came to be approved, as the audit log tells it. */
export type ApprovalHow = 'manual' | 'renewal' | 'auto-approval';

/**
 * issueCertificates signs the certificates of locked PENDING requests and records the decisions:
 * the signatures run side by side, the writes are a few statements for the whole batch. The
 * devices' older certificates are superseded (retireCertificates) in the same transaction, and
 * each approval is announced once it commits.
 */
export async function issueCertificates(
  tx: Tx,
  outbox: Outbox,
  deps: IssuanceDeps,
  requests: { row: ClientCertificateRow; agentId: string }[],
  decidedBy: string,
  how: ApprovalHow,
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
  outbox.count((m) => m.certificatesIssued(issued.length, how));
  for (const { id } of issued) {
    outbox.publish({ type: 'clientAccessDecided', requestId: id, decision: 'APPROVED', by: decidedBy, at: now.toISOString(), reason: null });
  }
  // What the agent asked to be called applies now that someone approved it.
  await applyRequestedNames(tx, issued.map((i) => i.id), now);
  // New certificates replace their devices' older ones only now that they are approved.
  const { certificates: superseded } = await retireCertificates(
    tx,
    outbox,
    deps.revocation,
    { kind: 'supersede', deviceIds: [...new Set(requests.map((r) => r.row.deviceId))], keepIds: issued.map((i) => i.id), by: decidedBy },
    now,
  );
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
