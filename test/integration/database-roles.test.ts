import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { rolesSetupSql } from '../../src/db/database-roles.js';
import { rowsOf } from '../../src/db/rows.js';
import {
  ApproveClientDocument,
  DevicesDocument,
  EnableSecurityDocument,
  RegisterDevicesDocument,
  SecuritySettingsDocument,
} from '../generated/graphql.js';
import { createAgent, type TestAgent } from '../support/agent.js';
import { subscribeLive } from '../support/live-client.js';
import { databaseKind, startTestCore, type TestCore } from '../support/test-core.js';
import { logsWith } from '../support/logs.js';

const SUMMARY = 'subscription { authStatusSummaryChanged { total succeeded securityEnabled } }';
type Summary = { authStatusSummaryChanged: { total: number; succeeded: number; securityEnabled: boolean } };

/** refusal runs one statement and returns how the database refused it (undefined if it did not). */
async function refusal(run: () => Promise<unknown>): Promise<{ code: string; message: string } | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    const e = ((err as { cause?: unknown }).cause ?? err) as { code?: string; message: string };
    return { code: String(e.code), message: e.message };
  }
}

describe('the security switch and a temporary table named core_settings', () => {
  let tc: TestCore;
  beforeAll(async () => {
    tc = await startTestCore();
  });
  afterAll(async () => tc?.close());

  it('a pg_temp.core_settings does not blind the trigger: the row cannot be deleted once security is on', async () => {
    const admin = await tc.token('alice', ['SECURITY_ADMIN']);
    expect((await tc.gql(EnableSecurityDocument, { confirm: true }, admin)).errors).toBeUndefined();
    const db = tc.core.database.db;
    // Before migration 0005 the trigger read "core_settings" through the search path, where pg_temp comes first.
    const refused = await refusal(() =>
      db.transaction(async (tx) => {
        await tx.execute(sql`create temporary table core_settings (client_certificate_security_enabled boolean) on commit drop`);
        await tx.execute(sql`delete from public.core_settings`);
      }),
    );
    expect(refused?.message).toMatch(/cannot be disabled/);
    const [row] = rowsOf<{ on: boolean; by: string }>(
      await db.execute(sql`select client_certificate_security_enabled as on, enabled_by as by from public.core_settings`),
    );
    expect(row).toEqual({ on: true, by: 'alice' });
    const settings = (await tc.gql(SecuritySettingsDocument, {}, admin)).data!.securitySettings;
    expect(settings).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice' });
  });
});

