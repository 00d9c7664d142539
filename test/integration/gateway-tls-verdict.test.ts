import { X509Certificate, createPrivateKey } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCountersAndSwitch } from '../../src/db/counter-queries.js';
import { countDevicesByStatus } from '../../src/db/device-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import { createLogger } from '../../src/logger.js';
import { createCaSigner, createCertificateAuthority } from '../../src/pki/index.js';
import { startAgentGateway, type AgentGatewayServices } from '../../src/server/agent-gateway/index.js';
import type { AgentClaim } from '../../src/services/agent-auth-service.js';
import { ApproveClientDocument } from '../generated/graphql.js';
import { createAgent, type CertificateChoice, type TestAgent } from '../support/agent.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

/**
 * The gateway takes OpenSSL's verdict on a client certificate's chain (socket.authorized: the
 * handshake verified it to the core CA with no error) instead of verifying the CA's signature again
 * on every request. These cases hold it to what the signature check alone decided before, on a full
 * handshake and on a session resumed from it (OpenSSL restores the verdict from the session): a
 * foreign CA's certificate, a self-signed one and a forged one (our CA's name, another key) are
 * still refused as UNTRUSTED_ISSUER and move nothing; an expired certificate of ours (OpenSSL:
 * CERT_HAS_EXPIRED, which is no verdict) is still judged ours; a good one succeeds.
 *
 * The gateway here is a second listener on the test core's own services, which records the verdict
 * each request was handed, so a case cannot pass without the path it is about.
 */

const DAY_MS = 86_400_000;

interface Snapshot {
  devices: Record<string, unknown>[];
  counters: Record<string, number>;
}

async function snapshot(tc: TestCore): Promise<Snapshot> {
  const db = tc.core.database.db;
  const devices = rowsOf<Record<string, unknown>>(
    await db.execute(sql`
      select id, agent_id, agent_version, auth_status, failure_reason, last_connection_id, last_attempt_at, last_result,
             last_failure_reason, last_certificate_serial, updated_at
      from devices order by id`),
  ).map((d) => ({ ...d, id: String(d.id), last_connection_id: d.last_connection_id === null ? null : String(d.last_connection_id) }));
  const { counts } = await getCountersAndSwitch(db);
  expect(counts).toEqual(await countDevicesByStatus(db));
  return { devices, counters: counts };
}

