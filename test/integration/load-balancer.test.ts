import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { awaitResync, openDashboard, readSummary, sameCounts, type Dashboard } from '../../src/faults/dashboard.js';
import { withDatabase } from '../../src/faults/database.js';
import { prepareFleet, startLoad } from '../../src/faults/fleet.js';
import { findHaproxy, startLoadBalancer, type LoadBalancer, type ServerState } from '../../src/faults/haproxy.js';
import { freePort } from '../../src/faults/ports.js';
import { createReplicaSet, type ReplicaSet } from '../../src/faults/replica-set.js';
import { checkCounters, matchAcknowledged, readStoredResults } from '../../src/faults/verify.js';
import { issueToken } from '../../src/server/auth.js';
import { createAdminApi } from '../../src/simulator/admin-api.js';
import { localAdminTokenSource } from '../../src/simulator/admin-token.js';
import { databaseKind, freshDatabase } from '../support/test-core.js';

// The deploy recipe (deploy/haproxy/haproxy.cfg as shipped) in front of two replicas, real processes on
// one PostgreSQL database. Agents and a dashboard know only HAProxy's two addresses; one replica is
// stopped as a deploy stops it (SIGTERM: /readyz 503 for SHUTDOWN_DRAIN_MS, then the listeners close).
const DRAIN_MS = 3000;
const AGENTS = 30;

const up = (s: ServerState) => s.status === 'UP';
const down = (s: ServerState) => s.status.startsWith('DOWN');
const of = (servers: ServerState[], backend: string, server: string) => servers.find((s) => s.backend === backend && s.server === server);

