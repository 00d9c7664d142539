import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLogDocument, DevicesDocument, SecuritySettingsDocument, SummaryDocument } from '../generated/graphql.js';
import { startTestCore, type TestCore } from '../support/test-core.js';

describe('a new user starting the core for the first time', () => {
  let tc: TestCore;
  let admin: string;

  beforeAll(async () => {
    // persistent: the embedded database is created in DATA_DIR exactly as `npm start` does.
    tc = await startTestCore({ persistent: true });
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
  });
  afterAll(async () => tc?.close());

  it('shows the core server alone under No authentication info, total 1', async () => {
    const res = await tc.gql(SummaryDocument, {}, admin);
    expect(res.errors).toBeUndefined();
    const s = res.data!.authStatusSummary;
    expect(s).toMatchObject({ total: 1, succeeded: 0, noAuthenticationInfo: 1, failed: 0, mustUpgrade: 0, successRate: 0 });
    expect(s.securityEnabled).toBe(false);
    expect(s.items.map((i) => [i.status, i.label, i.count])).toEqual([
      ['AUTHENTICATION_SUCCEEDED', 'Authentication succeeded', 0],
      ['NO_AUTHENTICATION_INFO', 'No authentication info', 1],
      ['AUTHENTICATION_FAILED', 'Authentication failed', 0],
      ['CLIENT_AGENTS_MUST_UPGRADE', 'Client agents must upgrade', 0],
    ]);
    expect(Date.parse(s.asOf)).toBeGreaterThan(Date.now() - 60_000);

    const devices = await tc.gql(DevicesDocument, {}, admin);
    expect(devices.data!.devices.totalCount).toBe(1);
    const core = devices.data!.devices.edges[0]!.node;
    expect(core).toMatchObject({ isCoreServer: true, agentId: null, authStatus: 'NO_AUTHENTICATION_INFO', name: 'core-under-test' });
  });

  it('has a CA from the first start, shown with its SHA-256 fingerprint and never its key', async () => {
    const res = await tc.gql(SecuritySettingsDocument, {}, admin);
    const ca = res.data!.securitySettings.certificateAuthority;
    expect(ca.subject).toContain('core-under-test');
    expect(ca.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(ca.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const years = (Date.parse(ca.notAfter) - Date.now()) / (365.25 * 24 * 3600_000);
    expect(years).toBeGreaterThan(9.9);
    expect(JSON.stringify(res)).not.toMatch(/PRIVATE KEY/);
    expect(tc.logs.join('\n')).not.toMatch(/PRIVATE KEY|cfk1\./);
  });

  it('answers /healthz with 200 while the database answers', async () => {
    const res = await fetch(tc.url.replace('/graphql', '/healthz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('survives a restart with its CA, devices and switch, and registers the core only once', async () => {
    const before = (await tc.gql(SecuritySettingsDocument, {}, admin)).data!.securitySettings;
    await tc.core.services.devices.registerDevices({ subject: 'alice', roles: ['SECURITY_ADMIN'] }, [
      { name: 'ws-0001', agentId: 'agent-0001' },
    ]);
    await tc.core.services.security.enableClientCertificateSecurity({ subject: 'alice', roles: ['SECURITY_ADMIN'] }, true);
    tc = await tc.restart();
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    const after = (await tc.gql(SecuritySettingsDocument, {}, admin)).data!.securitySettings;
    expect(after.certificateAuthority.fingerprint).toBe(before.certificateAuthority.fingerprint);
    expect(after.clientCertificateSecurityEnabled).toBe(true);
    const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    expect(summary.total).toBe(2);
    const audit = (await tc.gql(AuditLogDocument, { first: 50 }, admin)).data!.auditLog.edges.map((e) => e.node.action);
    expect(audit.filter((a) => a === 'core.registered')).toHaveLength(1);
    expect(audit.filter((a) => a === 'authority.created')).toHaveLength(1);
  });
});