describe('client certificates judged on the TLS layer’s verdict, full and resumed', () => {
  let tc: TestCore;
  let admin: string;
  /** Added to the core's clock: lets a certificate be issued in the past. */
  let clockOffsetMs = 0;
  let gateway: Awaited<ReturnType<typeof startAgentGateway>>;
  const verdicts: (boolean | undefined)[] = [];
  const agents: TestAgent[] = [];
  let ourCaPem = '';

  function agent(agentId: string, version: 'TLSv1.2' | 'TLSv1.3'): TestAgent {
    const a = createAgent({ gatewayUrl: gateway.url, caCertificatePem: ourCaPem, agentId, maxTlsVersion: version });
    agents.push(a);
    return a;
  }

  /** approved enrolls an agent through the core's own gateway and installs its approved certificate. */
  async function approved(agentId: string): Promise<TestAgent> {
    const a = createAgent({ gatewayUrl: tc.core.agentUrl, caCertificatePem: ourCaPem, agentId });
    agents.push(a);
    const res = await a.enroll();
    expect(res.status).toBe(202);
    const id = (res.body as { requestId: string }).requestId;
    expect((await tc.gql(ApproveClientDocument, { id }, admin)).errors).toBeUndefined();
    a.useCertificate(((await a.poll(id)).body as { certificatePem: string }).certificatePem);
    return a;
  }

  // Certificates for a stranger's key, each naming the victim.
  let stranger: TestAgent;
  let victim: TestAgent;
  let expired: TestAgent;
  let foreign: { certPem: string; keyPem: string };
  let forged: { certPem: string; keyPem: string };

  async function issuedBy(commonName: string): Promise<{ certPem: string; keyPem: string }> {
    const ca = await createCertificateAuthority({ commonName });
    const signer = await createCaSigner({
      certificatePem: ca.certificatePem,
      privateKey: createPrivateKey({ key: ca.privateKeyPkcs8, format: 'der', type: 'pkcs8' }),
    });
    const issued = await signer.issueClientCertificate({
      subjectCommonName: 'victim-1',
      publicKeySpki: stranger.keyPair.publicKey.export({ type: 'spki', format: 'der' }),
      validityDays: 30,
    });
    return { certPem: issued.certificatePem, keyPem: stranger.privateKeyPem() };
  }

  beforeAll(async () => {
    tc = await startTestCore({ clock: () => new Date(Date.now() + clockOffsetMs), env: { CLIENT_CERT_DAYS: '1' } });
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    ourCaPem = tc.core.authority.certificatePem;
    // A listener of the gateway on the core's own services, recording what TLS said of each request's certificate.
    const caSigner = await createCaSigner({ certificatePem: ourCaPem, privateKey: tc.core.authority.privateKey });
    const serverCert = await caSigner.issueServerCertificate({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 });
    const s = tc.core.services;
    const services: AgentGatewayServices = {
      caCertificatePem: () => ourCaPem,
      currentCrlPem: () => s.revocation.currentCrlPem(),
      enroll: (input) => s.clientAccess.enroll(input),
      getEnrollment: (requestId, der) => s.clientAccess.getEnrollment(requestId, der),
      authenticate: (input: AgentClaim & { source: 'SECURE_CONNECTION' | 'SECURITY_SCANNER' }) => {
        verdicts.push(input.chainVerifiedByTls);
        return s.agentAuth.authenticate(input);
      },
      fetchSecureData: (input) => s.agentAuth.fetchSecureData(input),
    };
    gateway = await startAgentGateway({
      host: '127.0.0.1',
      port: 0,
      tls: { ...serverCert, caCertificatePem: ourCaPem },
      services,
      log: createLogger('warn', () => {}),
    });

    victim = await approved('victim-1');
    expect((await victim.connect()).status).toBe(200);
    // Issued three days ago for one day: expired now, by the clock OpenSSL uses too.
    clockOffsetMs = -3 * DAY_MS;
    expired = await approved('expired-1');
    clockOffsetMs = 0;
    stranger = createAgent({ gatewayUrl: gateway.url, caCertificatePem: ourCaPem, agentId: 'victim-1' });
    agents.push(stranger);
    foreign = await issuedBy('some-other-ca');
    // Our CA's subject, byte for byte (the core names its CA after CORE_NAME), signed with another key.
    forged = await issuedBy('core-under-test');
    expect(new X509Certificate(forged.certPem).issuer).toBe(new X509Certificate(ourCaPem).subject);
    expect(new X509Certificate(forged.certPem).verify(new X509Certificate(ourCaPem).publicKey)).toBe(false);
    expect(new X509Certificate(foreign.certPem).issuer).not.toBe(new X509Certificate(ourCaPem).subject);
  });

  afterAll(async () => {
    for (const a of agents) a.close();
    await gateway?.close();
    await tc?.close();
  });

  /** twice connects on a full handshake, then on a new connection resuming its session. */
  async function twice(a: TestAgent, cert: CertificateChoice, agentId: string) {
    verdicts.length = 0;
    const full = await a.connect({ cert, agentId, agentVersion: '2024.1' });
    expect(full.sessionReused).toBe(false);
    a.dropConnections();
    const resumed = await a.connect({ cert, agentId, agentVersion: '2024.1' });
    expect(resumed.sessionReused).toBe(true);
    return { answers: [full, resumed].map((r) => ({ status: r.status, body: r.body })), verdicts: [...verdicts] };
  }

  describe.each(['TLSv1.3', 'TLSv1.2'] as const)('%s', (version) => {
    it.each([
      ['a foreign CA’s certificate', () => foreign],
      ['a forged certificate: our CA’s name, another key', () => forged],
      ['a self-signed certificate', () => 'self-signed' as const],
    ])('refuses %s as UNTRUSTED_ISSUER on both, TLS vouching for neither, and moves nothing', async (_name, certOf) => {
      const before = await snapshot(tc);
      const a = agent('victim-1', version);
      // The stranger's key, whatever the certificate: the self-signed one is of the agent's own key.
      const got = await twice(a, certOf(), 'victim-1');
      await tc.core.services.unverified.flush();
      const refused = { status: 403, body: { status: 'AUTHENTICATION_FAILED', reason: 'UNTRUSTED_ISSUER' } };
      expect(got).toEqual({ answers: [refused, refused], verdicts: [false, false] });
      expect(await snapshot(tc)).toEqual(before);
    });

    it('accepts a good certificate on both, on the TLS layer’s verdict both times', async () => {
      const a = agent('victim-1', version);
      a.useCertificate(victim.certificatePem!);
      const keyed = { certPem: victim.certificatePem!, keyPem: victim.privateKeyPem() };
      const got = await twice(a, keyed, 'victim-1');
      const ok = { status: 200, body: { status: 'AUTHENTICATION_SUCCEEDED', reason: null } };
      expect(got).toEqual({ answers: [ok, ok], verdicts: [true, true] });
    });

    it('still judges an expired certificate of ours as ours (CERTIFICATE_EXPIRED, not UNTRUSTED_ISSUER), on both', async () => {
      const a = agent('expired-1', version);
      const keyed = { certPem: expired.certificatePem!, keyPem: expired.privateKeyPem() };
      expect(new Date(new X509Certificate(keyed.certPem).validTo).getTime()).toBeLessThan(Date.now());
      const got = await twice(a, keyed, 'expired-1');
      const refused = { status: 403, body: { status: 'AUTHENTICATION_FAILED', reason: 'CERTIFICATE_EXPIRED' } };
      // OpenSSL said CERT_HAS_EXPIRED: no verdict, so the services verified the signature themselves.
      expect(got).toEqual({ answers: [refused, refused], verdicts: [false, false] });
    });
  });

  it('a claim that TLS vouched for a certificate of another issuer still does not make it ours', async () => {
    const before = await snapshot(tc);
    const der = new X509Certificate(foreign.certPem).raw;
    const answer = await tc.core.services.agentAuth.authenticate({
      source: 'SECURE_CONNECTION',
      agentId: 'victim-1',
      agentVersion: '2024.1',
      presentedCertificate: der,
      chainVerifiedByTls: true,
      remoteAddress: '127.0.0.1',
    });
    await tc.core.services.unverified.flush();
    expect(answer).toEqual({ httpStatus: 403, status: 'AUTHENTICATION_FAILED', reason: 'UNTRUSTED_ISSUER' });
    expect(await snapshot(tc)).toEqual(before);
  });
});
