import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { issueToken } from '../../src/server/auth.js';
import { transact } from '../../src/services/transaction.js';
import { ApproveClientDocument, SummaryDocument } from '../generated/graphql.js';
import { createAgent } from '../support/agent.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { subscribeLive } from '../support/live-client.js';
import { seed } from '../support/seed.js';
import type { TestCore } from '../support/test-core.js';

const SUMMARY = 'subscription { authStatusSummaryChanged { total succeeded noAuthenticationInfo failed mustUpgrade successRate securityEnabled items { status count } } }';
type Summary = { authStatusSummaryChanged: { total: number; succeeded: number; failed: number; noAuthenticationInfo: number; mustUpgrade: number } };
type Change = { deviceAuthStatusChanged: { previous: string; current: string; at: string; device: { agentId: string; authStatus: string } } };

describe('live dashboards over graphql-ws', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  const opened: { dispose(): void }[] = [];
  const live = <T>(query: string, variables: Record<string, unknown> = {}, token = viewer) => {
    const s = subscribeLive<T>(tc.url, { authorization: `Bearer ${token}` }, query, variables);
    opened.push(s);
    return s;
  };

  beforeAll(async () => {
    // The dashboards of every test stay open until the end, more than one token's default number of sockets.
    ({ tc, admin, viewer } = await startCoreWithTokens({ env: { SUMMARY_PUSH_MS: '100', GRAPHQL_WS_MAX_CONNECTIONS_PER_TOKEN: '20' } }));
  });
  afterAll(async () => {
    for (const s of opened) s.dispose();
    await tc?.close();
  });

  it('sends the current summary at once, then the chart moving as an agent enrolls, is approved and connects', async () => {
    const dash = live<Summary>(SUMMARY);
    const first = await dash.until(() => true, 10_000, 'the first summary');
    expect(first.authStatusSummaryChanged).toMatchObject({ total: 1, noAuthenticationInfo: 1, succeeded: 0 });

    const agent = createAgent({ gatewayUrl: tc.core.agentUrl, caCertificatePem: tc.core.authority.certificatePem, agentId: 'live-1' });
    const requests = live<{ clientAccessRequested: { id: string; status: string; device: { agentId: string } } }>(
      'subscription { clientAccessRequested { id status device { agentId } } }',
    );
    await new Promise((r) => setTimeout(r, 200));
    const enrolled = await agent.enroll();
    const requestId = (enrolled.body as { requestId: string }).requestId;
    const req = await requests.until((m) => m.clientAccessRequested.id === requestId, 10_000, 'the new request');
    expect(req.clientAccessRequested).toMatchObject({ status: 'PENDING', device: { agentId: 'live-1' } });

    await tc.gql(ApproveClientDocument, { id: requestId }, admin);
    agent.useCertificate(((await agent.poll(requestId)).body as { certificatePem: string }).certificatePem);
    expect((await agent.connect()).status).toBe(200);
    const moved = await dash.until((m) => m.authStatusSummaryChanged.succeeded === 1, 10_000, 'succeeded 1');
    expect(moved.authStatusSummaryChanged).toMatchObject({ total: 2, succeeded: 1 });
    agent.close();
  });

  it('coalesces a burst of 500 changes: far fewer messages, and the last one is the final state', async () => {
    const dash = live<Summary>(SUMMARY);
    await dash.until(() => true);
    const s = seed(tc);
    const kinds = ['succeeded', 'notApproved', 'mustUpgrade', 'expired'] as const;
    for (let i = 0; i < 500; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => s.record(`burst-${(i + j) % 40}`, kinds[(i + j) % kinds.length]!)));
    }
    await dash.quiet(1000);
    const final = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    const last = dash.messages.at(-1)!.authStatusSummaryChanged;
    expect(last).toMatchObject({ total: final.total, succeeded: final.succeeded, failed: final.failed, mustUpgrade: final.mustUpgrade, noAuthenticationInfo: final.noAuthenticationInfo });
    expect(dash.messages.length).toBeGreaterThan(1);
    expect(dash.messages.length).toBeLessThan(100);
  });

  it('streams device status changes, filtered to the asked statuses', async () => {
    const all = live<Change>('subscription { deviceAuthStatusChanged { previous current at device { agentId authStatus } } }');
    const failedOnly = live<Change>(
      'subscription ($s: [AuthenticationStatus!]) { deviceAuthStatusChanged(statuses: $s) { previous current at device { agentId authStatus } } }',
      { s: ['AUTHENTICATION_FAILED'] },
    );
    await new Promise((r) => setTimeout(r, 300));
    const s = seed(tc);
    await s.record('filter-1', 'succeeded');
    await s.record('filter-1', 'revoked');
    await s.record('filter-1', 'succeeded');
    const down = await failedOnly.until((m) => m.deviceAuthStatusChanged.device.agentId === 'filter-1');
    expect(down.deviceAuthStatusChanged).toMatchObject({ previous: 'AUTHENTICATION_SUCCEEDED', current: 'AUTHENTICATION_FAILED' });
    await all.until((m) => m.deviceAuthStatusChanged.device.agentId === 'filter-1' && m.deviceAuthStatusChanged.previous === 'AUTHENTICATION_FAILED');
    const mine = all.messages.filter((m) => m.deviceAuthStatusChanged.device.agentId === 'filter-1').map((m) => m.deviceAuthStatusChanged.current);
    expect(mine).toEqual(['AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED', 'AUTHENTICATION_SUCCEEDED']);
    await failedOnly.quiet(300);
    expect(failedOnly.messages.filter((m) => m.deviceAuthStatusChanged.device.agentId === 'filter-1')).toHaveLength(1);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const changes = live<Change>('subscription { deviceAuthStatusChanged { current device { agentId } } }');
    const dash = live<Summary>(SUMMARY);
    const before = (await dash.until(() => true)).authStatusSummaryChanged;
    await new Promise((r) => setTimeout(r, 300));
    const heard: string[] = [];
    const off = tc.core.bus.subscribe((e) => heard.push(e.type));
    await expect(
      transact({ db: tc.core.database.db, bus: tc.core.bus }, async (tx, outbox) => {
        await tx.execute(sql`update auth_status_counters set count = count + 1 where status = 'AUTHENTICATION_SUCCEEDED'`);
        outbox.publish({ type: 'summaryChanged' });
        outbox.publish({ type: 'deviceAuthStatusChanged', deviceId: 1, previous: 'NO_AUTHENTICATION_INFO', current: 'AUTHENTICATION_SUCCEEDED', at: new Date().toISOString() });
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    await new Promise((r) => setTimeout(r, 600));
    off();
    expect(heard).toEqual([]);
    expect(changes.messages).toEqual([]);
    expect(dash.messages.at(-1)!.authStatusSummaryChanged).toEqual(before);
  });

  it('answers a subscription that does not validate with BAD_USER_INPUT, as over HTTP', async () => {
    const bad = live<Summary>('subscription { authStatusSummaryChanged { nope } }');
    const errors = (await bad.firstError()) as { message: string; extensions?: { code?: string; reason?: string } }[];
    expect(bad.messages).toEqual([]);
    expect(errors?.[0]?.message).toMatch(/Cannot query field "nope"/);
    expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
  });

  it('closes the socket with 4401 when the token expires', async () => {
    // Issued 58 s ago with the shortest lifetime: it expires in about 2 s.
    const shortLived = await issueToken(tc.config.auth, {
      subject: 'victor',
      roles: ['VIEWER'],
      ttlSeconds: 60,
      now: new Date(Date.now() - 58_000),
    });
    const dash = live<Summary>(SUMMARY, {}, shortLived);
    await dash.until(() => true);
    const closed = await Promise.race([dash.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(closed).toMatchObject({ code: 4401 });
  });

  it('completes subscriptions with a close code when the server stops', async () => {
    const dash = live<Summary>(SUMMARY);
    await dash.until(() => true);
    await tc.core.close();
    const closed = await Promise.race([dash.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(closed).toMatchObject({ code: 1001 });
    // close() above stopped the core; afterAll's close must not fail on it.
    tc.core.close = async () => {};
  });
});
