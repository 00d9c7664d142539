import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApproveClientDocument,
  ApproveClientsDocument,
  AuditLogDocument,
  ClientAccessRequestsDocument,
  DeviceDocument,
  DevicesDocument,
  EnableSecurityDocument,
  RegisterDevicesDocument,
  RejectClientDocument,
  RevokeClientCertificateDocument,
  SecureDataItemsDocument,
  SetSecureDataDocument,
  SummaryDocument,
} from '../generated/graphql.js';
import { agentsOf, createAgent, errorOf, type TestAgent } from '../support/agent.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { errorCode, startTestCore, type TestCore } from '../support/test-core.js';
import { crlNaming } from '../support/crl.js';

const DAY = 24 * 3600_000;

describe('Manage client access: agents over mutual TLS, approvals, revocation, secure data', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  let clockOffsetMs = 0;
  const work = mkdtempSync(join(tmpdir(), 'certfleet-ca-test-'));
  const agents: TestAgent[] = [];

  const newAgent = (agentId: string, extra: Partial<Parameters<typeof createAgent>[0]> = {}) => {
    const a = createAgent({
      gatewayUrl: tc.core.agentUrl,
      caCertificatePem: tc.core.authority.certificatePem,
      agentId,
      deviceName: `WS-${agentId}`,
      ...extra,
    });
    agents.push(a);
    return a;
  };

  const enroll = async (a: TestAgent) => {
    const res = await a.enroll();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return (res.body as { requestId: string; status: string }).requestId;
  };

  const approveAndInstall = async (a: TestAgent) => {
    const id = await enroll(a);
    const approved = await tc.gql(ApproveClientDocument, { id }, admin);
    expect(approved.errors).toBeUndefined();
    const polled = await a.poll(id);
    const body = polled.body as { status: string; certificatePem: string };
    expect(body.status).toBe('APPROVED');
    a.useCertificate(body.certificatePem);
    return { id, cert: approved.data!.approveClient };
  };

  const summary = async () => (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
  const deviceOf = async (id: string) => (await tc.gql(DeviceDocument, { id }, admin)).data!.device!;

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens({ clock: () => new Date(Date.now() + clockOffsetMs) }));
  });
  afterAll(async () => {
    for (const a of agents) a.close();
    await tc?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('enroll → pending → approve → fetch → connect moves the chart to Authentication succeeded', async () => {
    const a = newAgent('agent-happy');
    const requestId = await enroll(a);
    expect((await a.poll(requestId)).body).toEqual({ status: 'PENDING' });
    // The same key again is the same request.
    expect((await a.enroll()).body).toEqual({ requestId, status: 'PENDING' });

    // While pending, the agent presents a self-signed certificate of its key: the chart's most common failure.
    const pending = await a.connect({ cert: 'self-signed' });
    expect([pending.status, pending.body]).toEqual([403, { status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_NOT_APPROVED' }]);

    const list = await tc.gql(ClientAccessRequestsDocument, { status: 'PENDING' }, viewer);
    const req = list.data!.clientAccessRequests.edges.map((e) => e.node).find((n) => n.id === requestId)!;
    const spki = a.keyPair.publicKey.export({ type: 'spki', format: 'der' });
    expect(req).toMatchObject({
      status: 'PENDING',
      subject: 'CN=agent-happy',
      keyAlgorithm: 'EC-P256',
      publicKeyFingerprint: createHash('sha256').update(spki).digest('hex'),
      device: { agentId: 'agent-happy', authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_NOT_APPROVED' },
    });

    const approved = (await tc.gql(ApproveClientDocument, { id: requestId }, admin)).data!.approveClient;
    expect(approved).toMatchObject({ status: 'APPROVED', decidedBy: 'alice' });
    expect(approved.serialNumber).toMatch(/^[0-9a-f]+$/);

    const fetched = (await a.poll(requestId)).body as { status: string; certificatePem: string; caCertificatePem: string };
    expect(fetched.status).toBe('APPROVED');
    expect(fetched.caCertificatePem).toBe(tc.core.authority.certificatePem);
    writeFileSync(join(work, 'ca.pem'), fetched.caCertificatePem);
    writeFileSync(join(work, 'happy.pem'), fetched.certificatePem);
    expect(execFileSync('openssl', ['verify', '-CAfile', join(work, 'ca.pem'), '-purpose', 'sslclient', join(work, 'happy.pem')]).toString()).toMatch(/OK/);

    a.useCertificate(fetched.certificatePem);
    const ok = await a.connect();
    expect([ok.status, ok.body]).toEqual([200, { status: 'AUTHENTICATION_SUCCEEDED', reason: null }]);
    const device = await deviceOf(req.device.id);
    expect(device.authStatus).toBe('AUTHENTICATION_SUCCEEDED');
    expect(device.lastConnection).toMatchObject({ source: 'SECURE_CONNECTION', certificateSerialNumber: approved.serialNumber });
    const inv = Object.fromEntries((device as unknown as { inventory: { path: string[]; value: string }[] }).inventory?.map((x) => [x.path.at(-1), x.value]) ?? []);
    expect(inv['Certificate serial number']).toBe(approved.serialNumber);
    expect(Date.parse(inv['Certificate expires']!)).toBe(Date.parse(approved.notAfter!));

    // vulscan reports over the same certificate.
    const scan = await a.scanResults();
    expect(scan.status).toBe(200);
    expect((await deviceOf(req.device.id)).lastConnection!.source).toBe('SECURITY_SCANNER');
    expect((await summary()).succeeded).toBe(1);

    // A reconnect resumes the TLS session and still authenticates with the certificate.
    a.dropConnections();
    const again = await a.connect();
    expect([again.status, again.sessionReused]).toEqual([200, true]);
  });

  it('reaches each failure reason through a real connection', async () => {
    const cases: { name: string; run: () => Promise<{ status: number; body: unknown }>; status: number; reason: string | null; result: string }[] = [];

    const noCert = newAgent('agent-nocert');
    await enroll(noCert);
    cases.push({ name: 'no certificate', run: () => noCert.connect({ cert: 'none' }), status: 401, result: 'AUTHENTICATION_FAILED', reason: 'NO_CLIENT_CERTIFICATE' });

    const old = newAgent('agent-old', { agentVersion: '9.60.2' });
    await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'OLD', agentId: 'agent-old', agentVersion: '9.60.2' }] }, admin);
    cases.push({ name: '9.x agent', run: () => old.connect({ cert: 'none', agentVersion: '9.60.2' }), status: 426, result: 'CLIENT_AGENTS_MUST_UPGRADE', reason: null });
    cases.push({ name: '9.x agent claiming 2016 without a certificate', run: () => old.connect({ cert: 'none', agentVersion: '2016.0' }), status: 401, result: 'AUTHENTICATION_FAILED', reason: 'NO_CLIENT_CERTIFICATE' });

    const rejected = newAgent('agent-rejected');
    const rid = await enroll(rejected);
    const rej = await tc.gql(RejectClientDocument, { id: rid, reason: 'not ours' }, admin);
    expect(rej.data!.rejectClient.status).toBe('REJECTED');
    cases.push({ name: 'rejected request', run: () => rejected.connect({ cert: 'self-signed' }), status: 403, result: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REJECTED' });

    const victim = newAgent('agent-victim');
    await approveAndInstall(victim);
    const thief = newAgent('agent-thief');
    await approveAndInstall(thief);
    cases.push({
      name: "device A's valid certificate presented as device B",
      run: () => thief.connect({ agentId: 'agent-victim' }),
      status: 403,
      result: 'AUTHENTICATION_FAILED',
      reason: 'DEVICE_MISMATCH',
    });

    // Another CA with the very same subject, issuing for the agent's own key.
    const { createCertificateAuthority, createCaSigner } = await import('../../src/pki/index.js');
    const { createPrivateKey } = await import('node:crypto');
    const rogueCa = await createCertificateAuthority({ commonName: 'core-under-test' });
    const rogue = await createCaSigner({
      certificatePem: rogueCa.certificatePem,
      privateKey: createPrivateKey({ key: rogueCa.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
    });
    const forged = newAgent('agent-forged');
    await approveAndInstall(forged);
    const forgedCert = await rogue.issueClientCertificate({
      subjectCommonName: 'agent-forged',
      publicKeySpki: forged.keyPair.publicKey.export({ type: 'spki', format: 'der' }),
      validityDays: 30,
    });
    cases.push({
      name: 'a certificate of another CA with the same subject',
      run: () => forged.connect({ cert: { certPem: forgedCert.certificatePem, keyPem: forged.privateKeyPem() } }),
      status: 403,
      result: 'AUTHENTICATION_FAILED',
      reason: 'UNTRUSTED_ISSUER',
    });

    // Not yet valid: issued while the core's clock ran a day ahead.
    const early = newAgent('agent-early');
    clockOffsetMs = DAY;
    await approveAndInstall(early);
    clockOffsetMs = 0;
    cases.push({ name: 'a not-yet-valid certificate', run: () => early.connect(), status: 403, result: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_NOT_YET_VALID' });

    for (const c of cases) {
      const res = await c.run();
      expect([c.name, res.status, res.body]).toEqual([c.name, c.status, { status: c.result, reason: c.reason }]);
    }
    const s = await summary();
    expect(s.mustUpgrade).toBe(0); // the 9.x device's newest result is the one claiming 2016
    expect(s.failed).toBeGreaterThanOrEqual(4);

    // Two of those proved no key on file for the device they named: the answer is the same, but the
    // device keeps its state and the attempt is kept as unverified, with its reason and address.
    await tc.core.services.unverified.flush();
    const unproven = await tc.gql(DevicesDocument, { filter: { search: 'agent-nocert' } }, admin);
    const nocert = unproven.data!.devices.edges[0]!.node;
    const victimDevice = (await tc.gql(DevicesDocument, { filter: { search: 'agent-victim' } }, admin)).data!.devices.edges[0]!.node;
    for (const [d, reason] of [[nocert, 'NO_CLIENT_CERTIFICATE'], [victimDevice, 'UNKNOWN_KEY']] as const) {
      expect(d).toMatchObject({ authStatus: 'NO_AUTHENTICATION_INFO', lastConnection: null });
      const full = await tc.gql(DeviceDocument, { id: d.id, historyFirst: 5 }, admin);
      expect(full.data!.device!.unverifiedAttempts).toBe(1);
      expect(full.data!.device!.connectionHistory.edges.map((e) => e.node)).toMatchObject([
        { verified: false, unverifiedReason: reason, remoteAddress: '127.0.0.1', result: 'AUTHENTICATION_FAILED' },
      ]);
    }
  });

  it('turns a device to failed at once on revocation, lists the serial in the CRL and refuses the next connection', async () => {
    const a = newAgent('agent-revoked');
    const { cert } = await approveAndInstall(a);
    expect((await a.connect()).status).toBe(200);
    const before = await summary();

    const revoked = await tc.gql(RevokeClientCertificateDocument, { id: cert.id, reason: 'KEY_COMPROMISE' }, admin);
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data!.revokeClientCertificate).toMatchObject({ status: 'REVOKED', revocationReason: 'KEY_COMPROMISE' });
    // At once: before the device connects again.
    expect(revoked.data!.revokeClientCertificate.device).toMatchObject({ authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_REVOKED' });
    const after = await summary();
    expect([after.succeeded, after.failed]).toEqual([before.succeeded - 1, before.failed + 1]);

    // The CRL follows within its window (CRL_WINDOW_MS), as the gateway serves it.
    const crlPem = await crlNaming(async () => {
      const crl = await a.raw('GET', '/agent/v1/crl');
      expect(crl.status).toBe(200);
      return String(crl.body);
    }, [cert.serialNumber!]);
    writeFileSync(join(work, 'crl.pem'), crlPem);
    writeFileSync(join(work, 'ca.pem'), tc.core.authority.certificatePem);
    const text = execFileSync('openssl', ['crl', '-in', join(work, 'crl.pem'), '-CAfile', join(work, 'ca.pem'), '-noout', '-text'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    expect(text.toUpperCase().replace(/:/g, '')).toContain(cert.serialNumber!.toUpperCase().replace(/^0+/, ''));
    expect(text).toMatch(/Key Compromise/);

    const refused = await a.connect();
    expect([refused.status, refused.body]).toEqual([403, { status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_REVOKED' }]);
    const twice = await tc.gql(RevokeClientCertificateDocument, { id: cert.id }, admin);
    expect(errorCode(twice)).toBe('CONFLICT');
  });

  it('expires a short-lived certificate: the sweep turns the device to failed and the next connection says expired', async () => {
    const a = newAgent('agent-short');
    // Issued with the core's clock set so that the 365-day certificate has 2 seconds left.
    clockOffsetMs = -365 * DAY + 2000;
    await approveAndInstall(a);
    clockOffsetMs = 0;
    expect((await a.connect()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));
    const before = await summary();
    expect(await tc.core.services.maintenance.expireCertificates()).toBe(1);
    const after = await summary();
    expect([after.succeeded, after.failed]).toEqual([before.succeeded - 1, before.failed + 1]);
    const res = await a.connect();
    expect([res.status, res.body]).toEqual([403, { status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_EXPIRED' }]);
  });

  it('approves in bulk: each bad id fails alone', async () => {
    const ids: string[] = [];
    for (const name of ['bulk-1', 'bulk-2', 'bulk-3']) ids.push(await enroll(newAgent(name)));
    await tc.gql(ApproveClientDocument, { id: ids[2]! }, admin);
    const res = await tc.gql(ApproveClientsDocument, { ids: [ids[0]!, 'abc', '999999', ids[1]!, ids[2]!] }, admin);
    expect(res.errors).toBeUndefined();
    const { approved, failed } = res.data!.approveClients;
    expect(approved.map((c) => c.id).sort()).toEqual([ids[0], ids[1]].sort());
    expect(approved.every((c) => c.status === 'APPROVED' && c.serialNumber)).toBe(true);
    expect(failed.map((f) => [f.id, f.code])).toEqual([
      ['abc', 'BAD_USER_INPUT'],
      ['999999', 'NOT_FOUND'],
      [ids[2], 'REQUEST_NOT_PENDING'],
    ]);
  });

  it('issues exactly one certificate when one request is approved concurrently', async () => {
    const id = await enroll(newAgent('agent-race'));
    const results = await Promise.all(Array.from({ length: 6 }, () => tc.gql(ApproveClientDocument, { id }, admin)));
    const ok = results.filter((r) => !r.errors);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => errorCode(r) === 'REQUEST_NOT_PENDING')).toHaveLength(5);
    const audit = (await tc.gql(AuditLogDocument, { first: 200 }, admin)).data!.auditLog.edges.map((e) => e.node);
    expect(audit.filter((e) => e.action === 'clientAccess.approved' && e.targetId === id)).toHaveLength(1);
  });

  it('renews over mTLS: a new key presented with the valid certificate is approved at once and replaces the old one', async () => {
    const a = newAgent('agent-renew');
    const { cert: first } = await approveAndInstall(a);
    const b = newAgent('agent-renew'); // the same agent with a new key
    const res = await b.enroll({ clientCert: { certPem: a.certificatePem!, keyPem: a.privateKeyPem() } });
    expect((res.body as { status: string }).status).toBe('APPROVED');
    const polled = (await b.poll((res.body as { requestId: string }).requestId)).body as { certificatePem: string };
    b.useCertificate(polled.certificatePem);
    expect((await b.connect()).status).toBe(200);
    const list = (await tc.gql(ClientAccessRequestsDocument, { first: 500 }, admin)).data!.clientAccessRequests.edges.map((e) => e.node);
    expect(list.find((c) => c.id === first.id)).toMatchObject({ status: 'REVOKED', revocationReason: 'SUPERSEDED' });
    const renewed = list.find((c) => c.id === (res.body as { requestId: string }).requestId)!;
    expect(renewed.decidedBy).toBe('system:renewal');
  });

  it('refuses bad requests with a JSON error and a stable code, and keeps serving', async () => {
    const a = newAgent('agent-attacker');
    const other = newAgent('agent-other-key');
    const cases: { name: string; res: () => Promise<{ status: number; body: unknown }>; status: number; code: string }[] = [
      { name: 'garbage body', res: () => a.raw('POST', '/agent/v1/enroll', 'not json{', { 'content-type': 'application/json' }), status: 400, code: 'BAD_USER_INPUT' },
      { name: 'over 64 KiB', res: () => a.raw('POST', '/agent/v1/connect', 'x'.repeat(65 * 1024), { 'content-type': 'application/json' }), status: 413, code: 'BAD_USER_INPUT' },
      { name: 'wrong type', res: () => a.raw('POST', '/agent/v1/connect', JSON.stringify({ agentId: 5, agentVersion: '2024.1' }), { 'content-type': 'application/json' }), status: 400, code: 'BAD_USER_INPUT' },
      { name: 'CSR of another key', res: async () => a.enroll({ csrPem: (await other.csrPem()) }), status: 400, code: 'CSR_INVALID' },
      { name: 'truncated CSR', res: async () => a.enroll({ csrPem: (await a.csrPem()).slice(0, 200) }), status: 400, code: 'CSR_INVALID' },
    ];
    for (const c of cases) {
      const res = await c.res();
      expect([c.name, res.status, errorOf(res.body).code]).toEqual([c.name, c.status, c.code]);
    }
    // An unknown agent id is answered as a known one without proof is: nothing tells them apart.
    const unknown = await newAgent('agent-never-seen').connect({ cert: 'none' });
    expect([unknown.status, unknown.body]).toEqual([401, { status: 'AUTHENTICATION_FAILED', reason: 'NO_CLIENT_CERTIFICATE' }]);
    expect((await a.raw('GET', '/agent/v1/ca')).status).toBe(200);
  });

  it('hands secure data encrypted to the device key, in the clear only before the security model is on, and refuses a revoked device after', async () => {
    const set = await tc.gql(SetSecureDataDocument, { name: 'core-password', value: 's3cret-value' }, admin);
    expect(set.data!.setSecureData.name).toBe('core-password');
    const items = (await tc.gql(SecureDataItemsDocument, {}, viewer)).data!.secureDataItems;
    expect(items.map((i) => i.name)).toContain('core-password');
    expect(JSON.stringify(items)).not.toContain('s3cret-value');

    const good = newAgent('agent-secure', { keyType: 'RSA-2048' });
    const { cert } = await approveAndInstall(good);
    const jwe = await good.secureData('core-password');
    expect([jwe.status, jwe.headers['content-type']]).toEqual([200, 'application/jose']);
    expect(String(jwe.body)).not.toContain('s3cret-value');
    expect(await good.decrypt(String(jwe.body))).toBe('s3cret-value');

    // The clear-text release is off unless an admin turns it on (see the legacy-release suite below).
    const legacy = newAgent('agent-legacy');
    await enroll(legacy);
    const plain = await legacy.secureData('core-password', { cert: 'none' });
    expect([plain.status, errorOf(plain.body).code]).toEqual([403, 'FORBIDDEN']);
    expect(JSON.stringify(plain.body)).not.toContain('s3cret-value');

    expect((await tc.gql(EnableSecurityDocument, { confirm: true }, admin)).errors).toBeUndefined();
    const refusedLegacy = await legacy.secureData('core-password', { cert: 'none' });
    expect([refusedLegacy.status, errorOf(refusedLegacy.body).code]).toEqual([403, 'FORBIDDEN']);

    await tc.gql(RevokeClientCertificateDocument, { id: cert.id }, admin);
    const refused = await good.secureData('core-password');
    expect([refused.status, errorOf(refused.body).code]).toEqual([403, 'FORBIDDEN']);
    expect(JSON.stringify(refused.body)).not.toContain('s3cret-value');
    const device = await deviceOf(cert.device.id);
    expect(device).toMatchObject({ authStatus: 'AUTHENTICATION_FAILED', failureReason: 'CERTIFICATE_REVOKED', fullyManageable: false });
    expect(tc.logs.join('\n')).not.toContain('s3cret-value');
  });
});

describe('auto-approval for listed networks', () => {
  let tc: TestCore;
  afterAll(async () => tc?.close());

  it('approves a new device enrolling from a listed network, audited as automatic', async () => {
    tc = await startTestCore({ env: { AUTO_APPROVE_NETWORKS: '127.0.0.0/8,::1/128' } });
    const a = createAgent({ gatewayUrl: tc.core.agentUrl, caCertificatePem: tc.core.authority.certificatePem, agentId: 'auto-1' });
    const res = await a.enroll();
    expect((res.body as { status: string }).status).toBe('APPROVED');
    const admin = await tc.token('alice', ['SECURITY_ADMIN']);
    const audit = (await tc.gql(AuditLogDocument, {}, admin)).data!.auditLog.edges.map((e) => e.node);
    expect(audit.find((e) => e.action === 'clientAccess.approved')!.actor).toBe('system:auto-approval');
    a.close();
  });
});

describe('the legacy clear-text release of secure data (SECURE_DATA_LEGACY_RELEASE=imported)', () => {
  let tc: TestCore;
  let admin: string;
  const agents = agentsOf(() => tc.core);
  const newAgent = agents.make;
  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  it('releases to imported devices only, audits each release, and ends for good with the security model', async () => {
    tc = await startTestCore({ env: { SECURE_DATA_LEGACY_RELEASE: 'imported' } });
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    await tc.gql(SetSecureDataDocument, { name: 'patch-password', value: 'legacy-s3cret' }, admin);
    await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'OLD-1', agentId: 'old-1', agentVersion: '9.60' }] }, admin);

    const old = newAgent('old-1');
    const plain = await old.secureData('patch-password', { cert: 'none', agentVersion: '9.60' });
    expect([plain.status, plain.body]).toEqual([200, { name: 'patch-password', value: 'legacy-s3cret' }]);
    const audit = (await tc.gql(AuditLogDocument, {}, admin)).data!.auditLog.edges.map((e) => e.node);
    expect(audit.find((e) => e.action === 'secureData.releasedInClear')).toMatchObject({ actor: 'agent:old-1', targetId: 'patch-password' });
    expect(JSON.stringify(audit)).not.toContain('legacy-s3cret');

    // Never for a bare enrollment, even with its own key.
    const enrolled = newAgent('enrolled-1');
    expect((await enrolled.enroll()).status).toBe(202);
    const refused = await enrolled.secureData('patch-password', { cert: 'self-signed' });
    expect([refused.status, errorOf(refused.body).code]).toEqual([403, 'FORBIDDEN']);

    expect((await tc.gql(EnableSecurityDocument, { confirm: true }, admin)).errors).toBeUndefined();
    const after = await old.secureData('patch-password', { cert: 'none', agentVersion: '9.60' });
    expect([after.status, errorOf(after.body).code]).toEqual([403, 'FORBIDDEN']);
    expect(JSON.stringify(after.body)).not.toContain('legacy-s3cret');
    expect(tc.logs.join('\n')).not.toContain('legacy-s3cret');
  });
});

describe('an enrollment asks for a name and version; approval applies them', () => {
  let tc: TestCore;
  afterAll(async () => tc?.close());

  it('keeps the device as it is until the request is approved, then renames it', async () => {
    tc = await startTestCore();
    const admin = await tc.token('alice', ['SECURITY_ADMIN']);
    await tc.gql(RegisterDevicesDocument, { devices: [{ name: 'INVENTORY-NAME', agentId: 'renamed-1', agentVersion: '2020.1' }] }, admin);
    const a = createAgent({
      gatewayUrl: tc.core.agentUrl,
      caCertificatePem: tc.core.authority.certificatePem,
      agentId: 'renamed-1',
      deviceName: 'AGENT-NAME',
      agentVersion: '2024.2',
    });
    const id = ((await a.enroll()).body as { requestId: string }).requestId;
    const before = (await tc.gql(ClientAccessRequestsDocument, { status: 'PENDING' }, admin)).data!.clientAccessRequests.edges[0]!.node;
    expect(before).toMatchObject({ id, requestedDeviceName: 'AGENT-NAME', requestedAgentVersion: '2024.2' });
    expect(before.device).toMatchObject({ name: 'INVENTORY-NAME', agentVersion: '2020.1' });
    const approved = (await tc.gql(ApproveClientDocument, { id }, admin)).data!.approveClient;
    expect(approved.device).toMatchObject({ name: 'AGENT-NAME', agentVersion: '2024.2' });
    a.close();
  });
});
