import type { CaSigner, KeyProtector } from '../pki/index.js';
import { createAgentAuthService } from './agent-auth-service.js';
import { createAuditService } from './audit-service.js';
import type { AuthorityInfo } from './authority-service.js';
import { createClientAccessService } from './client-access-service.js';
import { pruneDeviceHistory } from '../db/history-queries.js';
import { createConnectionService } from './connection-service.js';
import type { ServiceDeps } from './deps.js';
import { createDeviceService } from './device-service.js';
import { createMaintenanceService } from './maintenance-service.js';
import { createRevocationService } from './revocation-service.js';
import { createSavedQueryService } from './saved-query-service.js';
import { createSecurityService } from './security-service.js';

export interface ServiceSettings {
  clientCertDays: number;
  autoApproveNetworks: string[];
  /** Connection results older than this many days are deleted by the maintenance rounds. */
  connectionHistoryDays: number;
  /** At most this many connection results are kept per device (pruneDeviceHistory, as results are recorded). */
  connectionHistoryPerDevice: number;
}

/** createServices wires every domain service over the same database, bus, clock and CA. */
export function createServices(
  deps: ServiceDeps & { authority: AuthorityInfo; signer: CaSigner; protector: KeyProtector } & ServiceSettings,
) {
  const devices = createDeviceService(deps);
  // Each batch of connection results trims its devices' history to the newest connectionHistoryPerDevice.
  const connections = createConnectionService({
    ...deps,
    groupCommit: { pruneHistory: (tx, ids) => pruneDeviceHistory(tx, ids, deps.connectionHistoryPerDevice) },
  });
  const revocation = createRevocationService(deps);
  return {
    devices,
    connections,
    revocation,
    security: createSecurityService(deps),
    savedQueries: createSavedQueryService({ ...deps, devices }),
    audit: createAuditService(deps),
    clientAccess: createClientAccessService({ ...deps, revocation }),
    agentAuth: createAgentAuthService({ ...deps, connections }),
    maintenance: createMaintenanceService({ ...deps, revocation }),
  };
}

export type Services = ReturnType<typeof createServices>;
export type { Caller } from './caller.js';
