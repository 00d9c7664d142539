import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { SUMMARY_CACHE_MS } from '../../src/services/security-service.js';
import { runSeedCli } from '../../src/cli/seed.js';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_STATUS_MIX, SeedRefusedError, seedFleet, type SeedReport } from '../../src/seed/index.js';
import { openDatabase, PGLITE_EXTENSIONS, type Database } from '../../src/db/client.js';
import { readCertificateStatusCounts } from '../../src/db/certificate-figures-queries.js';
import { getCountersAndSwitch } from '../../src/db/counter-queries.js';
import { countDevicesByStatus } from '../../src/db/device-queries.js';
import { rowsOf } from '../../src/db/rows.js';
import { AUTH_STATUSES, type AuthStatus } from '../../src/domain/statuses.js';
import type { AppEvent } from '../../src/events/bus.js';
import { createPostgresEventBus } from '../../src/events/postgres-bus.js';
import { createLogger } from '../../src/logger.js';
import { startCore } from '../../src/main.js';
import { parseCertificateRequest } from '../../src/pki/index.js';
import {
  ApproveClientDocument,
  ClientAccessRequestsDocument,
  DevicesDocument,
  RevokeClientCertificateDocument,
  SummaryDocument,
} from '../generated/graphql.js';
import { databaseKind, startTestCore, type TestCore } from '../support/test-core.js';
import { crlNaming } from '../support/crl.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DEVICES = 5000;

async function rows<T>(database: Database, query: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await database.db.execute(query));
}

async function count(database: Database, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await rows<{ n: string | number }>(database, query);
  return Number(row!.n);
}

/** expectCountersRight checks the kept counters against a GROUP BY over the devices. */
async function expectCountersRight(database: Database): Promise<Record<AuthStatus, number>> {
  const { counts } = await getCountersAndSwitch(database.db);
  expect(counts).toEqual(await countDevicesByStatus(database.db));
  return counts;
}

/**
 * unstartedDatabase is a migrated database no core has started on (as `npm run seed` meets it
 * before the first `npm start`), on whichever database this run tests.
 */
async function unstartedDatabase(): Promise<{ database: Database; pglite?: PGlite; url?: string; drop(): Promise<void> }> {
  if (databaseKind() === 'postgres') {
    const adminUrl = inject('postgresAdminUrl');
    const name = `certfleet_seed_${inject('runId')}_${randomBytes(4).toString('hex')}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}" template "${inject('postgresTemplate')}"`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const database = await openDatabase({ dataDir: tmpdir(), databaseUrl: url.toString(), poolSize: 3 });
    return {
      database,
      url: url.toString(),
      drop: async () => {
        await database.close();
        const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
        await a.unsafe(`drop database if exists "${name}" with (force)`);
        await a.end();
      },
    };
  }
  const snapshot = await readFile(inject('pgliteSnapshot'));
  const pglite = await PGlite.create({ loadDataDir: new Blob([snapshot]), extensions: PGLITE_EXTENSIONS });
  const database = await openDatabase({ dataDir: tmpdir(), pglite });
  return { database, pglite, drop: () => database.close() };
}

