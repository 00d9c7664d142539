import 'reflect-metadata';
import { isIP } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { ConfigError, type Config } from './config.js';
import { secureDataDir } from './data-dir.js';
import { openDatabase, type Database } from './db/client.js';
import { applyMigrations } from './db/database-roles.js';
import { createInProcessEventBus, type EventBus } from './events/bus.js';
import { createLiveHub, type LiveHub } from './events/live-hub.js';
import { createPostgresEventBus } from './events/postgres-bus.js';
import { createLogger, type Logger } from './logger.js';
import { createPrometheusMetrics } from './metrics/prometheus.js';
import { startMetricsServer } from './metrics/server.js';
import { noMetrics } from './metrics/sink.js';
import { createCaSigner, loadKeyProtector } from './pki/index.js';
import { buildGraphQLSchema } from './resolvers/index.js';
import { startAgentGateway, type AgentGatewayServices } from './server/agent-gateway/index.js';
import { createTokenVerifier, loadOrCreateSigningKey } from './server/auth.js';
import { NotReadyError, startHttpServer } from './server/http-server.js';
import { loadOrCreateAuthority, type AuthorityInfo } from './services/authority-service.js';
import { ensureCoreDevice } from './services/bootstrap-service.js';
import { createServices, type Services } from './services/index.js';
import type { UnverifiedAttemptLogOptions } from './services/unverified-attempts.js';

/** CoreHandle is a running core: its address, its services and a way to stop it. */
export interface CoreHandle {
  url: string;
  port: number;
  /** The agent gateway's base URL (https://host:port). */
  agentUrl: string;
  agentPort: number;
  /** The Prometheus metrics endpoint (http://host:port/metrics) and its port, when METRICS_PORT is set. */
  metricsUrl?: string;
  metricsPort?: number;
  services: Services;
  database: Database;
  authority: AuthorityInfo;
  bus: EventBus;
  live: LiveHub;
  /**
   * drain turns /readyz to 503 ('draining') so load balancers stop sending new work, while everything
   * keeps serving (the agent gateway ends each keep-alive connection with its next answer); close
   * afterwards. What a SIGTERM does first (src/cli/start.ts).
   */
  drain(): void;
  close(): Promise<void>;
}

