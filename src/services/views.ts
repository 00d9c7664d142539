import type { StatusCounts } from '../db/counter-queries.js';
import type { ClientCertificateRow, ConnectionResultRow, DeviceRow } from '../db/device-queries.js';
import type { AuditEventRow } from '../db/audit-queries.js';
import type { SavedQueryRow } from '../db/saved-query-queries.js';
import { AUTH_STATUSES, STATUS_LABELS, type AuthStatus, type ConnectionSource } from '../domain/statuses.js';
import type {
  AuthStatusSummaryView,
  ClientCertificateView,
  ConnectionAttemptView,
  DeviceView,
  InventoryAttributeView,
} from '../events/views.js';
import { isFullyManageable } from './auth-status-rules.js';

// Views are what services hand to the transport: plain objects shaped like the API types. Those the
// live hub also carries are defined in src/events/views.ts and re-exported here for the transport.
export type { AuthStatusSummaryView, ClientCertificateView, ConnectionAttemptView, DeviceView, InventoryAttributeView };

export interface SavedQueryView {
  id: string;
  dbId: number;
  name: string;
  folder: string[];
  authStatus: AuthStatus | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AuditEventView {
  id: string;
  at: Date;
  actor: string;
  action: string;
  targetId: string | null;
  details: string | null;
}

/** summaryView turns kept counters into the chart's summary. */
export function summaryView(counts: StatusCounts, securityEnabled: boolean, asOf: Date): AuthStatusSummaryView {
  const total = AUTH_STATUSES.reduce((n, s) => n + counts[s], 0);
  const succeeded = counts.AUTHENTICATION_SUCCEEDED;
  return {
    total,
    succeeded,
    noAuthenticationInfo: counts.NO_AUTHENTICATION_INFO,
    failed: counts.AUTHENTICATION_FAILED,
    mustUpgrade: counts.CLIENT_AGENTS_MUST_UPGRADE,
    successRate: total === 0 ? 0 : succeeded / total,
    items: AUTH_STATUSES.map((status) => ({ status, label: STATUS_LABELS[status], count: counts[status] })),
    securityEnabled,
    asOf,
  };
}

/** connectionAttemptView shapes one history row. */
export function connectionAttemptView(r: ConnectionResultRow): ConnectionAttemptView {
  return {
    id: r.id,
    at: r.at,
    source: r.source,
    result: r.result,
    failureReason: r.failureReason,
    agentVersion: r.agentVersion,
    certificateSerialNumber: r.certificateSerialNumber,
    verified: r.verified,
    unverifiedReason: r.unverifiedReason,
    remoteAddress: r.remoteAddress,
  };
}

const SOURCE_WORDS: Record<ConnectionSource, string> = {
  SECURE_CONNECTION: 'Secure connection',
  SECURITY_SCANNER: 'Security scanner (vulscan)',
};

const CCBS = ['Ivanti Management', 'Client certificate-based security'];

/** inventoryOf lists a device's inventory attributes, as the inventory tree shows them. */
export function inventoryOf(d: DeviceRow, fullyManageable: boolean): InventoryAttributeView[] {
  const out: InventoryAttributeView[] = [{ path: ['System', 'Device name'], value: d.name }];
  if (d.agentId !== null) out.push({ path: ['Ivanti Management', 'Agent', 'Device ID'], value: d.agentId });
  if (d.agentVersion !== null) out.push({ path: ['Ivanti Management', 'Agent', 'Version'], value: d.agentVersion });
  if (d.isCoreServer) out.push({ path: ['Ivanti Management', 'Core server'], value: 'Yes' });
  const attr = (name: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined) out.push({ path: [...CCBS, name], value });
  };
  attr('Authentication status', STATUS_LABELS[d.authStatus]);
  attr('Fully manageable', fullyManageable ? 'Yes' : 'No');
  attr('Last attempt', d.lastAttemptAt?.toISOString());
  attr('Source', d.lastSource ? SOURCE_WORDS[d.lastSource] : null);
  attr('Failure reason', d.authStatus === 'AUTHENTICATION_FAILED' ? d.failureReason : null);
  attr('Certificate serial number', d.lastCertificateSerial);
  attr('Certificate expires', d.lastCertificateNotAfter?.toISOString());
  attr('Agent version', d.lastAgentVersion);
  if (d.unverifiedAttempts > 0) attr('Unverified attempts', String(d.unverifiedAttempts));
  return out;
}

/** deviceView shapes a device row; securityEnabled decides fullyManageable. */
export function deviceView(d: DeviceRow, securityEnabled: boolean): DeviceView {
  const fullyManageable = isFullyManageable(d.authStatus, securityEnabled);
  return {
    id: String(d.id),
    dbId: d.id,
    name: d.name,
    agentId: d.agentId,
    agentVersion: d.agentVersion,
    isCoreServer: d.isCoreServer,
    authStatus: d.authStatus,
    failureReason: d.authStatus === 'AUTHENTICATION_FAILED' ? d.failureReason : null,
    fullyManageable,
    lastConnection:
      d.lastConnectionId !== null && d.lastAttemptAt && d.lastSource && d.lastResult
        ? {
            id: d.lastConnectionId,
            at: d.lastAttemptAt,
            source: d.lastSource,
            result: d.lastResult,
            failureReason: d.lastFailureReason,
            agentVersion: d.lastAgentVersion,
            certificateSerialNumber: d.lastCertificateSerial,
            // The device row keeps only results that moved it.
            verified: true,
            unverifiedReason: null,
            remoteAddress: d.lastRemoteAddress,
          }
        : null,
    inventory: inventoryOf(d, fullyManageable),
    imported: d.imported,
    unverifiedAttempts: Number(d.unverifiedAttempts),
    lastUnverifiedAttemptAt: d.lastUnverifiedAt,
  };
}

/** savedQueryView shapes a saved query row. */
export function savedQueryView(q: SavedQueryRow): SavedQueryView {
  return {
    id: String(q.id),
    dbId: q.id,
    name: q.name,
    folder: q.folder,
    authStatus: q.authStatus,
    createdAt: q.createdAt,
    updatedAt: q.updatedAt,
  };
}

/** auditEventView shapes an audit row. */
export function auditEventView(e: AuditEventRow): AuditEventView {
  return { id: String(e.id), at: e.at, actor: e.actor, action: e.action, targetId: e.targetId, details: e.details };
}

/** clientCertificateView shapes a client certificate row; the CSR stays inside the core. */
export function clientCertificateView(c: ClientCertificateRow): ClientCertificateView {
  return {
    id: String(c.id),
    dbId: c.id,
    deviceId: c.deviceId,
    status: c.status,
    subject: c.subject,
    keyAlgorithm: c.keyAlgorithm,
    publicKeyFingerprint: c.publicKeyFingerprint,
    requestedAt: c.requestedAt,
    decidedAt: c.decidedAt,
    decidedBy: c.decidedBy,
    serialNumber: c.serialNumber,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    certificatePem: c.certificatePem,
    revokedAt: c.revokedAt,
    revocationReason: c.revocationReason,
    requestedDeviceName: c.requestedDeviceName,
    requestedAgentVersion: c.requestedAgentVersion,
    requestedFrom: c.requestedFrom,
  };
}
