import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/rows.js';
import { ApproveClientDocument, ClientAccessDecidedDocument, type ClientAccessDecidedSubscription } from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { subscribeLive, type LiveSubscription } from '../support/live-client.js';
import { seed } from '../support/seed.js';
import { databaseKind, startTestCore, type TestCore } from '../support/test-core.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SUMMARY = 'subscription { authStatusSummaryChanged { total succeeded failed } }';
type Summary = { authStatusSummaryChanged: { total: number; succeeded: number; failed: number } };

/** startReplica runs a second server process on replica A's database and DATA_DIR (its CA key file and token key). */
async function startReplica(a: TestCore): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PORT|AGENT_PORT|DATA_DIR|DATABASE_URL)$/.test(k)));
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), ['src/cli/start.ts'], {
    cwd: ROOT,
    env: {
      ...env,
      NODE_ENV: 'production',
      DATABASE_URL: a.config.databaseUrl!,
      DATA_DIR: a.config.dataDir,
      PORT: '0',
      AGENT_PORT: '0',
      CORE_NAME: 'core-under-test',
      SUMMARY_PUSH_MS: '50',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`replica B did not start: ${stderr}`)), 30_000);
    child.stderr!.on('data', () => {
      const m = /GraphQL API at (http:\/\/\S+)/.exec(stderr);
      if (m && /Get a token with/.test(stderr)) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`replica B exited with ${code}: ${stderr}`)));
  });
  return { url, child, stderr: () => stderr };
}

describe.skipIf(databaseKind() !== 'postgres')('two replicas on one PostgreSQL server', () => {
  let a: TestCore;
  let b: Awaited<ReturnType<typeof startReplica>>;
  let dash: LiveSubscription<Summary>;

  beforeAll(async () => {
    a = await startTestCore({ env: { SUMMARY_PUSH_MS: '50' } });
    b = await startReplica(a);
    const viewer = await a.token('victor', ['VIEWER']);
    dash = subscribeLive<Summary>(b.url, { authorization: `Bearer ${viewer}` }, SUMMARY);
    await dash.until(() => true, 10_000, 'the first summary from replica B');
  }, 90_000);
  afterAll(async () => {
    dash?.dispose();
    b?.child.kill('SIGTERM');
    await a?.close();
  });

  it('a subscriber on replica B sees a change made through replica A', async () => {
    const before = dash.messages.at(-1)!.authStatusSummaryChanged;
    await seed(a).record('replica-1', 'succeeded');
    const seen = await dash.until((m) => m.authStatusSummaryChanged.succeeded === before.succeeded + 1, 10_000, 'the change from A');
    expect(seen.authStatusSummaryChanged.total).toBe(before.total + 1);
  });

  it('a subscriber on replica B sees a decision made through replica A, its decider named beyond ASCII intact', async () => {
    const viewer = await a.token('victor', ['VIEWER']);
    const decided = subscribeLive<ClientAccessDecidedSubscription>(b.url, { authorization: `Bearer ${viewer}` }, print(ClientAccessDecidedDocument));
    const agents = agentsOf(() => a.core);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const enrolled = await agents.make('replica-decided').enroll();
      const requestId = (enrolled.body as { requestId: string }).requestId;
      const approved = await a.gql(ApproveClientDocument, { id: requestId }, await a.token('Åsa Lindström', ['SECURITY_ADMIN']));
      expect(approved.errors).toBeUndefined();
      const seen = await decided.until((m) => m.clientAccessDecided.requestId === requestId, 10_000, 'the decision from A');
      expect(seen.clientAccessDecided).toMatchObject({
        decision: 'APPROVED',
        decidedBy: 'Åsa Lindström',
        request: { id: requestId, status: 'APPROVED', device: { agentId: 'replica-decided' } },
      });
    } finally {
      decided.dispose();
      agents.closeAll();
    }
  });

  it('after the listener connections are killed, the replica re-listens, re-sends the summary, and later changes still arrive', async () => {
    const killed = rowsOf<{ pid: number }>(
      await a.core.database.db.execute(sql`
        select pid from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`),
    );
    expect(killed.length).toBeGreaterThanOrEqual(2);
    await a.core.database.db.execute(sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen%'`);
    const deadline = Date.now() + 20_000;
    while (!/event listener reconnected/.test(b.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(b.stderr()).toMatch(/event listener reconnected/);

    const count = dash.messages.length;
    await seed(a).record('replica-1', 'revoked');
    await dash.until(
      (m) => dash.messages.indexOf(m) >= count && m.authStatusSummaryChanged.failed >= 1,
      15_000,
      'a change made after the reconnect',
    );
  });
});
