import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRL_REISSUE_LOCK } from '../../src/db/client-certificate-queries.js';
import { getCountersAndSwitch } from '../../src/db/counter-queries.js';
import { countDevicesByStatus } from '../../src/db/device-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import { createCaSigner } from '../../src/pki/index.js';
import { createRevocationService } from '../../src/services/revocation-service.js';
import {
  ApproveClientsDocument,
  AuditLogDocument,
  ClientAccessRequestsDocument,
  DeviceDocument,
  RevokeClientCertificateDocument,
  RevokeClientCertificatesDocument,
} from '../generated/graphql.js';
import { createAgentClient } from '../../src/agent-client/agent-client.js';
import { agentsOf } from '../support/agent.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { crlContents, crlNaming } from '../support/crl.js';
import { databaseKind, errorCode, startTestCore, type TestCore } from '../support/test-core.js';

type Issued = { id: string; serialNumber: string; deviceId: string };

/** approvedCertificates enrolls n agents and approves them in one approveClients call. */
async function approvedCertificates(tc: TestCore, admin: string, agents: ReturnType<typeof agentsOf>, prefix: string, n: number): Promise<Issued[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await agents.make(`${prefix}-${i}`).enroll();
    expect(res.status).toBe(202);
    ids.push((res.body as { requestId: string }).requestId);
  }
  const approved = await tc.gql(ApproveClientsDocument, { ids }, admin);
  expect(approved.errors).toBeUndefined();
  return approved.data!.approveClients.approved.map((c) => ({ id: c.id, serialNumber: c.serialNumber!, deviceId: c.device.id }));
}

/** gatewayCrl reads the CRL as agents do: GET /agent/v1/crl on the core's agent gateway. */
const gatewayCrl = (tc: TestCore) => async () => {
  const client = createAgentClient({ gatewayUrl: tc.core.agentUrl, caCertificatePem: tc.core.authority.certificatePem, agentId: 'crl-reader' });
  try {
    const res = await client.raw('GET', '/agent/v1/crl');
    expect(res.status).toBe(200);
    return String(res.body);
  } finally {
    client.close();
  }
};

const pendingMarks = async (tc: TestCore) =>
  Number(rowsOf<{ n: number | string }>(await tc.core.database.db.execute(sql`select count(*) as n from crl_pending_revocations`))[0]!.n);

/**
 * The CRL is a distribution artifact: the revoking transaction flips the certificate's status (what
 * the gateway checks on every request) and the CRL follows within its window, one reissue for all
 * the revocations of that window, signed off the revoking request's path.
 */
