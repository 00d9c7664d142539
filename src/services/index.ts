import { createAuditService } from './audit-service.js';
import type { AuthorityInfo } from './authority-service.js';
import { createConnectionService } from './connection-service.js';
import type { ServiceDeps } from './deps.js';
import { createDeviceService } from './device-service.js';
import { createSavedQueryService } from './saved-query-service.js';
import { createSecurityService } from './security-service.js';

/** createServices wires every domain service over the same database, bus and clock. */
export function createServices(deps: ServiceDeps & { authority: AuthorityInfo }) {
  const devices = createDeviceService(deps);
  return {
    devices,
    connections: createConnectionService(deps),
    security: createSecurityService(deps),
    savedQueries: createSavedQueryService({ ...deps, devices }),
    audit: createAuditService(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
export type { Caller } from './caller.js';
