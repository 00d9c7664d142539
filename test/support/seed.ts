import { getDeviceByAgentId } from '../../src/db/device-queries.js';
import type { CertificateFacts } from '../../src/services/auth-status-rules.js';
import type { ConnectionSource } from '../../src/domain/statuses.js';
import type { TestCore } from './test-core.js';

const HOUR = 3600_000;

/** ResultKind names the connection outcomes tests need, each mapped to the facts that produce it. */
export type ResultKind =
  | 'succeeded'
  | 'mustUpgrade'
  | 'noCertificate'
  | 'notApproved'
  | 'rejected'
  | 'revoked'
  | 'expired'
  | 'notYetValid'
  | 'untrusted'
  | 'mismatch';

/** factsFor builds the certificate facts that lead to a result kind for an agent. */
export function factsFor(kind: ResultKind, agentId: string, now = new Date()): { agentVersion: string; certificate: CertificateFacts | null } {
  const valid = (over: Partial<CertificateFacts> = {}): CertificateFacts => ({
    serialNumber: 'aa'.repeat(8),
    issuedByThisCore: true,
    recordStatus: 'APPROVED',
    notBefore: new Date(now.getTime() - HOUR),
    notAfter: new Date(now.getTime() + 24 * HOUR),
    subjectAgentId: agentId,
    ...over,
  });
  switch (kind) {
    case 'succeeded':
      return { agentVersion: '2024.3', certificate: valid() };
    case 'mustUpgrade':
      return { agentVersion: '9.60.2', certificate: null };
    case 'noCertificate':
      return { agentVersion: '2024.3', certificate: null };
    case 'notApproved':
      return { agentVersion: '2024.3', certificate: valid({ issuedByThisCore: false, recordStatus: 'PENDING' }) };
    case 'rejected':
      return { agentVersion: '2024.3', certificate: valid({ issuedByThisCore: false, recordStatus: 'REJECTED' }) };
    case 'revoked':
      return { agentVersion: '2024.3', certificate: valid({ recordStatus: 'REVOKED' }) };
    case 'expired':
      return { agentVersion: '2024.3', certificate: valid({ notAfter: new Date(now.getTime() - HOUR) }) };
    case 'notYetValid':
      return { agentVersion: '2024.3', certificate: valid({ notBefore: new Date(now.getTime() + HOUR) }) };
    case 'untrusted':
      return { agentVersion: '2024.3', certificate: valid({ issuedByThisCore: false, recordStatus: null }) };
    case 'mismatch':
      return { agentVersion: '2024.3', certificate: valid({ subjectAgentId: `${agentId}-other` }) };
  }
}

/** seed builds fixtures through the services, the way the product itself writes them. */
export function seed(tc: TestCore) {
  /** devices registers devices as an admin would, through the service. */
  const devices = (items: { name: string; agentId?: string; agentVersion?: string }[]) =>
    tc.core.services.devices.registerDevices({ subject: 'seed', roles: ['SECURITY_ADMIN'] }, items);
  return {
    /**
     * record records one connection result of the given kind for an agent. Results are recorded
     * against known devices only, so an agent id the core does not know is registered first (named
     * after it), as an inventory import would.
     */
    async record(agentId: string, kind: ResultKind, source: ConnectionSource = 'SECURE_CONNECTION') {
      if (!(await getDeviceByAgentId(tc.core.database.db, agentId))) await devices([{ name: agentId, agentId }]);
      const facts = factsFor(kind, agentId);
      return tc.core.services.connections.recordConnectionResult({ source, agentId, ...facts });
    },
    /** knownAgents registers, named after them, those of these agent ids the core does not know yet. */
    async knownAgents(agentIds: string[]) {
      const known = new Set((await Promise.all(agentIds.map((a) => getDeviceByAgentId(tc.core.database.db, a)))).map((d) => d?.agentId));
      const unknown = [...new Set(agentIds)].filter((a) => !known.has(a));
      if (unknown.length > 0) await devices(unknown.map((agentId) => ({ name: agentId, agentId })));
    },
    devices,
  };
}
