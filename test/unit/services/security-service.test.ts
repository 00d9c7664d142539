import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { adjustCounters, emptyCounts, type StatusCounts } from '../../../src/db/counter-queries.js';
import type { Db } from '../../../src/db/client.js';
import { rowsOf } from '../../../src/db/rows.js';
import type { AuthorityInfo } from '../../../src/services/authority-service.js';
import { createSecurityService, SUMMARY_CACHE_MS } from '../../../src/services/security-service.js';
import { summaryView } from '../../../src/services/views.js';
import { openTestDb, type TestDb } from '../../support/test-db.js';

const admin = { subject: 'alice', roles: ['SECURITY_ADMIN' as const] };
const viewer = { subject: 'victor', roles: ['VIEWER' as const] };
const T0 = new Date('2030-01-02T03:04:05.000Z');

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PRIVATE_PEM = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const authority: AuthorityInfo = {
  subject: 'CN=certfleet test CA',
  certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  fingerprint: 'AB:CD',
  serialNumber: '01',
  notBefore: new Date('2029-01-01T00:00:00Z'),
  notAfter: new Date('2039-01-01T00:00:00Z'),
  privateKey,
};

const counts = (over: Partial<StatusCounts>): StatusCounts => ({ ...emptyCounts(), ...over });

describe('summaryView: the success rate', () => {
  it.each([
    { name: 'no devices at all: 0, not NaN', c: counts({}), rate: 0, total: 0 },
    { name: 'only devices without info: 0', c: counts({ NO_AUTHENTICATION_INFO: 4 }), rate: 0, total: 4 },
    { name: 'all succeeded: 1', c: counts({ AUTHENTICATION_SUCCEEDED: 7 }), rate: 1, total: 7 },
    { name: 'one of four: 0.25', c: counts({ AUTHENTICATION_SUCCEEDED: 1, AUTHENTICATION_FAILED: 1, NO_AUTHENTICATION_INFO: 1, CLIENT_AGENTS_MUST_UPGRADE: 1 }), rate: 0.25, total: 4 },
    { name: 'one of three: the exact fraction, not rounded', c: counts({ AUTHENTICATION_SUCCEEDED: 1, AUTHENTICATION_FAILED: 2 }), rate: 1 / 3, total: 3 },
    { name: 'one of a million: not rounded to 0', c: counts({ AUTHENTICATION_SUCCEEDED: 1, NO_AUTHENTICATION_INFO: 999_999 }), rate: 1e-6, total: 1_000_000 },
  ])('$name', ({ c, rate, total }) => {
    const s = summaryView(c, false, T0);
    expect(s.successRate).toBe(rate);
    expect(s.total).toBe(total);
    expect(s.succeeded + s.noAuthenticationInfo + s.failed + s.mustUpgrade).toBe(total);
  });

  it('lists all four chart items, zeros included, in the order of the statuses, with their labels', () => {
    const s = summaryView(counts({ AUTHENTICATION_FAILED: 2 }), true, T0);
    expect(s.items).toEqual([
      { status: 'AUTHENTICATION_SUCCEEDED', label: 'Authentication succeeded', count: 0 },
      { status: 'NO_AUTHENTICATION_INFO', label: 'No authentication info', count: 0 },
      { status: 'AUTHENTICATION_FAILED', label: 'Authentication failed', count: 2 },
      { status: 'CLIENT_AGENTS_MUST_UPGRADE', label: 'Client agents must upgrade', count: 0 },
    ]);
    expect(s).toMatchObject({ failed: 2, securityEnabled: true, asOf: T0 });
  });
});

