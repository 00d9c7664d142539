// One fault against a fresh database: core(s) started, a fleet connecting, the fault, then the checks;
// fault-report.ts turns what the run recorded into its report and judges it.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchCaCertificate } from '../agent-client/agent-client.js';
import { loadConfig } from '../config.js';
import { issueToken, loadOrCreateSigningKey } from '../server/auth.js';
import { createAdminApi } from '../simulator/admin-api.js';
import { localAdminTokenSource } from '../simulator/admin-token.js';
import { createSleeper } from '../simulator/sleeper.js';
import { createCoreProcess, type CoreProcess } from './core-process.js';
import { awaitResync, openDashboard, type Dashboard, type DashboardReport } from './dashboard.js';
import { withDatabase } from './database.js';
import { countBy, reportOf, type FaultKind, type FaultReport } from './fault-report.js';
import { prepareFleet, startLoad, type FleetAgent } from './fleet.js';
import { freePort } from './ports.js';
import type { PrivatePostgres, RestartMode } from './private-postgres.js';
import { checkCounters, mostResultsOfOneDevice, readStoredResults, sampleCounters } from './verify.js';

export { FAULT_KINDS, FAULT_TITLES, type FaultKind, type FaultReport } from './fault-report.js';

/** The history cap the run's cores get: high enough that the run never prunes a result it counts. */
export const HISTORY_PER_DEVICE = 10_000;

