import { sql } from 'drizzle-orm';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src/events/bus.js';
import {
  ApproveClientDocument,
  ApproveClientsDocument,
  ClientAccessDecidedDocument,
  ClientAccessRequestsDocument,
  RejectClientDocument,
  RejectClientsDocument,
  RevokeClientCertificateDocument,
  type ClientAccessDecidedSubscription,
} from '../generated/graphql.js';
import { agentsOf } from '../support/agent.js';
import { subscribeLive, type LiveSubscription } from '../support/live-client.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { errorCode, type TestCore } from '../support/test-core.js';

type Decision = ClientAccessDecidedSubscription['clientAccessDecided'];

describe('clientAccessDecided: decisions reach Manage client access once committed', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  const agents = agentsOf(() => tc.core);
  const opened: { dispose(): void }[] = [];
  const decisions = (token = viewer, kinds?: string[]) => {
    const s = subscribeLive<ClientAccessDecidedSubscription>(
      tc.url,
      { authorization: `Bearer ${token}` },
      print(ClientAccessDecidedDocument),
      kinds ? { decisions: kinds } : {},
    );
    opened.push(s);
    return s;
  };
  const ofRequest = (s: LiveSubscription<ClientAccessDecidedSubscription>, id: string): Decision[] =>
    s.messages.map((m) => m.clientAccessDecided).filter((d) => d.requestId === id);

  beforeAll(async () => ({ tc, admin, viewer } = await startCoreWithTokens()));
  afterAll(async () => {
    for (const s of opened) s.dispose();
    agents.closeAll();
    await tc?.close();
  });

  const enroll = async (agentId: string) => {
    const res = await agents.make(agentId).enroll();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return (res.body as { requestId: string }).requestId;
  };
  // A subscription is live once the server has registered it; there is no message to wait for.
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('a subscriber sees approvals, rejections and revocations, with who decided, when and why', async () => {
    const all = decisions();
    const revokedOnly = decisions(viewer, ['REVOKED']);
    await settle();
    const [approveId, rejectId] = [await enroll('decided-1'), await enroll('decided-2')];

    const before = Date.now();
    expect((await tc.gql(ApproveClientDocument, { id: approveId }, admin)).errors).toBeUndefined();
    const approved = (await all.until((m) => m.clientAccessDecided.requestId === approveId, 10_000, 'the approval')).clientAccessDecided;
    expect(approved).toMatchObject({
      decision: 'APPROVED',
      decidedBy: 'alice',
      reason: null,
      request: { id: approveId, status: 'APPROVED', device: { agentId: 'decided-1' } },
    });
    expect(approved.request.serialNumber).toMatch(/^[0-9a-f]+$/);
    expect(Date.parse(approved.decidedAt)).toBeGreaterThanOrEqual(before - 1000);

    expect((await tc.gql(RejectClientDocument, { id: rejectId, reason: 'not one of ours — ünknown' }, admin)).errors).toBeUndefined();
    const rejected = (await all.until((m) => m.clientAccessDecided.requestId === rejectId, 10_000, 'the rejection')).clientAccessDecided;
    expect(rejected).toMatchObject({
      decision: 'REJECTED',
      decidedBy: 'alice',
      reason: 'not one of ours — ünknown',
      request: { id: rejectId, status: 'REJECTED', device: { agentId: 'decided-2' } },
    });

    expect((await tc.gql(RevokeClientCertificateDocument, { id: approveId, reason: 'KEY_COMPROMISE' }, admin)).errors).toBeUndefined();
    const revoked = await all.until(
      (m) => m.clientAccessDecided.requestId === approveId && m.clientAccessDecided.decision === 'REVOKED',
      10_000,
      'the revocation',
    );
    expect(revoked.clientAccessDecided).toMatchObject({
      decidedBy: 'alice',
      reason: 'KEY_COMPROMISE',
      request: { id: approveId, status: 'REVOKED', revocationReason: 'KEY_COMPROMISE' },
    });

    // The filtered subscriber heard the revocation only.
    await revokedOnly.until((m) => m.clientAccessDecided.requestId === approveId, 10_000, 'the revocation (filtered)');
    await revokedOnly.quiet(300);
    expect(revokedOnly.messages.map((m) => [m.clientAccessDecided.requestId, m.clientAccessDecided.decision])).toEqual([[approveId, 'REVOKED']]);
    // Each decision once, in the order made.
    expect(ofRequest(all, approveId).map((d) => d.decision)).toEqual(['APPROVED', 'REVOKED']);
    expect(ofRequest(all, rejectId).map((d) => d.decision)).toEqual(['REJECTED']);
  });

  it('sends one decision per request of a bulk approval or rejection, none for an id that failed', async () => {
    const all = decisions();
    await settle();
    const ids = [await enroll('bulk-d-1'), await enroll('bulk-d-2'), await enroll('bulk-d-3'), await enroll('bulk-d-4')];
    const approve = await tc.gql(ApproveClientsDocument, { ids: [ids[0]!, ids[1]!, '999999'] }, admin);
    expect(approve.data!.approveClients.failed.map((f) => f.code)).toEqual(['NOT_FOUND']);
    // ids[0] again: already approved, so it fails alone and is not announced a second time.
    const reject = await tc.gql(RejectClientsDocument, { ids: [ids[2]!, ids[3]!, ids[0]!], reason: 'flood' }, admin);
    expect(reject.data!.rejectClients.failed.map((f) => [f.id, f.code])).toEqual([[ids[0], 'REQUEST_NOT_PENDING']]);
    await all.until((m) => m.clientAccessDecided.requestId === ids[3], 10_000, 'the last rejection');
    await all.quiet(300);
    expect(all.messages.map((m) => [m.clientAccessDecided.requestId, m.clientAccessDecided.decision, m.clientAccessDecided.reason])).toEqual([
      [ids[0], 'APPROVED', null],
      [ids[1], 'APPROVED', null],
      [ids[2], 'REJECTED', 'flood'],
      [ids[3], 'REJECTED', 'flood'],
    ]);
  });

  it('publishes nothing for a decision whose transaction rolled back', async () => {
    const all = decisions();
    await settle();
    const pending = await enroll('rollback-1');
    const approvedBefore = await enroll('rollback-2');
    expect((await tc.gql(ApproveClientDocument, { id: approvedBefore }, admin)).errors).toBeUndefined();
    await all.until((m) => m.clientAccessDecided.requestId === approvedBefore, 10_000, 'the approval made before');
    const seen = all.messages.length;

    // Every decision's audit row fails, after the decision itself was written: the whole transaction rolls back.
    const db = tc.core.database.db;
    await db.execute(sql`
      create function certfleet_test_refuse_decisions() returns trigger language plpgsql as $$
      begin
        if new.action in ('clientAccess.approved', 'clientAccess.rejected', 'clientAccess.revoked') then
          raise exception 'decision refused for the test';
        end if;
        return new;
      end $$`);
    await db.execute(sql`
      create trigger certfleet_test_refuse_decisions before insert on audit_events
      for each row execute function certfleet_test_refuse_decisions()`);
    const heard: AppEvent[] = [];
    const off = tc.core.bus.subscribe((e) => heard.push(e));
    try {
      expect(errorCode(await tc.gql(ApproveClientDocument, { id: pending }, admin))).toBe('INTERNAL_SERVER_ERROR');
      expect(errorCode(await tc.gql(RejectClientDocument, { id: pending, reason: 'no' }, admin))).toBe('INTERNAL_SERVER_ERROR');
      expect(errorCode(await tc.gql(RevokeClientCertificateDocument, { id: approvedBefore }, admin))).toBe('INTERNAL_SERVER_ERROR');
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      off();
      await db.execute(sql`drop trigger certfleet_test_refuse_decisions on audit_events`);
      await db.execute(sql`drop function certfleet_test_refuse_decisions()`);
    }
    expect(heard.filter((e) => e.type === 'clientAccessDecided')).toEqual([]);
    expect(all.messages.length).toBe(seen);
    // Nothing of the decisions stayed either.
    const list = (await tc.gql(ClientAccessRequestsDocument, { first: 500 }, admin)).data!.clientAccessRequests.edges.map((e) => e.node);
    expect(list.find((c) => c.id === pending)!.status).toBe('PENDING');
    expect(list.find((c) => c.id === approvedBefore)!.status).toBe('APPROVED');

    // The subscriber was listening all along: the same decision, made again, reaches it.
    expect((await tc.gql(ApproveClientDocument, { id: pending }, admin)).errors).toBeUndefined();
    await all.until((m) => m.clientAccessDecided.requestId === pending, 10_000, 'the approval made after');
  });

  it('is checked like a query: a token without a role gets FORBIDDEN and no decision', async () => {
    const nobody = await tc.token('nobody', []);
    const refused = decisions(nobody);
    const errors = (await refused.firstError()) as { extensions?: { code?: string } }[];
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.messages).toEqual([]);
  });
});