describe('the security service on a database', () => {
  let t: TestDb;
  let deps: ReturnType<TestDb['deps']>;
  let security: ReturnType<typeof createSecurityService>;
  // A database whose reads can be made to fail, to see that a failed read is not remembered.
  let failReads = false;
  let reads = 0;

  beforeAll(async () => {
    t = await openTestDb();
    deps = t.deps(() => T0);
    const real = deps.db;
    const flaky = new Proxy(real, {
      get(target, prop) {
        if (prop === 'select' && failReads) {
          return () => {
            throw new Error('read failed');
          };
        }
        if (prop === 'select') reads++;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Db;
    security = createSecurityService({ ...deps, db: flaky, authority });
    // 3 succeeded, 2 failed, 1 must upgrade, 4 without info: 7 not ready of 10.
    await adjustCounters(t.database.db, { AUTHENTICATION_SUCCEEDED: 3, AUTHENTICATION_FAILED: 2, CLIENT_AGENTS_MUST_UPGRADE: 1, NO_AUTHENTICATION_INFO: 4 });
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    vi.restoreAllMocks();
    failReads = false;
  });

  // The remembered summary's lifetime runs on the wall clock (Date.now), which the test sets.
  let now = 1_000_000;
  const wallClock = () => vi.spyOn(Date, 'now').mockImplementation(() => now);
  const bump = (delta: Partial<StatusCounts>) => adjustCounters(t.database.db, delta);

  describe('the remembered summary', () => {
    it('is served from memory until SUMMARY_CACHE_MS has passed, then read again', async () => {
      wallClock();
      security.invalidateSummary();
      const first = await security.getAuthStatusSummary(viewer);
      expect(first).toMatchObject({ total: 10, succeeded: 3, successRate: 0.3, asOf: T0 });
      await bump({ AUTHENTICATION_FAILED: 5 });
      now += SUMMARY_CACHE_MS - 1;
      expect((await security.getAuthStatusSummary(viewer)).failed).toBe(2);
      now += 1;
      expect((await security.getAuthStatusSummary(viewer)).failed).toBe(7);
      await bump({ AUTHENTICATION_FAILED: -5 });
    });

    it('is dropped by a summaryChanged on the bus, at once', async () => {
      wallClock();
      security.invalidateSummary();
      expect((await security.getAuthStatusSummary(viewer)).mustUpgrade).toBe(1);
      await bump({ CLIENT_AGENTS_MUST_UPGRADE: 2 });
      expect((await security.getAuthStatusSummary(viewer)).mustUpgrade).toBe(1);
      deps.bus.publish({ type: 'clientAccessRequested', requestId: 1 });
      expect((await security.getAuthStatusSummary(viewer)).mustUpgrade).toBe(1);
      deps.bus.publish({ type: 'summaryChanged' });
      expect((await security.getAuthStatusSummary(viewer)).mustUpgrade).toBe(3);
      await bump({ CLIENT_AGENTS_MUST_UPGRADE: -2 });
      security.invalidateSummary();
    });

    it('is shared by callers asking at the same time: one read', async () => {
      wallClock();
      security.invalidateSummary();
      const before = reads;
      const [a, b] = await Promise.all([security.getAuthStatusSummary(viewer), security.getAuthStatusSummary(admin)]);
      expect(a).toBe(b);
      expect(reads - before).toBe(1);
    });

    it('does not remember a failed read: the next caller reads again', async () => {
      wallClock();
      security.invalidateSummary();
      failReads = true;
      await expect(security.getAuthStatusSummary(viewer)).rejects.toThrow('read failed');
      failReads = false;
      expect((await security.getAuthStatusSummary(viewer)).total).toBe(10);
    });

    it('is refused to a caller without a role, even while remembered', async () => {
      await security.getAuthStatusSummary(viewer);
      await expect(security.getAuthStatusSummary({ subject: 'nobody', roles: [] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });
  });

  describe('the settings', () => {
    it('count the devices not ready (all but AUTHENTICATION_SUCCEEDED) and hand out the CA without its key', async () => {
      const s = await security.getSecuritySettings(viewer);
      expect(s).toMatchObject({ clientCertificateSecurityEnabled: false, enabledAt: null, enabledBy: null, devicesNotReady: 7 });
      expect(Object.keys(s.certificateAuthority).sort()).toEqual(['certificatePem', 'fingerprint', 'notAfter', 'subject']);
      const text = JSON.stringify(s);
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(PRIVATE_PEM.split('\n')[1]!);
    });
  });

  describe('the irreversible switch', () => {
    const enabledAudits = async () =>
      rowsOf<{ actor: string; details: string }>(await t.database.db.execute(sql`select actor, details from audit_events where action = 'security.enabled'`));

    it('refuses a viewer, and confirm other than true, changing nothing', async () => {
      const before = deps.published.length;
      await expect(security.enableClientCertificateSecurity(viewer, true)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      for (const confirm of [false, 'true', 1] as unknown as boolean[]) {
        await expect(security.enableClientCertificateSecurity(admin, confirm)).rejects.toMatchObject({
          code: 'BAD_USER_INPUT',
          extensions: { argument: 'confirm' },
        });
      }
      expect((await security.getSecuritySettings(viewer)).clientCertificateSecurityEnabled).toBe(false);
      expect(await enabledAudits()).toEqual([]);
      expect(deps.published.slice(before)).toEqual([]);
    });

    it('turns on once at the injected time, auditing devicesNotReady and announcing the change', async () => {
      const before = deps.published.length;
      const on = await security.enableClientCertificateSecurity(admin, true);
      expect(on).toMatchObject({ clientCertificateSecurityEnabled: true, enabledAt: T0, enabledBy: 'alice', devicesNotReady: 7 });
      expect(deps.published.slice(before)).toEqual([{ type: 'summaryChanged' }]);
      const audits = await enabledAudits();
      expect(audits.map((a) => [a.actor, JSON.parse(a.details)])).toEqual([['alice', { devicesNotReady: 7 }]]);
    });

    it('a second enable (another admin, later, or several at once) changes nothing: no audit, no event, first enabledAt/By kept', async () => {
      const later = createSecurityService({ ...deps, clock: () => new Date(T0.getTime() + 86_400_000), authority });
      const before = deps.published.length;
      const bob = { subject: 'bob', roles: ['SECURITY_ADMIN' as const] };
      const answers = await Promise.all([later.enableClientCertificateSecurity(bob, true), later.enableClientCertificateSecurity(bob, true)]);
      for (const a of answers) expect(a).toMatchObject({ clientCertificateSecurityEnabled: true, enabledAt: T0, enabledBy: 'alice' });
      expect(deps.published.slice(before)).toEqual([]);
      expect(await enabledAudits()).toHaveLength(1);
    });
  });
});