export interface FaultRunOptions {
  agents: number;
  /** Load before the fault, and after it is over (the server back, PostgreSQL back, or the replica gone). */
  beforeMs: number;
  afterMs: number;
  intervalMs: number;
  /** kill: how long the server stays down before it is started again. */
  downMs: number;
  pgRestartMode: RestartMode;
  requestTimeoutMs: number;
  /** How long a dashboard may take to show the final state after the load. */
  resyncTimeoutMs: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** runFault runs one fault against a fresh database of the private cluster; dir is a scratch directory of its own. */
export async function runFault(kind: FaultKind, index: number, pg: PrivatePostgres, dir: string, opts: FaultRunOptions, track: (p: CoreProcess) => void): Promise<FaultReport> {
  const log = opts.log;
  const sleep = createSleeper(opts.signal);
  const dbName = `faults_${index}_${kind.replace(/-/g, '_')}`;
  const databaseUrl = await pg.createDatabase(dbName);
  const replicaCount = kind === 'replica-kill' ? 2 : 1;
  // Replicas share the database, the CA passphrase and the token key (copied: as on two machines).
  const passphrase = randomBytes(24).toString('base64url');
  const replicas: CoreProcess[] = [];
  const dataDirs: string[] = [];
  for (let r = 0; r < replicaCount; r++) {
    const name = `replica-${'ab'[r]}`;
    const dataDir = join(dir, name);
    await mkdir(dataDir, { recursive: true });
    dataDirs.push(dataDir);
    const core = createCoreProcess({
      name,
      port: await freePort(),
      agentPort: await freePort(),
      logFile: join(dir, `${name}.log`),
      env: {
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        CA_KEY_PASSPHRASE: passphrase,
        CORE_NAME: 'certfleet-faults',
        LOG_LEVEL: 'info',
        CONNECTION_HISTORY_PER_DEVICE: String(HISTORY_PER_DEVICE),
      },
    });
    track(core);
    replicas.push(core);
  }
  const dashboards: Dashboard[] = [];
  try {
    // The token key is made before any replica starts, so that every replica gets a copy of it.
    await loadOrCreateSigningKey(dataDirs[0]!);
    for (const d of dataDirs.slice(1)) await copyFile(join(dataDirs[0]!, 'jwt-signing-key.pem'), join(d, 'jwt-signing-key.pem'));
    const primary = replicas[0]!;
    const started = async (r: CoreProcess) => {
      const ms = await r.start();
      log(`${r.name} is up in ${(ms / 1000).toFixed(1)} s (GraphQL ${r.graphqlUrl}, gateway ${r.agentUrl})`);
    };
    // The first replica creates the CA; the others start while the fleet enrolls through it.
    await started(primary);
    const others = Promise.all(replicas.slice(1).map(started));
    others.catch(() => {});
    const auth = loadConfig({ DATA_DIR: dataDirs[0] }).auth;
    const adminToken = await localAdminTokenSource(auth, { subject: 'certfleet-faults' });
    const viewerToken = await issueToken(auth, { subject: 'certfleet-faults-dashboard', roles: ['VIEWER'], ttlSeconds: 4 * 3600 });
    const api = createAdminApi(primary.graphqlUrl, adminToken, 120_000);
    const ca = await api.certificateAuthority();

    const prefix = `flt${index}-${randomBytes(3).toString('hex')}`;
    const setupStarted = performance.now();
    const fleet = await prepareFleet({
      agents: opts.agents,
      prefix,
      api,
      gatewayUrl: primary.agentUrl,
      replicas: replicaCount,
      caCertificatePem: ca.certificatePem,
    });
    await others;
    for (const r of replicas) {
      const served = await fetchCaCertificate(r.agentUrl);
      if (served.fingerprint !== ca.fingerprint) throw new Error(`${r.name} serves another CA than ${primary.name}: the replicas do not share one core`);
    }
    log(`${fleet.length} agents enrolled and approved in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s (${describeFleet(fleet)})`);
    checkAbort(opts.signal);

    for (const r of replicas) dashboards.push(openDashboard(r.name, r.graphqlUrl, async () => viewerToken));
    const sampler = sampleCounters(databaseUrl, 1000);
    const load = startLoad({
      fleet,
      gatewayUrls: replicas.map((r) => r.agentUrl),
      caCertificatePem: ca.certificatePem,
      intervalMs: opts.intervalMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      failover: replicaCount > 1,
    });
    const loadStarted = Date.now();
    const progress = setInterval(() => {
      const c = load.counts();
      log(`  +${((Date.now() - loadStarted) / 1000).toFixed(0)} s: ${c.acks} acknowledged, ${c.errors} errors`);
    }, 5000);

    let faultAt = 0;
    let faultEnd = 0;
    let serverRestartMs: number | undefined;
    let pgRestartMs: number | undefined;
    let stopped = false;
    const stopLoad = async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(progress);
      await load.stop();
    };
    try {
      await sleep(opts.beforeMs);
      checkAbort(opts.signal);
      faultAt = Date.now();
      if (kind === 'kill') {
        log(`fault: kill -9 ${primary.name} (pid ${primary.pid})`);
        await primary.kill9();
        await sleep(opts.downMs);
        checkAbort(opts.signal);
        serverRestartMs = await primary.start();
        log(`${primary.name} started again, ready in ${(serverRestartMs / 1000).toFixed(1)} s`);
      } else if (kind === 'pg-restart') {
        log(`fault: pg_ctl restart -m ${opts.pgRestartMode} of the private cluster`);
        const t = performance.now();
        await pg.restart(opts.pgRestartMode);
        pgRestartMs = performance.now() - t;
        log(`PostgreSQL accepts connections again after ${(pgRestartMs / 1000).toFixed(1)} s`);
      } else {
        const victim = replicas[1]!;
        log(`fault: kill -9 ${victim.name} (pid ${victim.pid}); its agents move to ${primary.name}`);
        await victim.kill9();
      }
      faultEnd = Date.now();
      await sleep(opts.afterMs);
    } finally {
      await stopLoad();
    }
    const loadEnd = Date.now();
    const samples = await sampler.stop();
    checkAbort(opts.signal);
    log(`load stopped after ${((loadEnd - loadStarted) / 1000).toFixed(1)} s; checking`);

    // Dashboards on every replica still running: the restarted one, or the survivor.
    const dashboardReports: DashboardReport[] = [];
    for (let r = 0; r < replicaCount; r++) {
      if (!replicas[r]!.running) continue;
      dashboardReports.push(
        await awaitResync(dashboards[r]!, replicas[r]!.graphqlUrl, viewerToken, databaseUrl, {
          faultAt,
          faultEnd,
          loadEnd,
          restartedAt: kind === 'kill' && r === 0 ? faultEnd : null,
          timeoutMs: opts.resyncTimeoutMs,
        }),
      );
    }

    const { final, stored, mostPerDevice } = await withDatabase(databaseUrl, 120_000, async (sql) => ({
      final: await checkCounters(sql),
      stored: await readStoredResults(sql, prefix),
      mostPerDevice: await mostResultsOfOneDevice(sql, prefix),
    }));
    return await reportOf({
      kind,
      dbName,
      replicas,
      settings: {
        agents: opts.agents,
        beforeMs: opts.beforeMs,
        afterMs: opts.afterMs,
        intervalMs: opts.intervalMs,
        ...(kind === 'kill' ? { downMs: opts.downMs } : {}),
        ...(kind === 'pg-restart' ? { pgRestartMode: opts.pgRestartMode } : {}),
      },
      loadStarted,
      loadEnd,
      faultAt,
      faultEnd,
      serverRestartMs,
      pgRestartMs,
      fleet,
      attempts: load.attempts,
      stored,
      mostPerDevice,
      historyCap: HISTORY_PER_DEVICE,
      counters: { final, checks: samples.checks, mismatches: samples.mismatches, unavailable: samples.unavailable },
      dashboards: dashboardReports,
    });
  } finally {
    for (const d of dashboards) d.dispose();
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

function describeFleet(fleet: FleetAgent[]): string {
  const by = countBy(fleet, (a) => a.role);
  return Object.entries(by)
    .map(([role, n]) => `${n} ${role}`)
    .join(', ');
}

/** Interrupted ends a fault run early (Ctrl-C). */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Interrupted('interrupted');
}