describe('bulk seed into a database a core is running on', () => {
  let tc: TestCore;
  let admin: string;
  let report: SeedReport;
  const now = new Date();

  beforeAll(async () => {
    // persistent: the core can be restarted on the seeded database (on PostgreSQL it always can).
    tc = await startTestCore({ persistent: true });
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    report = await seedFleet(tc.core.database, { devices: DEVICES, history: 3, seed: 42, batch: 1000, now });
  }, 60_000);
  afterAll(async () => tc?.close());

  it('adds the devices with the status mix asked for and reports them', async () => {
    expect(report.devices).toBe(DEVICES);
    expect(AUTH_STATUSES.reduce((n, s) => n + report.byStatus[s], 0)).toBe(DEVICES);
    for (const s of AUTH_STATUSES) {
      // 5,000 draws: a binomial share is within about 0.7 points (one standard deviation) of its mean.
      expect(Math.abs((100 * report.byStatus[s]) / DEVICES - DEFAULT_STATUS_MIX[s])).toBeLessThan(2.5);
    }
    expect(Object.values(report.byFailureReason).reduce((a, b) => a + b, 0)).toBe(report.byStatus.AUTHENTICATION_FAILED);
    // The core server was there first; the seeded devices come after it.
    expect(report.devicesBefore).toBe(1);
    expect(report.lastDeviceId - report.firstDeviceId + 1).toBeGreaterThanOrEqual(DEVICES);
  });

  it('keeps the chart counters equal to a GROUP BY over the devices', async () => {
    const counts = await expectCountersRight(tc.core.database);
    expect(counts).toEqual(report.counters);
    expect(counts).toEqual({ ...report.byStatus, NO_AUTHENTICATION_INFO: report.byStatus.NO_AUTHENTICATION_INFO + 1 });
  });

  it('keeps the ledger of certificate statuses (for the metrics) equal to a GROUP BY over the certificates', async () => {
    const recount = Object.fromEntries(
      (await rows<{ status: string; n: number }>(tc.core.database, sql`select status, count(*)::int as n from client_certificates group by status`)).map((r) => [r.status, r.n]),
    );
    const kept = await readCertificateStatusCounts(tc.core.database.db);
    for (const status of ['PENDING', 'APPROVED', 'REJECTED', 'REVOKED'] as const) expect(kept[status], status).toBe(recount[status] ?? 0);
    expect(kept.APPROVED + kept.PENDING + kept.REVOKED).toBeGreaterThan(0);
  });

  it("gives every device's last_* columns its newest connection result, and results only to devices that connected", async () => {
    const db = tc.core.database;
    const mismatched = await count(
      db,
      sql`select count(*) as n from devices d
        left join (select distinct on (device_id) * from connection_results order by device_id, id desc) c on c.device_id = d.id
        where d.last_connection_id is distinct from c.id or d.last_result is distinct from c.result
          or d.last_attempt_at is distinct from c.at or d.last_source is distinct from c.source
          or d.last_failure_reason is distinct from c.failure_reason or d.last_agent_version is distinct from c.agent_version
          or d.last_certificate_serial is distinct from c.certificate_serial_number
          or d.last_certificate_not_after is distinct from c.certificate_not_after`,
    );
    expect(mismatched).toBe(0);
    const perDevice = await rows<{ status: AuthStatus; min: number; max: number }>(
      db,
      sql`select d.auth_status as status, min(coalesce(h.n, 0))::int as min, max(coalesce(h.n, 0))::int as max
        from devices d left join (select device_id, count(*) as n from connection_results group by 1) h on h.device_id = d.id
        where not d.is_core_server group by 1`,
    );
    for (const r of perDevice) expect([r.status, r.min, r.max]).toEqual([r.status, ...(r.status === 'NO_AUTHENTICATION_INFO' ? [0, 0] : [3, 3])]);
    expect(await count(db, sql`select count(*) as n from connection_results`)).toBe(report.historyRows);
    // Each day's rows in a partition of their own days, none left to the DEFAULT partition.
    expect(await count(db, sql`select count(*) as n from connection_results_default`)).toBe(0);
    // History spreads over the last 7 days, never ahead of now nor before the device existed.
    expect(
      await count(
        db,
        sql`select count(*) as n from connection_results c join devices d on d.id = c.device_id
          where c.at > ${now.toISOString()}::timestamptz or c.at < ${now.toISOString()}::timestamptz - interval '7 days' or c.at < d.created_at`,
      ),
    ).toBe(0);
  });

  it('keeps each status consistent with its columns and certificates, by the rules of DESIGN.md', async () => {
    const db = tc.core.database;
    const [facts] = await rows<Record<string, string | number>>(
      db,
      sql`select
        count(*) filter (where auth_status = 'AUTHENTICATION_FAILED' and failure_reason is null) as failed_without_reason,
        count(*) filter (where auth_status <> 'AUTHENTICATION_FAILED' and failure_reason is not null) as reason_elsewhere,
        count(*) filter (where auth_status = 'CLIENT_AGENTS_MUST_UPGRADE' and agent_version not like '9.%') as upgrade_not_9x,
        count(*) filter (where auth_status = 'AUTHENTICATION_SUCCEEDED' and not exists (
          select 1 from client_certificates c where c.device_id = d.id and c.status = 'APPROVED'
            and c.serial_number = d.last_certificate_serial and c.subject = 'CN=' || d.agent_id
            and c.not_before <= ${now.toISOString()}::timestamptz and c.not_after > ${now.toISOString()}::timestamptz)) as succeeded_without_valid_cert,
        count(*) filter (where failure_reason = 'CERTIFICATE_REVOKED' and not exists (
          select 1 from client_certificates c where c.device_id = d.id and c.status = 'REVOKED' and c.serial_number = d.last_certificate_serial)) as revoked_without_revoked_cert,
        count(*) filter (where failure_reason = 'CERTIFICATE_EXPIRED' and not exists (
          select 1 from client_certificates c where c.device_id = d.id and c.status = 'APPROVED'
            and c.serial_number = d.last_certificate_serial and c.not_after < ${now.toISOString()}::timestamptz)) as expired_without_expired_cert,
        count(*) filter (where failure_reason = 'CERTIFICATE_NOT_APPROVED' and not exists (
          select 1 from client_certificates c where c.device_id = d.id and c.status = 'PENDING')) as not_approved_without_request,
        count(*) filter (where failure_reason = 'CERTIFICATE_REJECTED' and not exists (
          select 1 from client_certificates c where c.device_id = d.id and c.status = 'REJECTED')) as rejected_without_rejection,
        count(*) filter (where updated_at < created_at) as updated_before_created
      from devices d where not is_core_server`,
    );
    expect(Object.fromEntries(Object.entries(facts!).map(([k, v]) => [k, Number(v)]))).toEqual({
      failed_without_reason: 0,
      reason_elsewhere: 0,
      upgrade_not_9x: 0,
      succeeded_without_valid_cert: 0,
      revoked_without_revoked_cert: 0,
      expired_without_expired_cert: 0,
      not_approved_without_request: 0,
      rejected_without_rejection: 0,
      updated_before_created: 0,
    });
    const certs = await rows<{ status: string; n: string | number }>(db, sql`select status, count(*) as n from client_certificates group by 1`);
    expect(Object.fromEntries(certs.map((r) => [r.status, Number(r.n)]))).toEqual(
      Object.fromEntries(Object.entries(report.certificates).filter(([, n]) => n > 0)),
    );
    // Serials are canonical (the form the CRL encoder and the gateway expect) and unique.
    expect(
      await count(db, sql`select count(*) as n from client_certificates where serial_number is not null and serial_number !~ '^[1-7][0-9a-f]{31}$'`),
    ).toBe(0);
    expect(await count(db, sql`select count(*) - count(distinct lower(name)) as n from devices`)).toBe(0);
  });

  it('stores certificate and request PEMs that parse but that nothing can trust', async () => {
    const [row] = await rows<{ certificate_pem: string; csr_pem: string; serial_number: string; agent_id: string; not_after: string | Date }>(
      tc.core.database,
      sql`select c.certificate_pem, c.csr_pem, c.serial_number, d.agent_id, c.not_after from client_certificates c
        join devices d on d.id = c.device_id where c.status = 'APPROVED' order by c.id limit 1`,
    );
    const cert = new X509Certificate(row!.certificate_pem);
    expect(cert.subject).toBe(`CN=${row!.agent_id}`);
    expect(cert.serialNumber.toLowerCase()).toBe(row!.serial_number);
    expect(new Date(cert.validTo).getTime()).toBe(new Date(row!.not_after).getTime());
    // Not from this core's CA, and not even correctly signed by the placeholder issuer it names.
    const ca = new X509Certificate(tc.core.authority.certificatePem);
    expect(cert.checkIssued(ca)).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(false);
    expect(cert.issuer).toContain('certfleet-bulk-seed placeholder');
    // The request's signature does not hold: enrollment would refuse it (approval never parses it again).
    await expect(parseCertificateRequest(row!.csr_pem)).rejects.toThrow(/proof of possession/);
  });

  it('answers authStatusSummary and devices(filter: {authStatus}) over GraphQL in agreement with the database', async () => {
    const recount = await countDevicesByStatus(tc.core.database.db);
    const summary = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    expect(summary).toMatchObject({
      total: DEVICES + 1,
      succeeded: recount.AUTHENTICATION_SUCCEEDED,
      noAuthenticationInfo: recount.NO_AUTHENTICATION_INFO,
      failed: recount.AUTHENTICATION_FAILED,
      mustUpgrade: recount.CLIENT_AGENTS_MUST_UPGRADE,
    });
    for (const status of AUTH_STATUSES) {
      const page = await tc.gql(DevicesDocument, { filter: { authStatus: [status] }, first: 50 }, admin);
      expect(page.errors).toBeUndefined();
      expect(page.data!.devices.totalCount).toBe(recount[status]);
      const nodes = page.data!.devices.edges.map((e) => e.node);
      expect(nodes.length).toBe(Math.min(50, recount[status]));
      for (const d of nodes) {
        expect(d.authStatus).toBe(status);
        if (status === 'NO_AUTHENTICATION_INFO') expect(d.lastConnection).toBeNull();
        else expect(d.lastConnection).not.toBeNull();
        if (status === 'AUTHENTICATION_SUCCEEDED') expect(d.lastConnection!.result).toBe('AUTHENTICATION_SUCCEEDED');
        if (status === 'CLIENT_AGENTS_MUST_UPGRADE') expect(d.lastConnection!.result).toBe(status);
      }
    }
  });

  it('lets an admin approve a seeded request: the core CA issues a real certificate for its key', async () => {
    const pending = await tc.gql(ClientAccessRequestsDocument, { status: 'PENDING', first: 1 }, admin);
    const request = pending.data!.clientAccessRequests.edges[0]!.node;
    const approved = await tc.gql(ApproveClientDocument, { id: request.id }, admin);
    expect(approved.errors).toBeUndefined();
    const cert = new X509Certificate(approved.data!.approveClient.certificatePem!);
    expect(cert.checkIssued(new X509Certificate(tc.core.authority.certificatePem))).toBe(true);
    expect(cert.subject).toBe(`CN=${request.device!.agentId}`);
    await expectCountersRight(tc.core.database);
  });

  it('revokes a seeded certificate like any other: the device fails at once and the CRL names the seeded serials', async () => {
    const [target] = await rows<{ id: string | number; serial_number: string }>(
      tc.core.database,
      sql`select c.id, c.serial_number from client_certificates c join devices d on d.id = c.device_id
        where c.status = 'APPROVED' and d.auth_status = 'AUTHENTICATION_SUCCEEDED' and d.last_certificate_serial = c.serial_number
        order by c.id limit 1`,
    );
    const before = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    const revoked = await tc.gql(RevokeClientCertificateDocument, { id: String(target!.id), reason: 'KEY_COMPROMISE' }, admin);
    expect(revoked.errors).toBeUndefined();
    const after = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    expect([after.succeeded, after.failed]).toEqual([before.succeeded - 1, before.failed + 1]);
    await expectCountersRight(tc.core.database);
    // The CRL the gateway hands out (GET /agent/v1/crl), reissued within the CRL window of the revocation.
    const pem = await crlNaming(() => tc.core.services.revocation.currentCrlPem(), [target!.serial_number]);
    const der = Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64');
    const revokedUnexpired = await rows<{ serial_number: string }>(
      tc.core.database,
      sql`select serial_number from client_certificates where status = 'REVOKED' and not_after > now()`,
    );
    expect(revokedUnexpired.length).toBeGreaterThan(100);
    for (const r of [revokedUnexpired[0]!, revokedUnexpired.at(-1)!, { serial_number: target!.serial_number }]) {
      expect(der.includes(Buffer.from(r.serial_number, 'hex'))).toBe(true);
    }
  });

  it('refuses a database that already has devices unless asked to append, and appends without collisions', async () => {
    await expect(seedFleet(tc.core.database, { devices: 10 })).rejects.toBeInstanceOf(SeedRefusedError);
    // The same seed again: the same draws, but names, agent ids and serials are new.
    const more = await seedFleet(tc.core.database, { devices: 500, seed: 42, append: true, batch: 200 });
    expect(more.devicesBefore).toBe(DEVICES + 1);
    expect(more.firstDeviceId).toBeGreaterThan(report.lastDeviceId);
    await expectCountersRight(tc.core.database);
    expect(await count(tc.core.database, sql`select count(*) - count(distinct agent_id) as n from devices where agent_id is not null`)).toBe(0);
    expect(await count(tc.core.database, sql`select count(*) - count(distinct lower(name)) as n from devices`)).toBe(0);
  });

  it('lets the core restart on the seeded database without moving anything', async () => {
    // The seed wrote the counters behind the running core's back (no event on the embedded
    // database): its remembered summary lasts at most SUMMARY_CACHE_MS.
    await new Promise((r) => setTimeout(r, SUMMARY_CACHE_MS + 100));
    const before = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    tc = await tc.restart();
    admin = await tc.token('alice', ['SECURITY_ADMIN']);
    const after = (await tc.gql(SummaryDocument, {}, admin)).data!.authStatusSummary;
    // The expiry sweep at start-up finds nothing: seeded succeeded devices hold valid certificates.
    expect({ ...after, asOf: null }).toEqual({ ...before, asOf: null });
    await expectCountersRight(tc.core.database);
  });
});

