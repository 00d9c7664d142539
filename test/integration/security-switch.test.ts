import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditLogDocument,
  DevicesDocument,
  EnableSecurityDocument,
  SecuritySettingsDocument,
  SummaryDocument,
} from '../generated/graphql.js';
import { seed } from '../support/seed.js';
import { errorCode, startTestCore, type TestCore } from '../support/test-core.js';

describe('enabling client certificate-based security', () => {
  let tc: TestCore;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    tc = await startTestCore();
    alice = await tc.token('alice', ['SECURITY_ADMIN']);
    bob = await tc.token('bob', ['SECURITY_ADMIN']);
    const s = seed(tc);
    await s.record('ready-1', 'succeeded');
    await s.record('failing-1', 'notApproved');
    await s.record('old-1', 'mustUpgrade');
  });
  afterAll(async () => tc?.close());

  it('says before enabling how many devices would not be fully manageable', async () => {
    const settings = (await tc.gql(SecuritySettingsDocument, {}, alice)).data!.securitySettings;
    // The core server, the failing and the old device.
    expect(settings).toMatchObject({ clientCertificateSecurityEnabled: false, enabledAt: null, enabledBy: null, devicesNotReady: 3 });
    const devices = (await tc.gql(DevicesDocument, {}, alice)).data!.devices.edges.map((e) => e.node);
    expect(devices.every((d) => d.fullyManageable)).toBe(true);
  });

  it('refuses confirm: false and changes nothing', async () => {
    const res = await tc.gql(EnableSecurityDocument, { confirm: false }, alice);
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/confirm: true/);
    expect((await tc.gql(SummaryDocument, {}, alice)).data!.authStatusSummary.securityEnabled).toBe(false);
  });

  it('turns on once; a second call keeps the first enabledAt and enabledBy', async () => {
    const first = await tc.gql(EnableSecurityDocument, { confirm: true }, alice);
    expect(first.errors).toBeUndefined();
    const on = first.data!.enableClientCertificateSecurity;
    expect(on).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice', devicesNotReady: 3 });
    expect(Date.parse(on.enabledAt!)).toBeGreaterThan(Date.now() - 60_000);

    const second = (await tc.gql(EnableSecurityDocument, { confirm: true }, bob)).data!.enableClientCertificateSecurity;
    expect(second).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice', enabledAt: on.enabledAt });

    const actions = (await tc.gql(AuditLogDocument, {}, alice)).data!.auditLog.edges.map((e) => e.node);
    const enabled = actions.filter((a) => a.action === 'security.enabled');
    expect(enabled).toHaveLength(1);
    expect(enabled[0]!.actor).toBe('alice');
  });

  it('makes every device not in AUTHENTICATION_SUCCEEDED not fully manageable', async () => {
    const devices = (await tc.gql(DevicesDocument, {}, alice)).data!.devices.edges.map((e) => e.node);
    for (const d of devices) expect([d.name, d.fullyManageable]).toEqual([d.name, d.authStatus === 'AUTHENTICATION_SUCCEEDED']);
    expect((await tc.gql(SummaryDocument, {}, alice)).data!.authStatusSummary.securityEnabled).toBe(true);
  });

  it('cannot be undone even by raw SQL: the database refuses', async () => {
    const db = tc.core.database.db;
    const attempts = [
      sql`update core_settings set client_certificate_security_enabled = false`,
      sql`update core_settings set enabled_by = 'mallory'`,
      sql`update core_settings set enabled_at = now() - interval '1 day'`,
      sql`delete from core_settings`,
      sql`truncate core_settings cascade`,
    ];
    for (const statement of attempts) {
      await expect(db.execute(statement)).rejects.toThrow();
    }
    const settings = (await tc.gql(SecuritySettingsDocument, {}, alice)).data!.securitySettings;
    expect(settings).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice' });
  });

  it('says why the database refused', async () => {
    const err = await tc.core.database.db
      .execute(sql`update core_settings set client_certificate_security_enabled = false`)
      .catch((e: Error) => e);
    const messages: string[] = [];
    for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) messages.push(String((e as Error).message));
    expect(messages.join(' | ')).toMatch(/cannot be disabled/);
  });
});
