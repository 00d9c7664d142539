import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { migrate, MIGRATION_LOCK } from '../../src/db/migrate.js';
import { rowsOf } from '../../src/db/rows.js';
import { ApproveClientDocument, DevicesDocument, SummaryDocument } from '../generated/graphql.js';
import { createAgent, errorOf, type TestAgent } from '../support/agent.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { databaseKind, errorCode, startTestCore, type TestCore } from '../support/test-core.js';
import { logsWith, parseLogs } from '../support/logs.js';

// Both need a PostgreSQL server: the embedded database cannot go away, and it does not honour
// statement_timeout (README, "When the database is slow or away").

// /readyz carries the database check (/readyz is liveness: 200 while the process answers).
const readyz = async (tc: TestCore) => {
  const res = await fetch(new URL('/readyz', tc.url));
  return { status: res.status, body: (await res.json()) as { status: string } };
};

// One GraphQL request over HTTP, with its headers (Retry-After).
async function rawGraphQL(tc: TestCore, token: string, query: string) {
  const res = await fetch(tc.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

// Polls until check passes; for conditions another process brings about (a lock wait), not for speed.
async function eventually<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 200; i++) {
    last = await read();
    if (check(last)) return last;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(last)}`);
}

describe.skipIf(databaseKind() !== 'postgres')('a statement running past DB_STATEMENT_TIMEOUT_MS', () => {
  let tc: TestCore;
  let viewer: string;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    // No maintenance round during the test: it too would wait on the locked table.
    tc = await startTestCore({ env: { DB_STATEMENT_TIMEOUT_MS: '1500', SWEEP_INTERVAL_MS: '3600000' } });
    viewer = await tc.token('victor', ['VIEWER']);
  });
  afterAll(async () => {
    for (const a of agents) a.close();
    await tc?.close();
  });

  it('is cancelled: QUERY_TIMEOUT to the GraphQL caller and 503 to agents, its cause logged once, /readyz still 200', async () => {
    const before = await tc.gql(DevicesDocument, { first: 10 }, viewer);
    expect(before.errors).toBeUndefined();

    // Another session holds the devices table, so any statement reading it waits, deterministically.
    const locker = postgres(tc.config.databaseUrl!, { max: 1, onnotice: () => {} });
    const watcher = postgres(tc.config.databaseUrl!, { max: 1, onnotice: () => {} });
    const session = await locker.reserve();
    try {
      await session`begin`;
      await session`lock table devices in access exclusive mode`;

      const pending = tc.gql(DevicesDocument, { first: 10 }, viewer);
      await eventually(
        'the devices query to wait on the lock',
        async () => (await watcher<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query ilike '%from "devices"%'`)[0]!.n,
        (n) => n >= 1,
      );
      // The health ping reads no table: it answers while the API's read waits.
      expect(await readyz(tc)).toEqual({ status: 200, body: { status: 'ready' } });

      const result = await pending;
      expect(result.status).toBe(200);
      expect(result.data ?? null).toBeNull();
      expect(errorCode(result)).toBe('QUERY_TIMEOUT');
      expect(result.errors![0]!.message).toMatch(/fewer items .*narrower filter/);
      expect(result.errors![0]!.path).toEqual(['devices']);

      // An agent whose call waits as long gets a 503 to retry, not a 500.
      const agent = createAgent({ gatewayUrl: tc.core.agentUrl, caCertificatePem: tc.core.authority.certificatePem, agentId: 'agent-slow' });
      agents.push(agent);
      const refused = await agent.enroll();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(errorOf(refused.body).code).toBe('QUERY_TIMEOUT');
    } finally {
      await session`rollback`.catch(() => {});
      session.release();
      await locker.end();
      await watcher.end();
    }

    // The cause, once per failed operation: the GraphQL field, SQLSTATE 57014 and the SQL text.
    const graphqlLines = logsWith(tc.logs, 'GraphQL operation was cancelled by the statement timeout');
    expect(graphqlLines).toHaveLength(1);
    expect(graphqlLines[0]).toMatchObject({ level: 'warn', path: ['devices'], dbCode: '57014', reason: 'canceling statement due to statement timeout' });
    expect(graphqlLines[0]!.sql).toMatch(/"devices"/);
    expect(graphqlLines[0]!.requestId).toEqual(expect.any(String));
    const gatewayLines = logsWith(tc.logs, 'agent gateway: request failed on the database');
    expect(gatewayLines).toHaveLength(1);
    expect(gatewayLines[0]).toMatchObject({ level: 'warn', route: '/agent/v1/enroll', code: 'QUERY_TIMEOUT' });
    expect(gatewayLines[0]!.requestId).toEqual(expect.any(String));
    expect(parseLogs(tc.logs).filter((l) => l.level === 'error')).toEqual([]);

    // Nothing stays broken once the table is free.
    const after = await tc.gql(DevicesDocument, { first: 10 }, viewer);
    expect(after.errors).toBeUndefined();
    expect(after.data!.devices.totalCount).toBe(before.data!.devices.totalCount);
    const enrolled = await agents[0]!.enroll();
    expect(enrolled.status).toBe(202);
  });

  it('does not apply to the migrations: waiting for another replica\'s turn outlasts it and still succeeds', async () => {
    // Another session holds the migration lock, as a replica migrating at the same moment would.
    const holder = postgres(tc.config.databaseUrl!, { max: 1, onnotice: () => {} });
    const watcher = postgres(tc.config.databaseUrl!, { max: 1, onnotice: () => {} });
    const database = await openDatabase({ dataDir: tmpdir(), databaseUrl: tc.config.databaseUrl, poolSize: 1, statementTimeoutMs: 200 });
    try {
      await holder`select pg_advisory_lock(${MIGRATION_LOCK})`;
      // Settled into a value at once, so a cancellation during the wait fails the assertion below, not the run.
      const migrating = migrate(database.db).catch((err: unknown) => err);
      await eventually(
        'the migration to wait for the lock',
        async () => (await watcher<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query like '%pg_advisory_xact_lock%'`)[0]!.n,
        (n) => n >= 1,
      );
      // Far past the pool's 200 ms: a statement under that limit would have been cancelled by now.
      await sleep(1000);
      await holder`select pg_advisory_unlock(${MIGRATION_LOCK})`;
      expect(await migrating).toEqual({ applied: 0 });
      // The pool's own statements keep the limit.
      const rows = await database.db.execute(sql`show statement_timeout`);
      expect(rowsOf<{ statement_timeout: string }>(rows)[0]!.statement_timeout).toBe('200ms');
    } finally {
      await database.close();
      await holder.end();
      await watcher.end();
    }
  });
});

describe.skipIf(databaseKind() !== 'postgres')('PostgreSQL going away and coming back', () => {
  let proxy: TcpProxy;
  let tc: TestCore;
  let admin: string;
  let agent: TestAgent;

  beforeAll(async () => {
    const server = new URL(inject('postgresAdminUrl'));
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    tc = await startTestCore({
      env: { SWEEP_INTERVAL_MS: '3600000' },
      routeDatabaseUrl: (url) => {
        const u = new URL(url);
        u.hostname = '127.0.0.1';
        u.port = String(proxy.port);
        return u.toString();
      },
    });
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    // An enrolled, approved agent: its connect reaches the database.
    agent = createAgent({ gatewayUrl: tc.core.agentUrl, caCertificatePem: tc.core.authority.certificatePem, agentId: 'agent-away' });
    const enrolled = await agent.enroll();
    expect(enrolled.status).toBe(202);
    const requestId = (enrolled.body as { requestId: string }).requestId;
    expect((await tc.gql(ApproveClientDocument, { id: requestId }, admin)).errors).toBeUndefined();
    const polled = (await agent.poll(requestId)).body as { status: string; certificatePem: string };
    expect(polled.status).toBe('APPROVED');
    agent.useCertificate(polled.certificatePem);
  });
  afterAll(async () => {
    agent?.close();
    await proxy?.restore();
    await tc?.close();
    await proxy?.close();
  });

  const connectOk = async () => {
    const ok = await agent.connect();
    expect([ok.status, ok.body]).toEqual([200, { status: 'AUTHENTICATION_SUCCEEDED', reason: null }]);
  };

  it('refused connections: agents get 503 + Retry-After, GraphQL SERVICE_UNAVAILABLE (503), /readyz 503; all recovers without a restart', async () => {
    await connectOk();
    expect((await readyz(tc)).status).toBe(200);
    await proxy.cut();

    const connect = await agent.connect();
    expect(connect.status).toBe(503);
    expect(connect.headers['retry-after']).toBe('5');
    expect(errorOf(connect.body)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/database is unavailable/) });

    const stranger = createAgent({ gatewayUrl: tc.core.agentUrl, caCertificatePem: tc.core.authority.certificatePem, agentId: 'agent-new' });
    try {
      const enroll = await stranger.enroll();
      expect(enroll.status).toBe(503);
      expect(enroll.headers['retry-after']).toBe('5');
      expect(errorOf(enroll.body).code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      stranger.close();
    }

    // A request that fails whole is answered 503 with Retry-After.
    const read = await rawGraphQL(tc, admin, '{ devices(first: 5) { totalCount } }');
    expect(read.status).toBe(503);
    expect(read.retryAfter).toBe('5');
    expect(read.body.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(read.body.errors![0]!.message).toMatch(/database is unavailable/);
    const mutation = await tc.gql(ApproveClientDocument, { id: '999999' }, admin);
    expect(mutation.status).toBe(503);
    expect(errorCode(mutation)).toBe('SERVICE_UNAVAILABLE');

    expect(await readyz(tc)).toEqual({ status: 503, body: { status: 'unavailable', reason: 'database not reachable' } });
    await tc.core.services.maintenance.runOnce();
    expect(logsWith(tc.logs, 'maintenance round skipped: the database is unavailable')).toHaveLength(1);
    expect(logsWith(tc.logs, 'maintenance round failed')).toEqual([]);
    // Logged as the database being away, never as an unexpected error with a 500.
    expect(logsWith(tc.logs, 'unexpected error in a GraphQL operation')).toEqual([]);
    expect(logsWith(tc.logs, 'agent gateway: request failed', 'error')).toEqual([]);

    await proxy.restore();
    // postgres.js reconnects on the next query: no restart of the core.
    await eventually('/readyz to answer 200 again', () => readyz(tc), (h) => h.status === 200);
    await connectOk();
    const summary = await tc.gql(SummaryDocument, {}, admin);
    expect(summary.errors).toBeUndefined();
    expect(summary.data!.authStatusSummary.succeeded).toBe(1);
    const devices = await rawGraphQL(tc, admin, '{ devices(first: 5) { totalCount } }');
    expect(devices.status).toBe(200);
    expect(devices.retryAfter).toBeNull();
  });

  it('a database that stops answering (frozen, not refusing): /readyz still answers 503 instead of hanging, then 200 again', async () => {
    expect((await readyz(tc)).status).toBe(200);
    proxy.freeze();
    try {
      expect(await readyz(tc)).toEqual({ status: 503, body: { status: 'unavailable', reason: 'database not reachable' } });
    } finally {
      await proxy.restore();
    }
    await eventually('/readyz to answer 200 again', () => readyz(tc), (h) => h.status === 200);
    await connectOk();
  });
});
