import type { CaSigner, KeyProtector } from '../pki/index.js';
import { createAgentAuthService } from './agent-auth-service.js';
import { createAuditService } from './audit-service.js';
import type { AuthorityInfo } from './authority-service.js';
import { createClientAccessService, type EnrollmentLimits } from './client-access-service.js';
import { pruneDeviceHistory } from '../db/history-queries.js';
import { createConnectionService } from './connection-service.js';
import type { ServiceDeps } from './deps.js';
import { createDeviceService } from './device-service.js';
import { createMaintenanceService } from './maintenance-service.js';
import { createRevocationService } from './revocation-service.js';
import { createSavedQueryService } from './saved-query-service.js';
import { createSecurityService, type SecurityService } from './security-service.js';
import type { EventBus } from '../events/bus.js';
import { createFleetFigures } from './fleet-figures-service.js';
import { createUnverifiedAttemptLog, type UnverifiedAttemptLogOptions } from './unverified-attempts.js';

export interface ServiceSettings {
  clientCertDays: number;
  autoApproveNetworks: string[];
  /** Connection results older than this many days are dropped (whole partitions) by the maintenance rounds. */
  connectionHistoryDays: number;
  /** On a PostgreSQL server the maintenance rounds of several replicas take turns (an advisory lock). */
  databaseKind?: 'embedded' | 'postgres';
  /** At most this many connection results are kept per device (pruneDeviceHistory, as results are recorded). */
  connectionHistoryPerDevice: number;
  enrollmentLimits: EnrollmentLimits;
  /** 'imported': while the security model is off, imported devices without a valid certificate get secure data in the clear. */
  legacySecureDataRelease: 'off' | 'imported';
  /** The CRL window: a revocation is in the CRL served at most this long after it commits (default 1 s). */
  crlWindowMs?: number;
  /** Overrides for how unverified attempts are gathered (tests use short intervals). */
  unverifiedAttempts?: Partial<UnverifiedAttemptLogOptions>;
}

/** createServices wires every domain service over the same database, bus, clock and CA. */
export function createServices(
  rawDeps: ServiceDeps & { authority: AuthorityInfo; signer: CaSigner; protector: KeyProtector } & ServiceSettings,
) {
  // This replica's own summary changes drop the remembered summary the moment they commit; other
  // replicas' reach it through the bus (on PostgreSQL a NOTIFY round trip later).
  let security: SecurityService | undefined;
  const bus: EventBus = {
    publish(event) {
      if (event.type === 'summaryChanged') security?.invalidateSummary();
      rawDeps.bus.publish(event);
    },
    subscribe: (listener) => rawDeps.bus.subscribe(listener),
    close: () => rawDeps.bus.close(),
  };
  const deps = { ...rawDeps, bus };
  security = createSecurityService(deps);
  const devices = createDeviceService(deps);
  // Each batch of connection results trims its devices' history to the newest connectionHistoryPerDevice
  // (the devices past it by their history_count).
  // One transaction at a time. On a PostgreSQL server a batch is two round trips (its BEGIN goes out
  // with its first statements, its COMMIT with its last: src/db/pipelined-transactions.ts); starting
  // the next batch while the previous commits (overlap 2) then only made the batches smaller and the
  // CPU per result higher (BENCHMARKS.md, "Fewer round trips, bigger batches").
  const connections = createConnectionService({
    ...deps,
    groupCommit: {
      pruneHistory: (tx, ids, known) => pruneDeviceHistory(tx, ids, deps.connectionHistoryPerDevice, known),
      historyPerDevice: deps.connectionHistoryPerDevice,
      overlap: 1,
    },
  });
  const revocation = createRevocationService(deps);
  const unverified = createUnverifiedAttemptLog(deps, deps.unverifiedAttempts);
  return {
    devices,
    connections,
    revocation,
    security,
    savedQueries: createSavedQueryService({ ...deps, devices }),
    audit: createAuditService(deps),
    clientAccess: createClientAccessService({ ...deps, revocation }),
    unverified,
    agentAuth: createAgentAuthService({ ...deps, connections, unverified }),
    maintenance: createMaintenanceService({ ...deps, revocation }),
    figures: createFleetFigures(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
export type { Caller } from './caller.js';
