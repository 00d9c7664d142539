// A batch of seeded rows as column arrays, one array per table column: the INSERT writer sends each
// array as one parameter (unnest), the COPY writer renders each column at once.
import type { StatusCounts } from '../db/counter-queries.js';
import type { RevocationReason } from '../domain/revocation.js';
import type { AuthStatus, ClientCertificateStatus, ConnectionSource, FailureReason } from '../domain/statuses.js';

/** DeviceColumns are devices rows. */
export class DeviceColumns {
  id: number[] = [];
  name: string[] = [];
  agentId: (string | null)[] = [];
  agentVersion: (string | null)[] = [];
  authStatus: AuthStatus[] = [];
  failureReason: (FailureReason | null)[] = [];
  lastConnectionId: (number | null)[] = [];
  lastAttemptAt: (number | null)[] = [];
  lastSource: (ConnectionSource | null)[] = [];
  lastResult: (AuthStatus | null)[] = [];
  lastFailureReason: (FailureReason | null)[] = [];
  lastAgentVersion: (string | null)[] = [];
  lastCertificateSerial: (string | null)[] = [];
  lastCertificateNotAfter: (number | null)[] = [];
  createdAt: number[] = [];
  updatedAt: number[] = [];
}

/** HistoryColumns are connection_results rows, with where each belongs in the batch. */
export class HistoryColumns {
  id: number[] = [];
  deviceId: number[] = [];
  at: number[] = [];
  source: ConnectionSource[] = [];
  result: AuthStatus[] = [];
  failureReason: (FailureReason | null)[] = [];
  agentVersion: (string | null)[] = [];
  serial: (string | null)[] = [];
  notAfter: (number | null)[] = [];
  /** The index of the row's device in the batch, and whether it is that device's newest row. */
  device: number[] = [];
  newest: boolean[] = [];
}

/** CertificateColumns are client_certificates rows. */
export class CertificateColumns {
  deviceId: number[] = [];
  status: ClientCertificateStatus[] = [];
  subject: string[] = [];
  fingerprint: string[] = [];
  spki: string[] = [];
  csrPem: string[] = [];
  requestedAt: number[] = [];
  decidedAt: (number | null)[] = [];
  decidedBy: (string | null)[] = [];
  decisionNote: (string | null)[] = [];
  serial: (string | null)[] = [];
  notBefore: (number | null)[] = [];
  notAfter: (number | null)[] = [];
  certificatePem: (string | null)[] = [];
  revokedAt: (number | null)[] = [];
  revocationReason: (RevocationReason | null)[] = [];
  requestedFrom: string[] = [];
}

/** Batch is the rows of one batch of devices, and what they add up to. */
export interface Batch {
  devices: DeviceColumns;
  history: HistoryColumns;
  certificates: CertificateColumns;
  byStatus: StatusCounts;
  byFailureReason: Partial<Record<FailureReason, number>>;
  certificateCounts: Record<ClientCertificateStatus, number>;
}
