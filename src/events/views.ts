import type { RevocationReason } from '../domain/revocation.js';
import type { AuthStatus, ClientCertificateStatus, ConnectionSource, FailureReason, UnverifiedReason } from '../domain/statuses.js';

// The views the live hub carries to subscribers: plain objects shaped like the API types. They are
// defined here, in the lowest layer that carries them; services build them (src/services/views.ts)
// and hand them to the transport.

export interface ConnectionAttemptView {
  id: number;
  at: Date;
  source: ConnectionSource;
  result: AuthStatus;
  failureReason: FailureReason | null;
  agentVersion: string | null;
  certificateSerialNumber: string | null;
  verified: boolean;
  unverifiedReason: UnverifiedReason | null;
  remoteAddress: string | null;
}

export interface InventoryAttributeView {
  path: string[];
  value: string;
}

export interface DeviceView {
  id: string;
  dbId: number;
  name: string;
  agentId: string | null;
  agentVersion: string | null;
  isCoreServer: boolean;
  authStatus: AuthStatus;
  failureReason: FailureReason | null;
  fullyManageable: boolean;
  lastConnection: ConnectionAttemptView | null;
  inventory: InventoryAttributeView[];
  imported: boolean;
  unverifiedAttempts: number;
  lastUnverifiedAttemptAt: Date | null;
}

export interface AuthStatusSummaryView {
  total: number;
  succeeded: number;
  noAuthenticationInfo: number;
  failed: number;
  mustUpgrade: number;
  successRate: number;
  items: { status: AuthStatus; label: string; count: number }[];
  securityEnabled: boolean;
  asOf: Date;
}

export interface ClientCertificateView {
  id: string;
  dbId: number;
  deviceId: number;
  status: ClientCertificateStatus;
  subject: string;
  keyAlgorithm: string;
  publicKeyFingerprint: string;
  requestedAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  serialNumber: string | null;
  notBefore: Date | null;
  notAfter: Date | null;
  certificatePem: string | null;
  revokedAt: Date | null;
  revocationReason: RevocationReason | null;
  requestedDeviceName: string | null;
  requestedAgentVersion: string | null;
  requestedFrom: string | null;
}