describe.skipIf(databaseKind() !== 'postgres')(
  "two database roles on PostgreSQL: the server's role cannot undo the security switch (skipped on the embedded database, which has no roles: set DATABASE_URL)",
  () => {
    const adminUrl = databaseKind() === 'postgres' ? inject('postgresAdminUrl') : '';
    // Unique per run: several runs may share the server. The database matches the run's leftover sweep.
    const suffix = `${inject('runId')}_${randomBytes(4).toString('hex')}`;
    const names = { database: `certfleet_roles_${suffix}`, owner: `certfleet_o_${suffix}`, server: `certfleet_s_${suffix}` };
    const extraRole = `certfleet_x_${suffix}`;
    const urlOf = (role: string) => {
      const u = new URL(adminUrl);
      u.username = role;
      u.password = '';
      u.pathname = `/${names.database}`;
      return u.toString();
    };
    let admin: postgres.Sql;
    let adminInDb: postgres.Sql;
    let asServer: postgres.Sql;
    let tc: TestCore;
    let token: string;
    const agents: TestAgent[] = [];

    // Replicas with DATA_DIRs of their own share the CA through its passphrase.
    const CA_KEY_PASSPHRASE = 'roles-test-passphrase';
    const startTwoRoleCore = (serverRole = names.server) =>
      startTestCore({ databaseUrl: urlOf(serverRole), env: { DATABASE_MIGRATION_URL: urlOf(names.owner), CA_KEY_PASSPHRASE } });

    beforeAll(async () => {
      admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      // The same SQL `npm run db:roles` prints for an operator.
      const setup = rolesSetupSql(names);
      for (const statement of setup.cluster) await admin.unsafe(statement);
      const u = new URL(adminUrl);
      u.pathname = `/${names.database}`;
      adminInDb = postgres(u.toString(), { max: 1, onnotice: () => {} });
      for (const statement of setup.database) await adminInDb.unsafe(statement);
      tc = await startTwoRoleCore();
      token = await tc.token('alice', ['SECURITY_ADMIN']);
      asServer = postgres(urlOf(names.server), { max: 1, onnotice: () => {} });
    });

    afterAll(async () => {
      for (const a of agents) a.close();
      await asServer?.end();
      await tc?.close();
      await adminInDb?.end();
      if (admin) {
        await admin.unsafe(`drop database if exists "${names.database}" with (force)`);
        for (const role of [names.server, names.owner, extraRole]) await admin.unsafe(`drop role if exists "${role}"`);
        await admin.end();
      }
    });

    it("the core runs as the server's role, and the owner role owns every table", async () => {
      const [who] = rowsOf<{ role: string }>(await tc.core.database.db.execute(sql`select current_user as role`));
      expect(who!.role).toBe(names.server);
      const owners = await adminInDb<{ owner: string; tables: number }[]>`
        select pg_get_userbyid(relowner) as owner, count(*)::int as tables from pg_class
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'S') group by 1`;
      expect(owners.map((o) => o.owner)).toEqual([names.owner]);
      expect(owners[0]!.tables).toBeGreaterThan(10);
      const owned = await adminInDb<{ n: number }[]>`
        select (select count(*) from pg_class where relowner = r.oid)
             + (select count(*) from pg_proc where proowner = r.oid)
             + (select count(*) from pg_namespace where nspowner = r.oid)
             + (select count(*) from pg_database where datdba = r.oid) as n
        from pg_roles r where rolname = ${names.server}`;
      expect(Number(owned[0]!.n)).toBe(0);
      expect(logsWith(tc.logs, `"${names.owner}" owns the tables`)).toHaveLength(1);
    });

    it('grants exactly the row privileges: SELECT, UPDATE on core_settings, SELECT on the migrations, no TRUNCATE, no sequences', async () => {
      const privileges = await adminInDb<{ relname: string; privileges: string }[]>`
        select c.relname,
          coalesce(string_agg(p.privilege, ',' order by p.privilege) filter (where p.privilege is not null), '') as privileges
        from pg_class c
        left join lateral (
          select privilege from unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) as privilege
          where c.relkind <> 'S' and has_table_privilege(${names.server}::name, c.oid, privilege)
          union all
          select privilege from unnest(array['USAGE','UPDATE']) as privilege
          where c.relkind = 'S' and has_sequence_privilege(${names.server}::name, c.oid, privilege)
        ) p on true
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'S')
        group by c.relname`;
      const byTable = Object.fromEntries(privileges.map((p) => [p.relname, p.privileges]));
      expect(byTable.core_settings).toBe('SELECT,UPDATE');
      expect(byTable.certfleet_migrations).toBe('SELECT');
      expect(byTable.devices).toBe('DELETE,INSERT,SELECT,UPDATE');
      expect(byTable.devices_id_seq).toBe('');
      for (const [table, granted] of Object.entries(byTable)) {
        expect(granted, table).not.toMatch(/TRUNCATE|TRIGGER|REFERENCES/);
      }
    });

    it('works end to end under the restricted role: import, trigram search, live summary over LISTEN/NOTIFY, an agent connecting', async () => {
      const live = subscribeLive<Summary>(tc.url, { authorization: `Bearer ${token}` }, SUMMARY);
      try {
        const first = await live.until(() => true, 10_000, 'the current summary');
        const imported = await tc.gql(
          RegisterDevicesDocument,
          { devices: [1, 2, 3].map((n) => ({ name: `ROLES-WS-${n}`, agentId: `roles-ws-${n}`, agentVersion: '2024.1' })) },
          token,
        );
        expect(imported.errors).toBeUndefined();
        expect(imported.data!.registerDevices).toHaveLength(3);
        const found = await tc.gql(DevicesDocument, { filter: { search: 'les-ws-2' }, first: 10 }, token);
        expect(found.data!.devices.edges.map((e) => e.node.agentId)).toEqual(['roles-ws-2']);
        const total = first.authStatusSummaryChanged.total;
        await live.until((m) => m.authStatusSummaryChanged.total === total + 3, 10_000, 'the summary after the import');

        const agent = createAgent({
          gatewayUrl: tc.core.agentUrl,
          caCertificatePem: tc.core.authority.certificatePem,
          agentId: 'roles-agent',
          deviceName: 'ROLES-AGENT',
        });
        agents.push(agent);
        const enrolled = await agent.enroll();
        expect(enrolled.status).toBe(202);
        const requestId = (enrolled.body as { requestId: string }).requestId;
        const approved = await tc.gql(ApproveClientDocument, { id: requestId }, token);
        expect(approved.errors).toBeUndefined();
        const polled = (await agent.poll(requestId)).body as { status: string; certificatePem: string };
        expect(polled.status).toBe('APPROVED');
        agent.useCertificate(polled.certificatePem);
        const connected = await agent.connect();
        expect([connected.status, connected.body]).toEqual([200, { status: 'AUTHENTICATION_SUCCEEDED', reason: null }]);
        await live.until((m) => m.authStatusSummaryChanged.succeeded === 1, 10_000, 'the summary after the agent connected');
      } finally {
        live.dispose();
      }
    });

    it("once security is on, the server's role cannot turn it off: every way round the trigger is refused", async () => {
      const enabled = await tc.gql(EnableSecurityDocument, { confirm: true }, token);
      expect(enabled.errors).toBeUndefined();
      expect(enabled.data!.enableClientCertificateSecurity).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice' });

      const attempts: { what: string; run: () => Promise<unknown>; code: string; message: RegExp }[] = [
        { what: 'disable the trigger', run: () => asServer`alter table core_settings disable trigger all`, code: '42501', message: /must be owner/ },
        { what: 'replica mode', run: () => asServer`set session_replication_role = replica`, code: '42501', message: /permission denied/ },
        {
          what: 'replica mode for its own sessions',
          run: () => asServer.unsafe(`alter role "${names.server}" set session_replication_role = replica`),
          code: '42501',
          message: /permission denied/,
        },
        {
          what: 'update the switch',
          run: () => asServer`update core_settings set client_certificate_security_enabled = false`,
          code: '23514',
          message: /cannot be disabled/,
        },
        { what: 'truncate', run: () => asServer`truncate core_settings`, code: '42501', message: /permission denied/ },
        { what: 'delete the row', run: () => asServer`delete from core_settings`, code: '42501', message: /permission denied/ },
        {
          what: 'drop the trigger',
          run: () => asServer`drop trigger core_settings_security_is_irreversible on core_settings`,
          code: '42501',
          message: /must be owner/,
        },
        {
          what: 'replace the trigger function',
          run: () =>
            asServer.unsafe(
              `create or replace function certfleet_refuse_security_disable() returns trigger language plpgsql as $$ begin return new; end $$`,
            ),
          code: '42501',
          message: /must be owner|permission denied/,
        },
        {
          what: 'a schema of its own, first on its search path',
          run: () => asServer.unsafe(`create schema "${names.server}"`),
          code: '42501',
          message: /permission denied/,
        },
        { what: 'a temporary table', run: () => asServer`create temporary table core_settings (x int)`, code: '42501', message: /permission denied/ },
        { what: 'become the owner', run: () => asServer.unsafe(`set role "${names.owner}"`), code: '42501', message: /permission denied/ },
      ];
      for (const attempt of attempts) {
        const refused = await refusal(attempt.run);
        expect(refused, attempt.what).toBeDefined();
        expect(refused!.code, `${attempt.what}: ${refused!.message}`).toBe(attempt.code);
        expect(refused!.message, attempt.what).toMatch(attempt.message);
      }

      const [row] = await adminInDb<{ on: boolean; by: string }[]>`
        select client_certificate_security_enabled as on, enabled_by as by from core_settings`;
      expect(row).toEqual({ on: true, by: 'alice' });
      const [role] = await adminInDb<{ value: string | null }[]>`
        select (select setconfig::text from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = ${names.server}) as value`;
      expect(role!.value).toBeNull();
      const settings = (await tc.gql(SecuritySettingsDocument, {}, token)).data!.securitySettings;
      expect(settings).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice' });
    });

    it('grants again on every start, idempotently, and the switch stays on', async () => {
      tc = await tc.restart();
      token = await tc.token('alice', ['SECURITY_ADMIN']);
      const settings = (await tc.gql(SecuritySettingsDocument, {}, token)).data!.securitySettings;
      expect(settings).toMatchObject({ clientCertificateSecurityEnabled: true, enabledBy: 'alice' });
      expect(await refusal(() => asServer`truncate core_settings`)).toMatchObject({ code: '42501' });
      const devices = await tc.gql(DevicesDocument, { filter: { search: 'roles-ws' }, first: 10 }, token);
      expect(devices.data!.devices.totalCount).toBe(3);
    });

    it('with DATABASE_URL alone, as the role that owns the tables, the core starts as before and warns that the role could undo the switch', async () => {
      const one = await startTestCore({ databaseUrl: urlOf(names.owner), env: { CA_KEY_PASSPHRASE } });
      try {
        const settings = (await one.gql(SecuritySettingsDocument, {}, await one.token('bob', ['VIEWER']))).data!.securitySettings;
        expect(settings.clientCertificateSecurityEnabled).toBe(true);
        const warnings = logsWith(one.logs, 'protected against the code', 'warn');
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.msg).toContain(`"${names.owner}" owns the tables`);
      } finally {
        await one.close();
      }
    });

    it("a replica with DATABASE_URL alone starts when nothing is pending, and says to use the owner when something is", async () => {
      const alone = await startTestCore({ databaseUrl: urlOf(names.server), env: { CA_KEY_PASSPHRASE } });
      try {
        const settings = (await alone.gql(SecuritySettingsDocument, {}, await alone.token('bob', ['VIEWER']))).data!.securitySettings;
        expect(settings.clientCertificateSecurityEnabled).toBe(true);
        expect(alone.logs.some((l) => l.includes('protected against the code'))).toBe(false);
      } finally {
        await alone.close();
      }

      // Forget the newest migration, as the owner: the server's role alone may not apply it again.
      const owner = postgres(urlOf(names.owner), { max: 1, onnotice: () => {} });
      try {
        const [newest] = await owner<{ created_at: string; hash: string }[]>`
          delete from certfleet_migrations where created_at = (select max(created_at) from certfleet_migrations) returning created_at, hash`;
        const err = await startTestCore({ databaseUrl: urlOf(names.server), env: { CA_KEY_PASSPHRASE } }).then(
          async (unexpected) => {
            await unexpected.close();
            return undefined;
          },
          (e: Error) => e,
        );
        await owner`insert into certfleet_migrations (created_at, hash) values (${newest!.created_at}, ${newest!.hash})`;
        expect(err).toBeInstanceOf(ConfigError);
        expect(err!.message).toMatch(/may not apply it.*DATABASE_MIGRATION_URL/);
        expect(err!.message).not.toContain('\n');
      } finally {
        await owner.end();
      }
    });

    it('refuses to start with a server role that could undo the switch, and changes nothing', async () => {
      await admin.unsafe(`create role "${extraRole}" login nosuperuser nocreatedb nocreaterole`);
      await admin.unsafe(`grant connect, create on database "${names.database}" to "${extraRole}"`);
      const before = await adminInDb<{ acl: string }[]>`select relacl::text as acl from pg_class where oid = 'devices'::regclass`;

      const cases: { role: string; reason: RegExp }[] = [
        { role: extraRole, reason: /could turn the security model off: it may CREATE in the database/ },
        { role: new URL(adminUrl).username || 'postgres', reason: /could turn the security model off: it is a superuser/ },
        // Caught by the configuration already: the two URLs name one role.
        { role: names.owner, reason: /DATABASE_MIGRATION_URL must name another role than DATABASE_URL/ },
      ];
      for (const c of cases) {
        const err = await startTwoRoleCore(c.role).then(
          async (unexpected) => {
            await unexpected.close();
            return undefined;
          },
          (e: Error) => e,
        );
        expect(err, c.role).toBeInstanceOf(ConfigError);
        expect(err!.message, c.role).toMatch(c.reason);
      }

      // A privilege granted behind the core's back (here to PUBLIC) is found, not silently kept.
      await adminInDb`grant truncate on core_settings to public`;
      const err = await startTwoRoleCore().then(
        async (unexpected) => {
          await unexpected.close();
          return undefined;
        },
        (e: Error) => e,
      );
      await adminInDb`revoke truncate on core_settings from public`;
      expect(err).toBeInstanceOf(ConfigError);
      expect(err!.message).toMatch(/TRUNCATE on core_settings/);

      const after = await adminInDb<{ acl: string }[]>`select relacl::text as acl from pg_class where oid = 'devices'::regclass`;
      expect(after).toEqual(before);
      expect(after[0]!.acl).not.toContain(extraRole);
    });
  },
);
