import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCountersAndSwitch } from '../../src/db/counter-queries.js';
import { countDevicesByStatus } from '../../src/db/device-queries.js';
import type { AppEvent } from '../../src/events/bus.js';
import { ApproveClientDocument, ClientAccessRequestsDocument, DeviceDocument, RevokeClientCertificateDocument } from '../generated/graphql.js';
import { agentsOf, type TestAgent } from '../support/agent.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import type { TestCore } from '../support/test-core.js';

const DAY = 24 * 3600_000;

type Move = Extract<AppEvent, { type: 'deviceAuthStatusChanged' }>;
type Decided = Extract<AppEvent, { type: 'clientAccessDecided' }>;

/**
 * Revocation, supersession and expiry retire a certificate one way (retireCertificates): each
 * moves the device last seen with it from succeeded to failed, moves the kept counters so that
 * they equal a recount, and announces the same events.
 */
describe('retiring a certificate: revocation, supersession and expiry alike', () => {
  let tc: TestCore;
  let admin: string;
  let clockOffsetMs = 0;
  const agents = agentsOf(() => tc.core);

  beforeAll(async () => ({ tc, admin } = await startCoreWithTokens({ clock: () => new Date(Date.now() + clockOffsetMs) })));
  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  const expectCountersRecounted = async () => {
    const db = tc.core.database.db;
    expect((await getCountersAndSwitch(db)).counts).toEqual(await countDevicesByStatus(db));
  };

  const enroll = async (a: TestAgent, clientCert?: { certPem: string; keyPem: string }) => {
    const res = await a.enroll(clientCert ? { clientCert } : {});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return (res.body as { requestId: string; status: string });
  };

  const install = async (a: TestAgent, requestId: string) => {
    const polled = (await a.poll(requestId)).body as { status: string; certificatePem: string };
    expect(polled.status).toBe('APPROVED');
    a.useCertificate(polled.certificatePem);
  };


  const deviceState = async (deviceId: string) => {
    const d = (await tc.gql(DeviceDocument, { id: deviceId }, admin)).data!.device!;
    return [d.authStatus, d.failureReason];
  };

  const certificate = async (id: string) =>
    (await tc.gql(ClientAccessRequestsDocument, { first: 500 }, admin)).data!.clientAccessRequests.edges.find((e) => e.node.id === id)!.node;

  /**
   * heard runs fn and returns the events the bus carried meanwhile (on PostgreSQL they come back
   * through LISTEN/NOTIFY, a little after the commit): it waits for `until`, then a moment more.
   */
  const heard = async (fn: () => Promise<unknown>, until: (events: AppEvent[]) => boolean): Promise<AppEvent[]> => {
    const events: AppEvent[] = [];
    const off = tc.core.bus.subscribe((e) => events.push(e));
    try {
      await fn();
      for (let i = 0; i < 100 && !until(events); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      off();
    }
    return events;
  };
  const movesOf = (events: AppEvent[], deviceId: string) =>
    events.filter((e): e is Move => e.type === 'deviceAuthStatusChanged' && e.deviceId === Number(deviceId)).map((e) => [e.previous, e.current]);
  const decisionsOf = (events: AppEvent[]) =>
    events.filter((e): e is Decided => e.type === 'clientAccessDecided').map((e) => [e.requestId, e.decision, e.by, e.reason]);
  const FAILED_NOW = [['AUTHENTICATION_SUCCEEDED', 'AUTHENTICATION_FAILED']];

  /**
   * connected makes an agent whose device is in Authentication succeeded with a fresh certificate,
   * and waits until the bus has carried that move: a later `heard` hears only what it caused.
   */
  const connected = async (agentId: string) => {
    const a = agents.make(agentId);
    const { requestId } = await enroll(a);
    const approved = await tc.gql(ApproveClientDocument, { id: requestId }, admin);
    expect(approved.errors).toBeUndefined();
    await install(a, requestId);
    const deviceId = approved.data!.approveClient.device.id;
    await heard(
      async () => expect((await a.connect()).status).toBe(200),
      (e) => movesOf(e, deviceId).length > 0,
    );
    return { agent: a, requestId, deviceId };
  };

  it('revocation: the device turns failed at once, the counters equal a recount, and the move and the decision are announced', async () => {
    const { agent, requestId, deviceId } = await connected('retire-revoked');
    const events = await heard(
      async () => expect((await tc.gql(RevokeClientCertificateDocument, { id: requestId, reason: 'KEY_COMPROMISE' }, admin)).errors).toBeUndefined(),
      (e) => movesOf(e, deviceId).length > 0 && decisionsOf(e).length > 0,
    );
    expect(await deviceState(deviceId)).toEqual(['AUTHENTICATION_FAILED', 'CERTIFICATE_REVOKED']);
    await expectCountersRecounted();
    expect(movesOf(events, deviceId)).toEqual(FAILED_NOW);
    expect(events.some((e) => e.type === 'summaryChanged')).toBe(true);
    expect(decisionsOf(events)).toEqual([[Number(requestId), 'REVOKED', 'alice', 'KEY_COMPROMISE']]);
    expect((await agent.connect()).body).toEqual({ status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED' });
  });

  it('supersession by re-enrollment: approving the new key fails the device last seen with the old one until it connects with the new one', async () => {
    const { agent: old, requestId: oldId, deviceId } = await connected('retire-superseded');
    // The same agent with a new key asks again; while the request waits, nothing changes.
    const fresh = agents.make('retire-superseded');
    const { requestId: newId } = await enroll(fresh);
    expect(await deviceState(deviceId)).toEqual(['AUTHENTICATION_SUCCEEDED', null]);

    const events = await heard(
      async () => expect((await tc.gql(ApproveClientDocument, { id: newId }, admin)).errors).toBeUndefined(),
      (e) => movesOf(e, deviceId).length > 0 && decisionsOf(e).length >= 2,
    );
    // The newest connection was made with a certificate that is now revoked: not "succeeded" any more.
    expect(await deviceState(deviceId)).toEqual(['AUTHENTICATION_FAILED', 'CERTIFICATE_REVOKED']);
    expect(await certificate(oldId)).toMatchObject({ status: 'REVOKED', revocationReason: 'SUPERSEDED' });
    await expectCountersRecounted();
    // The same announcements as a revocation, and the decisions: the approval, then the supersession.
    expect(movesOf(events, deviceId)).toEqual(FAILED_NOW);
    expect(events.some((e) => e.type === 'summaryChanged')).toBe(true);
    expect(decisionsOf(events)).toEqual([
      [Number(newId), 'APPROVED', 'alice', null],
      [Number(oldId), 'REVOKED', 'alice', 'SUPERSEDED'],
    ]);

    // The old certificate is refused; the new one turns the device back to succeeded.
    expect((await old.connect()).body).toEqual({ status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED' });
    await install(fresh, newId);
    expect((await fresh.connect()).status).toBe(200);
    expect(await deviceState(deviceId)).toEqual(['AUTHENTICATION_SUCCEEDED', null]);
    await expectCountersRecounted();
  });

  it('supersession by renewal: the device is failed between the renewal and its first connection with the new certificate', async () => {
    const { agent: old, requestId: oldId, deviceId } = await connected('retire-renewed');
    const renewing = agents.make('retire-renewed');
    const events = await heard(
      async () => {
        const renewal = await enroll(renewing, { certPem: old.certificatePem!, keyPem: old.privateKeyPem() });
        expect(renewal.status).toBe('APPROVED');
        await install(renewing, renewal.requestId);
      },
      (e) => movesOf(e, deviceId).length > 0,
    );
    expect(await deviceState(deviceId)).toEqual(['AUTHENTICATION_FAILED', 'CERTIFICATE_REVOKED']);
    expect(await certificate(oldId)).toMatchObject({ status: 'REVOKED', revocationReason: 'SUPERSEDED' });
    expect(movesOf(events, deviceId)).toEqual(FAILED_NOW);
    expect(decisionsOf(events).map(([, decision, by, reason]) => [decision, by, reason])).toEqual([
      ['APPROVED', 'system:renewal', null],
      ['REVOKED', 'system:renewal', 'SUPERSEDED'],
    ]);
    await expectCountersRecounted();
    expect((await renewing.connect()).status).toBe(200);
    expect(await deviceState(deviceId)).toEqual(['AUTHENTICATION_SUCCEEDED', null]);
    await expectCountersRecounted();
  });

  it('supersession leaves a device alone whose newest result was not made with the old certificate', async () => {
    // Approved, never connected: No authentication info, and it stays there.
    const a = agents.make('retire-silent');
    const { requestId: oldId } = await enroll(a);
    const approved = await tc.gql(ApproveClientDocument, { id: oldId }, admin);
    const deviceId = approved.data!.approveClient.device.id;
    const { requestId: newId } = await enroll(agents.make('retire-silent'));
    const events = await heard(
      async () => expect((await tc.gql(ApproveClientDocument, { id: newId }, admin)).errors).toBeUndefined(),
      (e) => decisionsOf(e).length >= 2,
    );
    expect(await certificate(oldId)).toMatchObject({ status: 'REVOKED', revocationReason: 'SUPERSEDED' });
    expect(await deviceState(deviceId)).toEqual(['NO_AUTHENTICATION_INFO', null]);
    expect(movesOf(events, deviceId)).toEqual([]);
    await expectCountersRecounted();
  });

  it('expiry: the sweep fails the device the same way, with CERTIFICATE_EXPIRED, and announces the same move', async () => {
    // Issued with the core's clock set so that the certificate has 2 seconds left.
    clockOffsetMs = -365 * DAY + 2000;
    const a = agents.make('retire-expired');
    const { requestId } = await enroll(a);
    const approved = await tc.gql(ApproveClientDocument, { id: requestId }, admin);
    const deviceId = approved.data!.approveClient.device.id;
    await install(a, requestId);
    clockOffsetMs = 0;
    expect((await a.connect()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));

    const events = await heard(
      async () => expect(await tc.core.services.maintenance.expireCertificates()).toBe(1),
      (e) => movesOf(e, deviceId).length > 0,
    );
    expect(await deviceState(deviceId)).toEqual(['AUTHENTICATION_FAILED', 'CERTIFICATE_EXPIRED']);
    await expectCountersRecounted();
    expect(movesOf(events, deviceId)).toEqual(FAILED_NOW);
    expect(events.some((e) => e.type === 'summaryChanged')).toBe(true);
    // Time, not a decision, ended it: the certificate itself stays APPROVED.
    expect(decisionsOf(events)).toEqual([]);
    expect(await certificate(requestId)).toMatchObject({ status: 'APPROVED', revokedAt: null });
  });
});