/** startCore is the composition root: config → database → CA → services → servers. */
export async function startCore(
  config: Config,
  opts: {
    pglite?: PGlite;
    log?: Logger;
    clock?: () => Date;
    onQuery?: (sql: string) => void;
    /** Overrides for how unverified attempts are gathered (tests use short intervals). */
    unverifiedAttempts?: Partial<UnverifiedAttemptLogOptions>;
  } = {},
): Promise<CoreHandle> {
  const log = opts.log ?? createLogger(config.logLevel, { format: config.logFormat });
  // Ready once every part below has started; draining from a SIGTERM until the process stops.
  let phase: 'starting' | 'ready' | 'draining' = 'starting';
  const clock = opts.clock ?? (() => new Date());
  const loose = await secureDataDir(config.dataDir);
  if (loose.length > 0) {
    log.warn(`DATA_DIR: ${loose.length} file(s) and directories were open to other users and are now private`, {
      examples: loose.slice(0, 3),
    });
  }

  const database = await openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    pglite: opts.pglite,
    onQuery: opts.onQuery,
    statementTimeoutMs: config.dbStatementTimeoutMs,
  });
  const closers: [string, () => Promise<void>][] = [['database', () => database.close()]];
  const closeAll = async () => {
    for (const [name, close] of closers.reverse()) {
      log.debug(`stopping: ${name}`);
      await close().catch((err) => log.error(`error while stopping the ${name}`, { error: err }));
    }
    log.debug('stopped');
  };
  try {
    // PGlite sets the modes of the files it unpacks on a first start, and of its relation cache files.
    if (database.kind === 'embedded') await secureDataDir(config.dataDir);
    const migration = await applyMigrations(database, config.databaseMigrationUrl);
    const { applied } = migration;
    if (applied > 0) log.info(`database migrated (${applied} migration${applied === 1 ? '' : 's'} applied)`);
    if (migration.ownerRole) {
      log.info(`database role "${migration.serverRole}" has row privileges only; "${migration.ownerRole}" owns the tables`);
    }
    if (migration.serverRoleCanUndoSwitch) {
      log.warn(
        `database role "${migration.serverRole}" owns the tables: the security switch is protected against the code, ` +
          'not against this role. Set DATABASE_MIGRATION_URL to an owner role and run the server as a role that owns nothing (README.md, Security)',
      );
    }

    const bus = database.notifications
      ? await createPostgresEventBus(database.notifications, log)
      : createInProcessEventBus((err) => log.error('event listener failed', { error: err }));
    closers.push(['event bus', () => bus.close()]);
    // The metrics exist only with their listener: a core without METRICS_PORT records nothing.
    let services: Services | undefined;
    const prometheus =
      config.metricsPort === undefined
        ? undefined
        : createPrometheusMetrics({ log, readFigures: () => services!.figures.read() });
    const metrics = prometheus?.sink ?? noMetrics;
    const deps = { db: database.db, bus, clock, log, metrics };

    const protector = await loadKeyProtector({ passphrase: config.caKeyPassphrase, dataDir: config.dataDir });
    const { authority, created } = await loadOrCreateAuthority(deps, { coreName: config.coreName, protector });
    if (created) log.info('certificate authority created', { subject: authority.subject, fingerprint: authority.fingerprint });
    await ensureCoreDevice(deps, config.coreName);

    const signer = await createCaSigner({ certificatePem: authority.certificatePem, privateKey: authority.privateKey });
    services = createServices({
      ...deps,
      authority,
      signer,
      protector,
      clientCertDays: config.clientCertDays,
      autoApproveNetworks: config.autoApproveNetworks,
      connectionHistoryDays: config.connectionHistoryDays,
      databaseKind: database.kind,
      connectionHistoryPerDevice: config.connectionHistoryPerDevice,
      enrollmentLimits: {
        maxPendingPerAgent: config.enrollMaxPendingPerAgent,
        maxPendingTotal: config.enrollMaxPending,
        perAddressPerMinute: config.enrollRatePerMinute,
      },
      legacySecureDataRelease: config.secureDataLegacyRelease,
      crlWindowMs: config.crlWindowMs,
      unverifiedAttempts: opts.unverifiedAttempts,
    });
    closers.push(['unverified attempt log', () => services.unverified.stop()]);
    await services.revocation.refreshCrlIfDue();
    closers.push(['CRL reissue', services.revocation.start()]);
    await services.maintenance.expireCertificates();
    closers.push(['maintenance', services.maintenance.start(config.sweepIntervalMs)]);
    const live = createLiveHub({
      bus,
      pushIntervalMs: config.summaryPushMs,
      log,
      metrics,
      sources: {
        readSummary: () => services.security.readSummary(),
        loadDevices: (ids) => services.devices.loadDevices(ids),
        loadRequests: (ids) => services.clientAccess.loadRequests(ids),
      },
    });
    closers.push(['live hub', async () => live.close()]);
    const verifier = await createTokenVerifier(config.auth);
    const http = await startHttpServer({
      host: config.host,
      port: config.port,
      schema: await buildGraphQLSchema(),
      services,
      live,
      verifier,
      log,
      ready: async () => {
        if (phase !== 'ready') throw new NotReadyError(phase);
        await database.ping();
      },
      limits: { query: config.graphqlLimits, websocket: config.websocketLimits },
      metrics,
    });
    closers.push(['HTTP server', () => http.close()]);

    const gatewayServices: AgentGatewayServices = {
      caCertificatePem: () => authority.certificatePem,
      currentCrlPem: () => services.revocation.currentCrlPem(),
      enroll: (input) => services.clientAccess.enroll(input),
      getEnrollment: (requestId, presentedCertificate) => services.clientAccess.getEnrollment(requestId, presentedCertificate),
      authenticate: (input) => services.agentAuth.authenticate(input),
      fetchSecureData: (input) => services.agentAuth.fetchSecureData(input),
    };
    const hostnames = config.agentHostnames.filter((h) => isIP(h) === 0);
    const ipAddresses = config.agentHostnames.filter((h) => isIP(h) !== 0);
    const serverCert = await signer.issueServerCertificate({ hostnames, ipAddresses, validityDays: 397 });
    const gateway = await startAgentGateway({
      host: config.host,
      port: config.agentPort,
      tls: { ...serverCert, caCertificatePem: authority.certificatePem },
      services: gatewayServices,
      proxyProtocolFrom: config.agentProxyProtocolFrom,
      log,
      metrics,
    });
    closers.push(['agent gateway', () => gateway.close()]);
    const metricsServer = prometheus
      ? await startMetricsServer({ host: config.metricsHost, port: config.metricsPort!, metrics: prometheus, log }).catch((err: NodeJS.ErrnoException) => {
          // A setting the operator can fix: one line, like a bad value.
          if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
            throw new ConfigError(`METRICS_PORT/METRICS_HOST: cannot listen on ${config.metricsHost}:${config.metricsPort} (${err.code})`);
          }
          throw err;
        })
      : undefined;
    if (metricsServer) {
      closers.push(['metrics listener', () => metricsServer.close()]);
      log.info(`metrics at ${metricsServer.url}`);
    }
    phase = 'ready';
    return {
      url: http.url,
      port: http.port,
      agentUrl: gateway.url,
      agentPort: gateway.port,
      metricsUrl: metricsServer?.url,
      metricsPort: metricsServer?.port,
      services,
      database,
      authority,
      bus,
      live,
      drain: () => {
        phase = 'draining';
        // Agents' keep-alive connections end with their next answer, and come back through the balancer.
        gateway.drain();
      },
      close: async () => {
        phase = 'draining';
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** tokenHint tells a new user how to get a token for the configured auth mode. */
export async function tokenHint(config: Config): Promise<string> {
  if (config.auth.mode === 'external') {
    return `tokens come from your identity provider (issuer ${config.auth.issuer}, audience ${config.auth.audience})`;
  }
  const { created } = await loadOrCreateSigningKey(config.dataDir);
  return (
    (created ? 'a token signing key was created in DATA_DIR. ' : '') +
    'Get a token with: npm run token -- --subject admin --role SECURITY_ADMIN'
  );
}