describe.skipIf(databaseKind() !== 'postgres')('two replicas behind HAProxy (deploy/haproxy/haproxy.cfg; PostgreSQL only: replicas share a database server, the embedded one is in-process)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: string;
  let set: ReplicaSet;
  let lb: LoadBalancer;
  const dashboards: Dashboard[] = [];
  let passed = false;

  beforeAll(async () => {
    if (findHaproxy() === null) throw new Error('this test needs HAProxy: apt-get install haproxy (.ci/run installs it)');
    database = await freshDatabase(false);
    dir = await mkdtemp(join(tmpdir(), 'certfleet-lb-'));
    set = await createReplicaSet({
      databaseUrl: database.databaseUrl!,
      dir,
      passphrase: randomBytes(24).toString('base64url'),
      env: {
        CORE_NAME: 'certfleet-lb-test',
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
        // HAProxy connects to the gateways from 127.0.0.2 and names each agent in a PROXY v2 header.
        AGENT_PROXY_PROTOCOL_FROM: '127.0.0.2/32',
        SUMMARY_PUSH_MS: '100',
      },
    });
    await set.start();
    const [a, b] = set.replicas;
    lb = await startLoadBalancer({
      httpPort: await freePort(),
      agentPort: await freePort(),
      statsPort: await freePort(),
      agentSource: '127.0.0.2',
      replicas: [
        { httpPort: a!.port, agentPort: a!.agentPort },
        { httpPort: b!.port, agentPort: b!.agentPort },
      ],
      logFile: join(dir, 'haproxy.log'),
    });
    await lb.until((servers) => servers.length === 4 && servers.every(up), 10_000, 'both replicas UP in both backends');
  }, 120_000);

  afterAll(async () => {
    for (const d of dashboards) d.dispose();
    await lb?.stop();
    await set?.stop();
    await database?.drop();
    // The replicas' and HAProxy's logs stay for a look when the test failed.
    if (dir && passed) await rm(dir, { recursive: true, force: true });
    else if (dir) console.log(`logs of the replicas and HAProxy kept in ${dir}`);
  });

  it('a replica stopped with SIGTERM mid-run: agents finish with no error, the dashboard reconnects and ends on the final summary, every acknowledged result is stored', async () => {
    const auth = loadConfig({ DATA_DIR: set.dataDirs[0] }).auth;
    const api = createAdminApi(lb.graphqlUrl, await localAdminTokenSource(auth, { subject: 'lb-test' }), 60_000);
    const viewer = await issueToken(auth, { subject: 'lb-test-dashboard', roles: ['VIEWER'], ttlSeconds: 3600 });
    const ca = await api.certificateAuthority();
    const prefix = `lb-${randomBytes(3).toString('hex')}`;
    // Enrolled, approved and given certificates through HAProxy, before any fault.
    const fleet = await prepareFleet({ agents: AGENTS, prefix, api, gatewayUrl: lb.agentUrl, replicas: 1, caCertificatePem: ca.certificatePem });

    const dashboard = openDashboard('through HAProxy', lb.graphqlUrl, async () => viewer);
    dashboards.push(dashboard);
    // The replica holding the dashboard's WebSocket is the one stopped, so that it has to reconnect.
    const servers = await lb.until((s) => s.filter((x) => x.backend === 'api' && x.sessions > 0).length === 1 && dashboard.messages.length > 0, 10_000, "the dashboard's socket on one replica");
    const victimName = servers.find((x) => x.backend === 'api' && x.sessions > 0)!.server;
    const victim = set.replicas.find((r) => r.name === victimName)!;
    const survivor = set.replicas.find((r) => r !== victim)!;

    const load = startLoad({ fleet, gatewayUrls: [lb.agentUrl], caCertificatePem: ca.certificatePem, intervalMs: 1000, requestTimeoutMs: 15_000, failover: false });
    await new Promise((r) => setTimeout(r, 3000));
    const ackedBeforeStop = load.counts().acks;

    const stopAt = Date.now();
    const stopped = victim.stop();
    // HAProxy sees /readyz 503 and takes the replica out of both backends before its listeners close.
    await lb.until((s) => down(of(s, 'api', victimName)!) && down(of(s, 'agents', victimName)!), DRAIN_MS, `${victimName} DOWN while it drains`);
    const outAfterMs = Date.now() - stopAt;
    expect(await stopped).toBe(0);
    // The survivor carries the fleet for a while, then the load stops.
    await new Promise((r) => setTimeout(r, 4000));
    await load.stop();
    const loadEnd = Date.now();
    const counts = load.counts();

    const summary = await readSummary(lb.graphqlUrl, viewer);
    const resync = await awaitResync(dashboard, lb.graphqlUrl, viewer, database.databaseUrl!, {
      faultAt: stopAt,
      faultEnd: stopAt,
      loadEnd,
      restartedAt: null,
      timeoutMs: 10_000,
    });
    const { stored, counters } = await withDatabase(database.databaseUrl!, 30_000, async (sql) => ({
      stored: await readStoredResults(sql, prefix),
      counters: await checkCounters(sql),
    }));
    const acked = load.attempts
      .filter((a) => a.outcome === 'ack')
      .map((a) => ({ agentId: fleet[a.agent]!.agentId, source: a.source, sentAt: a.sentAt, answeredAt: a.answeredAt, result: a.result!, reason: a.reason }));
    const match = matchAcknowledged(acked, stored);
    const errors = load.attempts.filter((a) => a.outcome !== 'ack').map((a) => `${a.outcome} (agent ${a.agent}, ${a.source})`);

    console.log(
      `HAProxy took ${victimName} out ${outAfterMs} ms after its SIGTERM (drain ${DRAIN_MS} ms); ` +
        `${counts.acks} results acknowledged (${ackedBeforeStop} before the stop), ${errors.length} errors; ` +
        `dashboard: ${dashboard.connectedAt.length} connections, ${dashboard.messages.length} messages, resynced in ${resync.resyncMs} ms`,
    );
    // The simulation: every report acknowledged at the first try, each with the verdict its agent's part must get.
    expect(errors).toEqual([]);
    expect(load.attempts.filter((a) => a.expected === false)).toEqual([]);
    expect(counts.acks).toBeGreaterThan(ackedBeforeStop);
    // The survivor answered after the stop: results kept coming once the victim had gone.
    expect(load.attempts.some((a) => a.outcome === 'ack' && a.sentAt > stopAt + DRAIN_MS)).toBe(true);

    // The dashboard lost its replica, came back through HAProxy to the other, and ends on the final state.
    expect(dashboard.closedAt.some((t) => t >= stopAt)).toBe(true);
    expect(dashboard.connectedAt.filter((t) => t >= stopAt).length).toBeGreaterThanOrEqual(1);
    expect(dashboard.errors).toEqual([]);
    expect(resync.resynced).toBe(true);
    expect(sameCounts(dashboard.last(), summary)).toBe(true);
    expect(resync.freshRead).toEqual(summary);

    // Every acknowledged result is a stored one; the kept counters equal a recount.
    expect(match.acknowledged).toBe(counts.acks);
    expect(match.lost).toEqual([]);
    expect(counters.equal).toBe(true);

    // The survivor serves on; the victim stays out.
    const after = await lb.servers();
    expect(of(after, 'api', survivor.name)!.status).toBe('UP');
    expect(down(of(after, 'api', victimName)!)).toBe(true);
    expect(await readFile(join(dir, 'haproxy.log'), 'utf8')).toMatch(new RegExp(`Server api/${victimName} is DOWN`));
    passed = true;
  }, 90_000);
});
