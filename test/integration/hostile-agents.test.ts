import { createPrivateKey } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCountersAndSwitch } from '../../src/db/counter-queries.js';
import { countDevicesByStatus } from '../../src/db/device-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import { createCaSigner, createCertificateAuthority } from '../../src/pki/index.js';
import {
  ApproveClientDocument,
  AuditLogDocument,
  ClientAccessRequestsDocument,
  DeviceDocument,
  RegisterDevicesDocument,
  RejectClientsDocument,
  SetSecureDataDocument,
} from '../generated/graphql.js';
import { agentsOf, errorOf, withoutRequestId, type AgentResponse, type TestAgent } from '../support/agent.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

/**
 * What a hostile client of the agent gateway may try, each refused (or bounded) AND leaving the
 * devices, the requests and the chart as they were. The counters are checked against a recount
 * after every case.
 */

interface Snapshot {
  devices: Record<string, unknown>[];
  requests: number;
  counters: Record<string, number>;
}

async function snapshot(tc: TestCore): Promise<Snapshot> {
  const db = tc.core.database.db;
  const devices = rowsOf<Record<string, unknown>>(
    await db.execute(sql`
      select id, name, agent_id, agent_version, auth_status, failure_reason, last_connection_id, last_agent_version, imported
      from devices order by id`),
  ).map((d) => ({ ...d, id: String(d.id), last_connection_id: d.last_connection_id === null ? null : String(d.last_connection_id) }));
  const [{ n }] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from client_certificates`));
  const { counts } = await getCountersAndSwitch(db);
  // The kept counters must always equal a recount.
  expect(counts).toEqual(await countDevicesByStatus(db));
  return { devices, requests: Number(n), counters: counts };
}

// The request id differs on every answer by design: everything else must be the same.
const sameAnswer = (r: AgentResponse) => ({ status: r.status, body: withoutRequestId(r.body), retryAfter: r.headers['retry-after'] ?? null });

describe('hostile agents: only proof of a key on file moves a device, and strangers learn nothing', () => {
  let tc: TestCore;
  let admin: string;
  const agents = agentsOf(() => tc.core);
  const newAgent = agents.make;
  let victimRequestId = '';
  let victimDeviceId = '';

  async function approveAndInstall(a: TestAgent): Promise<string> {
    const res = await a.enroll();
    expect(res.status).toBe(202);
    const id = (res.body as { requestId: string }).requestId;
    expect((await tc.gql(ApproveClientDocument, { id }, admin)).errors).toBeUndefined();
    const polled = (await a.poll(id)).body as { certificatePem: string };
    a.useCertificate(polled.certificatePem);
    return id;
  }

  const deviceOf = async (id: string) => (await tc.gql(DeviceDocument, { id, historyFirst: 50 }, admin)).data!.device!;

  /** unchanged runs an attack and checks that it changed no device, request or counter. */
  async function unchanged<T>(attack: () => Promise<T>): Promise<T> {
    const before = await snapshot(tc);
    const result = await attack();
    await tc.core.services.unverified.flush();
    expect(await snapshot(tc)).toEqual(before);
    return result;
  }

  let victim: TestAgent;
  let thief: TestAgent;
  let stranger: TestAgent;
  let foreignCert: { certPem: string; keyPem: string };

  beforeAll(async () => {
    tc = await startTestCore();
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    victim = newAgent('victim-1', { deviceName: 'VICTIM-1' });
    victimRequestId = await approveAndInstall(victim);
    expect((await victim.connect()).status).toBe(200);
    thief = newAgent('thief-1');
    await approveAndInstall(thief);
    stranger = newAgent('victim-1');
    // Another CA (same subject as ours), issuing a certificate for the stranger's key naming the victim.
    const rogueCa = await createCertificateAuthority({ commonName: 'core-under-test' });
    const rogue = await createCaSigner({
      certificatePem: rogueCa.certificatePem,
      privateKey: createPrivateKey({ key: rogueCa.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
    });
    const issued = await rogue.issueClientCertificate({
      subjectCommonName: 'victim-1',
      publicKeySpki: stranger.keyPair.publicKey.export({ type: 'spki', format: 'der' }),
      validityDays: 30,
    });
    foreignCert = { certPem: issued.certificatePem, keyPem: stranger.privateKeyPem() };
    const reg = await tc.gql(
      RegisterDevicesDocument,
      { devices: [{ name: 'OLD-9X', agentId: 'old-9x', agentVersion: '9.60' }] },
      admin,
    );
    expect(reg.errors).toBeUndefined();
    await tc.gql(SetSecureDataDocument, { name: 'core-password', value: 'hostile-s3cret' }, admin);
    const list = await tc.gql(ClientAccessRequestsDocument, { first: 10 }, admin);
    victimDeviceId = list.data!.clientAccessRequests.edges.find((e) => e.node.id === victimRequestId)!.node.device.id;
  });
  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  it.each([
    ['no client certificate', { cert: 'none' as const }, 401, 'NO_CLIENT_CERTIFICATE', 'NO_CLIENT_CERTIFICATE'],
    ['no client certificate, claiming a 9.x agent', { cert: 'none' as const, agentVersion: '9.5' }, 426, null, 'NO_CLIENT_CERTIFICATE'],
    ["a foreign CA's certificate for a stranger's key", { cert: 'foreign' as const }, 403, 'UNTRUSTED_ISSUER', 'UNKNOWN_KEY'],
    ["another device's valid certificate", { cert: 'thief' as const }, 403, 'DEVICE_MISMATCH', 'UNKNOWN_KEY'],
    ["a self-signed certificate of a stranger's key", { cert: 'stranger' as const }, 403, 'UNTRUSTED_ISSUER', 'UNKNOWN_KEY'],
  ])('connect and scan-results with %s leave the device as it was and keep an unverified attempt', async (_name, how, status, reason, unverifiedReason) => {
    const before = await deviceOf(victimDeviceId);
    const cert =
      how.cert === 'foreign' ? foreignCert : how.cert === 'thief' ? { certPem: thief.certificatePem!, keyPem: thief.privateKeyPem() } : how.cert === 'stranger' ? 'self-signed' as const : 'none' as const;
    const from = how.cert === 'stranger' ? stranger : how.cert === 'thief' ? thief : victim;
    const opts = { agentId: 'victim-1', cert, agentVersion: 'agentVersion' in how ? how.agentVersion : '2024.1' };
    const [c, s] = await unchanged(async () => [await from.connect(opts), await from.scanResults(opts)] as const);
    const want = { status: status === 426 ? 'CLIENT_AGENTS_MUST_UPGRADE' : 'AUTHENTICATION_FAILED', reason };
    expect([c.status, c.body, s.status, s.body]).toEqual([status, want, status, want]);
    const after = await deviceOf(victimDeviceId);
    expect(after).toMatchObject({ authStatus: 'AUTHENTICATION_SUCCEEDED', agentVersion: '2024.1', name: 'VICTIM-1' });
    expect(after.lastConnection).toEqual(before.lastConnection);
    expect(after.unverifiedAttempts).toBe(before.unverifiedAttempts + 2);
    const latest = after.connectionHistory.edges[0]!.node;
    expect(latest).toMatchObject({ verified: false, unverifiedReason, remoteAddress: '127.0.0.1', failureReason: reason });
  });

  it('answers an unknown agent id exactly as a known one without proof, on every call', async () => {
    const probe = async (agentId: string) => {
      const a = newAgent(agentId);
      return [
        sameAnswer(await a.connect({ cert: 'none' })),
        sameAnswer(await a.connect({ cert: 'none', agentVersion: '9.5' })),
        sameAnswer(await a.scanResults({ cert: 'self-signed' })),
        sameAnswer(await a.connect({ cert: foreignCert })),
        sameAnswer(await a.secureData('core-password', { cert: 'none' })),
        sameAnswer(await a.secureData('no-such-secret', { cert: 'self-signed' })),
      ];
    };
    const known = await unchanged(() => probe('victim-1'));
    const unknown = await unchanged(() => probe('nobody-at-all-42'));
    expect(unknown).toEqual(known);
    expect(known[0]!.status).toBe(401);
    expect(JSON.stringify(known)).not.toContain('hostile-s3cret');
    // Nothing was created for the unknown id.
    const rows = rowsOf(await tc.core.database.db.execute(sql`select 1 from devices where agent_id = 'nobody-at-all-42'`));
    expect(rows).toHaveLength(0);
  });

  it('refuses a malformed agentVersion with 400 BAD_USER_INPUT, for a known and an unknown agent id alike', async () => {
    const answers = await unchanged(async () => {
      const out: unknown[] = [];
      for (const agentId of ['victim-1', 'nobody-at-all-43']) {
        for (const agentVersion of ['', 'nine', '2024.1.2.3.4']) {
          const r = await victim.connect({ agentId, agentVersion });
          out.push([r.status, errorOf(r.body).code]);
        }
      }
      return out;
    });
    expect(answers).toEqual(Array(6).fill([400, 'BAD_USER_INPUT']));
  });

  it("an unapproved enrollment for an existing device changes nothing on it, and its key moves nothing once the device holds a certificate", async () => {
    const attacker = newAgent('victim-1', { deviceName: 'PWNED-NAME', agentVersion: '9.5' });
    const before = await snapshot(tc);
    const res = await attacker.enroll();
    expect([res.status, (res.body as { status: string }).status]).toEqual([202, 'PENDING']);
    const after = await snapshot(tc);
    // One more request, and no device changed: not its name, version or status.
    expect(after.requests).toBe(before.requests + 1);
    expect(after.devices).toEqual(before.devices);
    const pending = (await tc.gql(ClientAccessRequestsDocument, { status: 'PENDING', first: 50 }, admin)).data!.clientAccessRequests.edges
      .map((e) => e.node)
      .find((n) => n.id === (res.body as { requestId: string }).requestId)!;
    expect(pending).toMatchObject({ requestedDeviceName: 'PWNED-NAME', requestedAgentVersion: '9.5', requestedFrom: '127.0.0.1' });
    expect(pending.device).toMatchObject({ name: 'VICTIM-1', agentVersion: '2024.1', authStatus: 'AUTHENTICATION_SUCCEEDED' });

    // Its own key, presented while the device holds an approved certificate, proves nothing.
    const c = await unchanged(() => attacker.connect({ cert: 'self-signed', agentVersion: '9.5' }));
    expect(c.status).toBe(426);
    const d = await deviceOf(victimDeviceId);
    expect(d.connectionHistory.edges[0]!.node).toMatchObject({ verified: false, unverifiedReason: 'UNAPPROVED_KEY' });
    expect(d).toMatchObject({ name: 'VICTIM-1', agentVersion: '2024.1', authStatus: 'AUTHENTICATION_SUCCEEDED' });
    await tc.gql(RejectClientsDocument, { ids: [pending.id], reason: 'not the device' }, admin);
  });

  it('answers a request only to its requester: the same refusal whether the id exists or not', async () => {
    const someone = newAgent('someone-else');
    const missing = String(Number(victimRequestId) + 100_000);
    const [noCertKnown, noCertMissing, otherKeyKnown, otherKeyMissing] = await unchanged(async () => [
      await someone.poll(victimRequestId, { cert: 'none' }),
      await someone.poll(missing, { cert: 'none' }),
      await someone.poll(victimRequestId),
      await someone.poll(missing),
    ]);
    expect([noCertKnown.status, noCertMissing.status]).toEqual([401, 401]);
    expect(withoutRequestId(noCertKnown.body)).toEqual(withoutRequestId(noCertMissing.body));
    expect([otherKeyKnown.status, otherKeyMissing.status]).toEqual([404, 404]);
    expect(errorOf(otherKeyKnown.body).message.replace(victimRequestId, 'ID')).toBe(errorOf(otherKeyMissing.body).message.replace(missing, 'ID'));
    expect(JSON.stringify([noCertKnown.body, otherKeyKnown.body])).not.toContain('BEGIN CERTIFICATE');
    // The requester itself still reads it, with its issued certificate or a self-signed one of the same key.
    expect(((await victim.poll(victimRequestId)).body as { status: string }).status).toBe('APPROVED');
    expect(((await victim.poll(victimRequestId, { cert: 'self-signed' })).body as { status: string }).status).toBe('APPROVED');
  });

  it('hands no secret in the clear by default: not to a bare enrollment, an imported device or a stranger', async () => {
    const fresh = newAgent('fresh-enrollment');
    expect((await fresh.enroll()).status).toBe(202);
    const tries = await unchanged(async () => [
      await fresh.secureData('core-password', { cert: 'self-signed' }),
      await fresh.secureData('core-password', { cert: 'none' }),
      await newAgent('old-9x').secureData('core-password', { cert: 'none', agentVersion: '9.60' }),
      await stranger.secureData('core-password', { cert: 'none' }),
    ]);
    for (const t of tries) {
      expect([t.status, errorOf(t.body).code]).toEqual([403, 'FORBIDDEN']);
      expect(JSON.stringify(t.body)).not.toContain('hostile-s3cret');
    }
    // A device with a valid certificate still gets its JWE.
    const jwe = await victim.secureData('core-password');
    expect(await victim.decrypt(String(jwe.body))).toBe('hostile-s3cret');
  });

  it('keeps a count and the latest few of a flood of unverified attempts, and one audit summary, not a row per attempt', async () => {
    const before = await deviceOf(victimDeviceId);
    const auditBefore = (await tc.gql(AuditLogDocument, { first: 500 }, admin)).data!.auditLog.edges.length;
    const flood = newAgent('victim-1');
    const answers = await unchanged(async () => {
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        const batch = await Promise.all(Array.from({ length: 10 }, (_, k) => flood.connect({ cert: 'none', agentId: k % 2 ? 'victim-1' : `ghost-${i}-${k}` })));
        out.push(...batch.map((b) => b.status));
      }
      return out;
    });
    expect(answers.every((s) => s === 401)).toBe(true);
    const after = await deviceOf(victimDeviceId);
    expect(after.unverifiedAttempts).toBe(before.unverifiedAttempts + 100);
    const unverifiedRows = rowsOf(
      await tc.core.database.db.execute(sql`select 1 from connection_results where device_id = ${Number(victimDeviceId)} and not verified`),
    );
    expect(unverifiedRows.length).toBeLessThanOrEqual(5);
    const audit = (await tc.gql(AuditLogDocument, { first: 500 }, admin)).data!.auditLog.edges.map((e) => e.node);
    // At most one summary per minute (plus one at most from the earlier cases' flushes).
    const summaries = audit.slice(0, audit.length - auditBefore).filter((e) => e.action === 'agent.unverifiedAttempts');
    expect(summaries.length).toBeLessThanOrEqual(1);
    expect(audit.length - auditBefore).toBeLessThanOrEqual(1);
    // No device was created for the 100 unknown ids.
    expect(rowsOf(await tc.core.database.db.execute(sql`select 1 from devices where agent_id like 'ghost-%'`))).toHaveLength(0);
  });

  it('writes the gathered attempts into one audit summary that names devices, reasons and addresses', async () => {
    await tc.core.services.unverified.stop();
    const audit = (await tc.gql(AuditLogDocument, { first: 500 }, admin)).data!.auditLog.edges.map((e) => e.node);
    const summaries = audit.filter((e) => e.action === 'agent.unverifiedAttempts');
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    const all = summaries.map((e) => JSON.parse(e.details!) as { attempts: number; devices: { agentId: string; reasons: string[]; addresses: string[] }[]; unknownAgentIds: { attempts: number } });
    const victimEntries = all.flatMap((s) => s.devices).filter((d) => d.agentId === 'victim-1');
    expect(victimEntries.flatMap((d) => d.reasons)).toEqual(expect.arrayContaining(['NO_CLIENT_CERTIFICATE', 'UNKNOWN_KEY', 'UNAPPROVED_KEY']));
    expect([...new Set(victimEntries.flatMap((d) => d.addresses))]).toEqual(['127.0.0.1']);
    expect(all.reduce((n, s) => n + s.unknownAgentIds.attempts, 0)).toBeGreaterThanOrEqual(100);
    expect(summaries.every((e) => e.actor === 'system:agent-gateway')).toBe(true);
  });
});

describe('hostile agents: enrollment floods are bounded', () => {
  let tc: TestCore;
  let admin: string;
  const agents = agentsOf(() => tc.core);
  const newAgent = agents.make;

  beforeAll(async () => {
    tc = await startTestCore({ env: { ENROLL_MAX_PENDING_PER_AGENT: '2', ENROLL_MAX_PENDING: '4', ENROLL_RATE_PER_MINUTE: '12' } });
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
  });
  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  it('refuses a new key beyond the open requests of one agent id with 429, Retry-After and its code; the same key again is still its request', async () => {
    const first = newAgent('flooded-1');
    const r1 = await first.enroll();
    expect((await newAgent('flooded-1').enroll()).status).toBe(202);
    const before = await snapshot(tc);
    const third = await newAgent('flooded-1').enroll();
    expect([third.status, errorOf(third.body).code, third.headers['retry-after']]).toEqual([429, 'TOO_MANY_PENDING_REQUESTS', '300']);
    expect(await snapshot(tc)).toEqual(before);
    expect((await first.enroll()).body).toEqual(r1.body);
  });

  it('refuses new requests once the core holds its maximum of open requests, creating no device', async () => {
    expect((await newAgent('flooded-2').enroll()).status).toBe(202);
    expect((await newAgent('flooded-3').enroll()).status).toBe(202);
    const before = await snapshot(tc);
    const ran = tc.queries.length;
    const full = await newAgent('flooded-4').enroll();
    // The enrollment's statements only, not the snapshot's below.
    const enrollment = tc.queries.slice(ran);
    expect([full.status, errorOf(full.body).code, full.headers['retry-after']]).toEqual([429, 'PENDING_REQUESTS_FULL', '300']);
    expect(await snapshot(tc)).toEqual(before);
    // The cap is read from the ledger of statuses, whose cost does not grow with the open requests;
    // no statement of the refused enrollment reads the requests by status.
    expect(enrollment.some((q) => /from client_certificate_status_ledger/.test(q))).toBe(true);
    expect(enrollment.filter((q) => /from\s+"?client_certificates"?\s+where\s+"?(client_certificates"?\.)?"?status"?\s*=/i.test(q))).toEqual([]);
    // Folded into one row per status, the ledger still says full.
    await tc.core.services.maintenance.runOnce();
    const again = await newAgent('flooded-5').enroll();
    expect([again.status, errorOf(again.body).code]).toEqual([429, 'PENDING_REQUESTS_FULL']);
    expect(await snapshot(tc)).toEqual(before);
  });

  it('lets an admin clear a flood in one call, with a result per item', async () => {
    const pending = (await tc.gql(ClientAccessRequestsDocument, { status: 'PENDING', first: 50 }, admin)).data!.clientAccessRequests.edges.map((e) => e.node.id);
    expect(pending).toHaveLength(4);
    const res = await tc.gql(RejectClientsDocument, { ids: [...pending, '999999', 'not-an-id', pending[0]!], reason: 'flood' }, admin);
    expect(res.errors).toBeUndefined();
    const { rejected, failed } = res.data!.rejectClients;
    expect(rejected.map((r) => r.id)).toEqual(pending);
    expect(rejected.every((r) => r.status === 'REJECTED' && r.decidedBy === 'alice')).toBe(true);
    expect(failed.map((f) => [f.id, f.code])).toEqual([
      ['not-an-id', 'BAD_USER_INPUT'],
      ['999999', 'NOT_FOUND'],
    ]);
    const again = await tc.gql(RejectClientsDocument, { ids: [pending[0]!] }, admin);
    expect(again.data!.rejectClients.failed.map((f) => f.code)).toEqual(['REQUEST_NOT_PENDING']);
    const viewer = await tc.token('victor', ['VIEWER']);
    expect((await tc.gql(RejectClientsDocument, { ids: [pending[1]!] }, viewer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Room again: new requests are taken.
    expect((await newAgent('after-flood').enroll()).status).toBe(202);
  });

  it('limits enrollments per source address per minute with 429 ENROLLMENT_RATE_LIMITED and Retry-After, writing nothing', async () => {
    const answers: AgentResponse[] = [];
    for (let i = 0; i < 14; i++) answers.push(await newAgent(`rate-${i}`).enroll({ csrPem: 'not a CSR' }));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const before = await snapshot(tc);
    const more = await newAgent('rate-more').enroll();
    expect([more.status, errorOf(more.body).code]).toEqual([429, 'ENROLLMENT_RATE_LIMITED']);
    expect(Number(more.headers['retry-after'])).toBeGreaterThan(0);
    expect(await snapshot(tc)).toEqual(before);
  });
});