describe('bulk seed before the first start', () => {
  it('is reproducible, and a core started afterwards registers itself beside the seeded fleet', async () => {
    const a = await unstartedDatabase();
    const b = await unstartedDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'certfleet-seed-'));
    let core: Awaited<ReturnType<typeof startCore>> | undefined;
    try {
      const now = new Date();
      const opts = { devices: 300, seed: 7, history: 2, batch: 100, now, mix: { AUTHENTICATION_FAILED: 30 } };
      const [ra, rb] = [await seedFleet(a.database, opts), await seedFleet(b.database, opts)];
      expect(ra.byStatus).toEqual(rb.byStatus);
      expect(ra.devicesBefore).toBe(0);
      expect(Math.abs(ra.byStatus.AUTHENTICATION_FAILED - 90)).toBeLessThan(30);
      const fleet = sql`select name, agent_id, agent_version, auth_status, failure_reason, last_result, last_attempt_at, created_at,
          (select string_agg(status || ':' || coalesce(serial_number, '-'), ',' order by id) from client_certificates c where c.device_id = d.id) as certs
        from devices d order by id`;
      expect(await rows(a.database, fleet)).toEqual(await rows(b.database, fleet));
      await b.drop();

      // A core's first start on the seeded database: it registers itself and leaves the seeded devices alone.
      const config = loadConfig({
        DATA_DIR: dataDir,
        PORT: '0',
        AGENT_PORT: '0',
        CORE_NAME: 'core-after-seed',
        ...(a.url ? { DATABASE_URL: a.url } : {}),
      });
      core = await startCore(config, { pglite: a.pglite, log: createLogger('error') });
      const { counts } = await getCountersAndSwitch(core.database.db);
      expect(counts).toEqual({ ...ra.byStatus, NO_AUTHENTICATION_INFO: ra.byStatus.NO_AUTHENTICATION_INFO + 1 });
      expect(counts).toEqual(await countDevicesByStatus(core.database.db));
      expect(await count(core.database, sql`select count(*) as n from devices where is_core_server and name = 'core-after-seed'`)).toBe(1);
    } finally {
      await core?.close();
      await a.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a bulk seed that fails', () => {
  it("reports the database's error and keeps the batches committed before it, counters included", async () => {
    const a = await unstartedDatabase();
    const b = await unstartedDatabase();
    try {
      const now = new Date();
      const opts = { devices: 300, seed: 9, batch: 100, now };
      await seedFleet(a.database, opts);
      // B gets a certificate with the serial the same seed draws for its first certificate, on a
      // device with id 0 (so that B's run draws the same ordinals as A's).
      const [first] = await rows<{ serial_number: string }>(
        a.database,
        sql`select serial_number from client_certificates where serial_number is not null order by device_id, id limit 1`,
      );
      await b.database.db.execute(sql`insert into devices (id, name) overriding system value values (0, 'squatter')`);
      await b.database.db.execute(sql`update auth_status_counters set count = count + 1 where status = 'NO_AUTHENTICATION_INFO'`);
      await b.database.db.execute(sql`insert into client_certificates (device_id, status, subject, key_algorithm, public_key_fingerprint, csr_pem, serial_number)
        values (0, 'APPROVED', 'CN=squatter', 'EC-P256', 'none', 'none', ${first!.serial_number})`);
      const failed = seedFleet(b.database, { ...opts, append: true });
      await expect(failed).rejects.toThrow(/^bulk seed stopped after committing \d+ of 300 devices .*client_certificates_serial_key/);
      await expectCountersRight(b.database);
    } finally {
      await a.drop();
      await b.drop();
    }
  }, 30_000);
});

describe('a bulk seed beside running replicas', () => {
  it.runIf(databaseKind() === 'postgres')("tells every replica's event bus that the summary changed, after its last commit", async () => {
    const a = await unstartedDatabase();
    // A replica's bus, listening on its own connection as a running core's does.
    const bus = await createPostgresEventBus(a.database.notifications!, createLogger('error'));
    const heard: AppEvent[] = [];
    bus.subscribe((e) => heard.push(e));
    try {
      await seedFleet(a.database, { devices: 200, batch: 100 });
      await vi.waitFor(() => expect(heard).toEqual([{ type: 'summaryChanged' }]), { timeout: 5000 });
    } finally {
      await bus.close();
      await a.drop();
    }
  }, 30_000);
});

describe('npm run seed', () => {
  const cli = async (argv: string[], env: NodeJS.ProcessEnv) => {
    let out = '';
    let err = '';
    const code = await runSeedCli(argv, env, (t) => (out += t), (t) => (err += t));
    return { code, out, err };
  };
  const noDatabase: NodeJS.ProcessEnv = {};

  it('refuses to run without DATABASE_URL, with exit code 2 and how to set it', async () => {
    const r = await cli(['--devices', '1000000'], noDatabase);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^certfleet seed: DATABASE_URL is not set: .*PostgreSQL.*DATABASE_URL=postgres:\/\/.*npm run seed -- --devices/);
    expect(r.out).toBe('');
  });

  it('exits 2 on a bad command line, and 0 with the usage on --help', async () => {
    for (const argv of [[], ['--devices', 'lots'], ['--devices', '0'], ['--devices', '10', '--history', '0'], ['--devices', '10', '--bogus'], ['--devices', '10', '--succeeded', '80', '--failed', '30'], ['stray']]) {
      const r = await cli(argv, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      expect([argv, r.code]).toEqual([argv, 2]);
      expect(r.err).toMatch(/^certfleet seed: /);
    }
    const help = await cli(['--help'], noDatabase);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--devices N');
    expect(help.out).toContain('--append');
  });

  it('exits 2 as a process too', async () => {
    const { DATABASE_URL: _ignored, ...env } = process.env;
    const exit = await new Promise<{ code: number | null; stderr: string }>((done) => {
      execFile(join(ROOT, 'node_modules/.bin/tsx'), ['src/cli/seed.ts', '--devices', '10'], { cwd: ROOT, env }, (error, _stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('DATABASE_URL is not set');
  });

  it.runIf(databaseKind() === 'postgres')('seeds a PostgreSQL database, then refuses to seed it again without --append', async () => {
    const target = await unstartedDatabase();
    try {
      const first = await cli(['--devices', '1500', '--history', '2', '--batch', '500', '--seed', '3'], { DATABASE_URL: target.url });
      expect(first.err).toBe('');
      expect(first.code).toBe(0);
      expect(first.out).toMatch(/seeded 1,500 devices/);
      expect(first.out).toMatch(/1,500 \/ 1,500 devices \(100%\)/);
      expect(first.out).toMatch(/checked against a GROUP BY recount/);
      await expectCountersRight(target.database);
      const again = await cli(['--devices', '10'], { DATABASE_URL: target.url });
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/already has 1500 device\(s\).*--append/);
      const appended = await cli(['--devices', '10', '--append'], { DATABASE_URL: target.url });
      expect(appended.code).toBe(0);
      expect(await count(target.database, sql`select count(*) as n from devices`)).toBe(1510);
    } finally {
      await target.drop();
    }
  });
});