describe('revocation and the CRL window', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  const agents = agentsOf(() => tc.core);

  // A 3 s window: a handful of revocations made one after another all fall in one window.
  beforeAll(async () => ({ tc, admin, viewer } = await startCoreWithTokens({ env: { CRL_WINDOW_MS: '3000' } })));
  afterAll(async () => {
    agents.closeAll();
    await tc?.close();
  });

  it('flips the status and audits in the revoking transaction; the served CRL names it within the window', async () => {
    const [cert] = await approvedCertificates(tc, admin, agents, 'crl-one', 1);
    const revoked = await tc.gql(RevokeClientCertificateDocument, { id: cert!.id, reason: 'KEY_COMPROMISE' }, admin);
    expect(revoked.errors).toBeUndefined();
    // Committed with the revocation: the status, the audit event, and the mark the CRL's signer reads.
    expect(revoked.data!.revokeClientCertificate).toMatchObject({ status: 'REVOKED', revocationReason: 'KEY_COMPROMISE' });
    const audit = (await tc.gql(AuditLogDocument, { first: 20 }, admin)).data!.auditLog.edges.map((e) => e.node);
    expect(audit.some((e) => e.action === 'clientAccess.revoked' && e.targetId === cert!.id)).toBe(true);
    const pem = await crlNaming(gatewayCrl(tc), [cert!.serialNumber]);
    expect(crlContents(pem).serials.has(cert!.serialNumber.replace(/^(00)+/, ''))).toBe(true);
    expect(await pendingMarks(tc)).toBe(0);
  });

  it('reissues the CRL once for many revocations in one window', async () => {
    const certs = await approvedCertificates(tc, admin, agents, 'crl-burst', 6);
    // Settle: nothing pending, then count the CRLs signed from here.
    await crlNaming(gatewayCrl(tc), []);
    const before = crlContents(await gatewayCrl(tc)()).crlNumber;
    const signedBefore = tc.core.services.revocation.reissuesSigned();
    for (const c of certs) {
      const r = await tc.gql(RevokeClientCertificateDocument, { id: c.id }, admin);
      expect(r.errors).toBeUndefined();
    }
    const pem = await crlNaming(gatewayCrl(tc), certs.map((c) => c.serialNumber));
    expect(crlContents(pem).crlNumber).toBe(before + 1);
    expect(tc.core.services.revocation.reissuesSigned()).toBe(signedBefore + 1);
    // Reissued from the last CRL's entries plus the new ones: exactly what a full read would name.
    const revoked = rowsOf<{ serial_number: string }>(
      await tc.core.database.db.execute(sql`select serial_number from client_certificates where status = 'REVOKED' and not_after > now()`),
    ).map((r) => r.serial_number.replace(/^(00)+/, ''));
    expect([...crlContents(pem).serials].sort()).toEqual(revoked.sort());
  });

  it('a reader that finds a revocation older than the window signs the CRL itself', async () => {
    const [cert] = await approvedCertificates(tc, admin, agents, 'crl-reader', 1);
    // A second revocation service on the same database, never started (no scheduler) and with a
    // 50 ms window: the core's own scheduler waits about 1.5 s of its 3 s window before signing.
    const reader = createRevocationService({
      db: tc.core.database.db,
      bus: tc.core.bus,
      clock: () => new Date(),
      log: { debug() {}, info() {}, warn() {}, error() {} } as never,
      signer: await createCaSigner({ certificatePem: tc.core.authority.certificatePem, privateKey: tc.core.authority.privateKey }),
      crlWindowMs: 50,
    });
    expect((await tc.gql(RevokeClientCertificateDocument, { id: cert!.id }, admin)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    const pem = await reader.currentCrlPem();
    expect(crlContents(pem).serials.has(cert!.serialNumber.replace(/^(00)+/, ''))).toBe(true);
    expect(reader.reissuesSigned()).toBe(1);
    expect(await pendingMarks(tc)).toBe(0);
    // The core's gateway serves that CRL too.
    expect(await gatewayCrl(tc)()).toBe(pem);
  });

  describe('revokeClientCertificates', () => {
    const expectCountersRecounted = async () => {
      const db = tc.core.database.db;
      expect((await getCountersAndSwitch(db)).counts).toEqual(await countDevicesByStatus(db));
    };
    const statuses = async (ids: string[]) => {
      const all = (await tc.gql(ClientAccessRequestsDocument, { first: 500 }, admin)).data!.clientAccessRequests.edges.map((e) => e.node);
      return ids.map((id) => all.find((c) => c.id === id)?.status);
    };

    it('revokes the APPROVED ones and lists each other id with its code; the CRL names the revoked ones', async () => {
      const certs = await approvedCertificates(tc, admin, agents, 'crl-bulk', 3);
      const [a, b, c] = certs;
      expect((await tc.gql(RevokeClientCertificateDocument, { id: c!.id }, admin)).errors).toBeUndefined();
      const res = await tc.gql(
        RevokeClientCertificatesDocument,
        { ids: [a!.id, b!.id, a!.id, c!.id, '999999', 'not-an-id'], reason: 'CESSATION_OF_OPERATION' },
        admin,
      );
      expect(res.errors).toBeUndefined();
      const payload = res.data!.revokeClientCertificates;
      expect(payload.revoked.map((r) => [r.id, r.status, r.revocationReason])).toEqual([
        [a!.id, 'REVOKED', 'CESSATION_OF_OPERATION'],
        [b!.id, 'REVOKED', 'CESSATION_OF_OPERATION'],
      ]);
      expect(payload.failed.map((f) => [f.id, f.code]).sort()).toEqual(
        [
          [c!.id, 'CONFLICT'],
          ['999999', 'NOT_FOUND'],
          ['not-an-id', 'BAD_USER_INPUT'],
        ].sort(),
      );
      await expectCountersRecounted();
      await crlNaming(gatewayCrl(tc), [a!.serialNumber, b!.serialNumber, c!.serialNumber]);
    });

    it('refuses a viewer and more than 500 ids, and changes nothing', async () => {
      const certs = await approvedCertificates(tc, admin, agents, 'crl-refused', 2);
      const ids = certs.map((c) => c.id);
      const counters = await getCountersAndSwitch(tc.core.database.db);
      const marks = await pendingMarks(tc);
      const byViewer = await tc.gql(RevokeClientCertificatesDocument, { ids }, viewer);
      expect(errorCode(byViewer)).toBe('FORBIDDEN');
      const tooMany = await tc.gql(RevokeClientCertificatesDocument, { ids: [...ids, ...Array.from({ length: 500 }, (_, i) => String(i + 1_000_000))] }, admin);
      expect(errorCode(tooMany)).toBe('BAD_USER_INPUT');
      expect(await statuses(ids)).toEqual(['APPROVED', 'APPROVED']);
      expect(await getCountersAndSwitch(tc.core.database.db)).toEqual(counters);
      expect(await pendingMarks(tc)).toBe(marks);
      await expectCountersRecounted();
      for (const c of certs) {
        const d = (await tc.gql(DeviceDocument, { id: c.deviceId }, admin)).data!.device!;
        expect(d.authStatus).not.toBe('AUTHENTICATION_FAILED');
      }
    });
  });
});

/**
 * Several replicas on one PostgreSQL server: one signs a given reissue (an advisory lock), and one
 * that dies after revoking, or while it signs, leaves the CRL to the others.
 */
describe.skipIf(databaseKind() !== 'postgres')('the CRL with two replicas on one PostgreSQL server', () => {
  let a: TestCore;
  let b: TestCore;
  let admin: string;
  const agents = agentsOf(() => b.core);

  beforeAll(async () => {
    // A signs a minute after a revocation, B within 400 ms: what A revokes, B signs.
    ({ tc: a, admin } = await startCoreWithTokens({ env: { CRL_WINDOW_MS: '60000' } }));
    // Replica B: the same database and DATA_DIR (the CA key file, the token key).
    b = await startTestCore({ databaseUrl: a.config.databaseUrl!, env: { DATA_DIR: a.config.dataDir, CRL_WINDOW_MS: '400' } });
  }, 60_000);
  afterAll(async () => {
    agents.closeAll();
    await b?.close();
    await a?.close();
  });

  it('what a replica revokes and does not sign in time (gone, or slow), another signs', async () => {
    const [cert] = await approvedCertificates(a, admin, agents, 'crl-dies', 1);
    const bSigned = b.core.services.revocation.reissuesSigned();
    const aSigned = a.core.services.revocation.reissuesSigned();
    // A's scheduler would sign 30 s from now: as far as the window goes, A is gone.
    expect((await a.gql(RevokeClientCertificateDocument, { id: cert!.id }, admin)).errors).toBeUndefined();
    for (let i = 0; i < 200 && (await pendingMarks(b)) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await pendingMarks(b)).toBe(0);
    expect(b.core.services.revocation.reissuesSigned()).toBeGreaterThan(bSigned);
    expect(a.core.services.revocation.reissuesSigned()).toBe(aSigned);
    // Both replicas serve that CRL.
    const pem = await crlNaming(gatewayCrl(b), [cert!.serialNumber]);
    expect(await gatewayCrl(a)()).toBe(pem);
  });

  it('while another holds the signing lock nobody else signs; once it fails, one signs', async () => {
    const [cert] = await approvedCertificates(b, await b.token('alice', ['SECURITY_ADMIN']), agents, 'crl-held', 1);
    const holder = postgres(b.config.databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      const number = async () => crlContents(await gatewayCrl(b)()).crlNumber;
      const before = await number();
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      // A replica that took the lock and is signing (or hung): its transaction holds it.
      const held = holder
        .begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(${CRL_REISSUE_LOCK})`;
          locked();
          await released;
          throw new Error('the holder fails');
        })
        .catch(() => {});
      await isLocked;
      const signed = b.core.services.revocation.reissuesSigned();
      expect((await b.gql(RevokeClientCertificateDocument, { id: cert!.id }, await b.token('alice', ['SECURITY_ADMIN']))).errors).toBeUndefined();
      // Two windows: the scheduler tried and found the lock taken; nothing signed, the mark kept.
      await new Promise((r) => setTimeout(r, 800));
      expect(b.core.services.revocation.reissuesSigned()).toBe(signed);
      expect(await pendingMarks(b)).toBe(1);
      release();
      await held;
      const pem = await crlNaming(gatewayCrl(b), [cert!.serialNumber]);
      expect(crlContents(pem).crlNumber).toBe(before + 1);
      expect(await pendingMarks(b)).toBe(0);
    } finally {
      await holder.end();
    }
  });
});
