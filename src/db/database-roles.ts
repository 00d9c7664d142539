import { tmpdir } from 'node:os';
import { sql } from 'drizzle-orm';
import { ConfigError } from '../config.js';
import { openDatabase, type Database, type DbExecutor, type Tx } from './client.js';
import { migrate } from './migrate.js';
import { rowsOf } from './rows.js';

// On a PostgreSQL server the tables belong to an owner role that only migrates; the server runs as a
// role that owns nothing, so that it cannot disable the trigger that keeps the security switch on.

/** ServerRolePrivileges lists, per table, what the server's role may do; any table not named gets DEFAULT_TABLE_PRIVILEGES. */
export const SERVER_ROLE_PRIVILEGES: Record<string, readonly string[]> = {
  // The switch's row is read and updated (enabling it, the core device); never inserted or deleted.
  core_settings: ['SELECT', 'UPDATE'],
  // Read so that a replica started with DATABASE_URL alone can tell that nothing is left to apply.
  certfleet_migrations: ['SELECT'],
};
const DEFAULT_TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;
const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;

/** MigrationOutcome says what applyMigrations did and how far the server's role is kept from the switch. */
export interface MigrationOutcome {
  applied: number;
  /** The role the server runs as (DATABASE_URL's user); undefined on the embedded database. */
  serverRole?: string;
  /** The owner role that migrated and granted, when DATABASE_MIGRATION_URL is set. */
  ownerRole?: string;
  /** True when the server's own role owns the tables (or is a superuser): the trigger guards against the code, not against this role. */
  serverRoleCanUndoSwitch: boolean;
}

/**
 * applyMigrations brings the server's database up to date. With migrationUrl (the owner role) it
 * migrates through a connection of its own, checks that the server's role could not undo the security
 * switch, grants it its row privileges in the same transaction, and closes that connection; without,
 * it migrates through the server's connection as before.
 */
export async function applyMigrations(database: Database, migrationUrl: string | undefined): Promise<MigrationOutcome> {
  if (database.kind !== 'postgres') {
    const { applied } = await migrate(database.db);
    return { applied, serverRoleCanUndoSwitch: false };
  }
  const serverRole = await currentRole(database.db);
  if (migrationUrl === undefined) {
    const { applied } = await migrate(database.db);
    return { applied, serverRole, serverRoleCanUndoSwitch: await ownsSwitch(database.db) };
  }
  const owner = await openDatabase({ dataDir: tmpdir(), databaseUrl: migrationUrl, poolSize: 1 });
  try {
    const ownerRole = await currentRole(owner.db);
    const { applied } = await migrate(owner.db, { afterApply: (tx) => grantServerRole(tx, serverRole) });
    return { applied, serverRole, ownerRole, serverRoleCanUndoSwitch: false };
  } finally {
    await owner.close();
  }
}

/** currentRole names the role a connection acts as: the user of its URL. */
export async function currentRole(db: DbExecutor): Promise<string> {
  const [row] = rowsOf<{ role: string }>(await db.execute(sql`select current_user as role`));
  return row!.role;
}

async function ownsSwitch(db: DbExecutor): Promise<boolean> {
  const [row] = rowsOf<{ owns: boolean }>(
    await db.execute(sql`
      select (select rolsuper from pg_roles where rolname = current_user)
          or pg_has_role(current_user, c.relowner, 'MEMBER') as owns
      from pg_class c where c.oid = to_regclass('core_settings')`),
  );
  return row?.owns === true;
}

/**
 * grantServerRole runs as the owner, inside the migration transaction (under its lock, so replicas
 * starting together do not grant at once): it refuses a server role that could undo the security
 * switch, then sets its privileges on every table afresh (new tables included) and checks that no
 * other grant (to PUBLIC, or by another role) gives it more. Identity columns need no sequence
 * privilege (INSERT on the table draws their values), so the server gets none.
 */
export async function grantServerRole(tx: Tx, role: string): Promise<void> {
  const schema = await schemaOfTables(tx);
  const powers = await powersOf(tx, role, schema);
  if (powers.length > 0) {
    throw new ConfigError(
      `the role of DATABASE_URL ("${role}") could turn the security model off: it ${powers.join('; it ')}. ` +
        'Run the server as a role that owns nothing (README.md, Security)',
    );
  }
  const r = sql.identifier(role);
  const s = sql.identifier(schema);
  await tx.execute(sql`revoke all on all tables in schema ${s} from ${r}`);
  await tx.execute(sql`revoke all on all sequences in schema ${s} from ${r}`);
  await tx.execute(sql`grant ${sql.raw(DEFAULT_TABLE_PRIVILEGES.join(', '))} on all tables in schema ${s} to ${r}`);
  for (const [table, allowed] of Object.entries(SERVER_ROLE_PRIVILEGES)) {
    const denied = DEFAULT_TABLE_PRIVILEGES.filter((p) => !allowed.includes(p));
    if (denied.length > 0) await tx.execute(sql`revoke ${sql.raw(denied.join(', '))} on table ${s}.${sql.identifier(table)} from ${r}`);
  }
  // The history's partitions are made and dropped by the owner's functions (drizzle/0009), revoked
  // from PUBLIC: the server may call them, as it may delete history rows.
  await tx.execute(sql`revoke all on function ${s}.certfleet_prepare_connection_history(timestamptz, timestamptz, integer) from ${r}`);
  await tx.execute(sql`revoke all on function ${s}.certfleet_drop_connection_history(timestamptz) from ${r}`);
  await tx.execute(sql`grant execute on function ${s}.certfleet_prepare_connection_history(timestamptz, timestamptz, integer) to ${r}`);
  await tx.execute(sql`grant execute on function ${s}.certfleet_drop_connection_history(timestamptz) to ${r}`);
  // Only the schema's owner may grant on it (on PostgreSQL 15 and later the database owner owns
  // "public"); elsewhere PUBLIC's USAGE, or the operator's grant, lets the server in.
  const [usage] = rowsOf<{ grantable: boolean }>(
    await tx.execute(sql`select has_schema_privilege(current_user, ${schema}, 'USAGE WITH GRANT OPTION') as grantable`),
  );
  if (usage?.grantable) await tx.execute(sql`grant usage on schema ${s} to ${r}`);

  const excess = await excessPrivileges(tx, role, schema);
  if (excess.length > 0) {
    throw new ConfigError(
      `the role of DATABASE_URL ("${role}") holds privileges the core does not grant: ${excess.join(', ')} ` +
        '(granted to PUBLIC or by another role); revoke them (README.md, Security)',
    );
  }
}

async function schemaOfTables(tx: Tx): Promise<string> {
  const [row] = rowsOf<{ schema: string | null }>(
    await tx.execute(sql`
      select n.nspname as schema from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = to_regclass('core_settings')`),
  );
  if (!row?.schema) throw new Error('core_settings is missing after migrating');
  return row.schema;
}

// Each power is a way round the trigger: own (or act as the owner of) a table, the trigger function,
// the schema or the database; create a schema or objects that would come first on the server's
// search path; be a superuser, or make oneself a member of the owner (CREATEROLE); or set
// session_replication_role, which turns triggers off (PostgreSQL 15 lets a superuser grant that).
async function powersOf(tx: Tx, role: string, schema: string): Promise<string[]> {
  const [row] = rowsOf<{
    found: boolean;
    is_owner: boolean;
    superuser: boolean;
    createrole: boolean;
    owns_tables: boolean;
    owns_functions: boolean;
    owns_schema: boolean;
    owns_database: boolean;
    creates_in_database: boolean;
    creates_in_schemas: string[] | null;
    version: number;
  }>(
    await tx.execute(sql`
      with r as (select oid, rolsuper, rolcreaterole from pg_roles where rolname = ${role}),
           ns as (select oid, nspowner from pg_namespace where nspname = ${schema})
      select exists (select 1 from r) as found,
        coalesce((select oid = (select oid from pg_roles where rolname = current_user) from r), false) as is_owner,
        coalesce((select rolsuper from r), false) as superuser,
        coalesce((select rolcreaterole from r), false) as createrole,
        exists (select 1 from r, ns, pg_class c
                where c.relnamespace = ns.oid and pg_has_role(r.oid, c.relowner, 'MEMBER')) as owns_tables,
        exists (select 1 from r, ns, pg_proc p
                where p.pronamespace = ns.oid and pg_has_role(r.oid, p.proowner, 'MEMBER')) as owns_functions,
        exists (select 1 from r, ns where pg_has_role(r.oid, ns.nspowner, 'MEMBER')) as owns_schema,
        exists (select 1 from r, pg_database d
                where d.datname = current_database() and pg_has_role(r.oid, d.datdba, 'MEMBER')) as owns_database,
        exists (select 1 from r where has_database_privilege(r.oid, current_database(), 'CREATE')) as creates_in_database,
        (select array_agg(n.nspname order by n.nspname) from r, pg_namespace n
         where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
           and has_schema_privilege(r.oid, n.oid, 'CREATE')) as creates_in_schemas,
        current_setting('server_version_num')::int as version`),
  );
  if (!row?.found) return [`does not exist on the server the owner's URL points at`];
  if (row.is_owner) return ['is the same role as DATABASE_MIGRATION_URL, the owner of the tables'];
  const powers: string[] = [];
  if (row.superuser) powers.push('is a superuser');
  if (row.createrole) powers.push('has CREATEROLE (it could make itself a member of the owner)');
  if (row.owns_tables) powers.push(`owns tables in schema ${schema}, or is a member of their owner`);
  if (row.owns_functions) powers.push(`owns functions in schema ${schema}, or is a member of their owner`);
  if (row.owns_schema) powers.push(`owns schema ${schema}`);
  if (row.owns_database) powers.push('owns the database');
  if (row.creates_in_database) powers.push('may CREATE in the database (a schema of its own would come first on its search path)');
  if (row.creates_in_schemas?.length) powers.push(`may CREATE in schema ${row.creates_in_schemas.join(', ')}`);
  // has_parameter_privilege exists from PostgreSQL 15, the first that lets the right be granted.
  if (Number(row.version) >= 150000) {
    const [param] = rowsOf<{ sets: boolean }>(
      await tx.execute(sql`select has_parameter_privilege(${role}::name, 'session_replication_role', 'SET') as sets`),
    );
    if (param?.sets) powers.push('may SET session_replication_role (which turns triggers off)');
  }
  return powers;
}

async function excessPrivileges(tx: Tx, role: string, schema: string): Promise<string[]> {
  const rows = rowsOf<{ relname: string; relkind: string; privilege: string }>(
    await tx.execute(sql`
      select c.relname, c.relkind, p.privilege
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace and n.nspname = ${schema}
      cross join unnest(array[${sql.join(
        TABLE_PRIVILEGES.map((p) => sql`${p}`),
        sql`, `,
      )}]::text[]) as p(privilege)
      where c.relkind in ('r', 'p', 'v', 'm', 'f') and has_table_privilege(${role}::name, c.oid, p.privilege)
      union all
      select c.relname, c.relkind, p.privilege
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace and n.nspname = ${schema}
      cross join unnest(array['USAGE', 'UPDATE']::text[]) as p(privilege)
      where c.relkind = 'S' and has_sequence_privilege(${role}::name, c.oid, p.privilege)`),
  );
  return rows
    .filter((x) => {
      if (x.relkind === 'S') return true;
      const allowed: readonly string[] = SERVER_ROLE_PRIVILEGES[x.relname] ?? DEFAULT_TABLE_PRIVILEGES;
      return !allowed.includes(x.privilege);
    })
    .map((x) => `${x.privilege} on ${x.relname}`);
}

/** RoleNames names the database and the two roles of a deployment on a PostgreSQL server. */
export interface RoleNames {
  database: string;
  /** Owns the database and the tables; only migrations connect as it (DATABASE_MIGRATION_URL). */
  owner: string;
  /** The role the server runs as (DATABASE_URL): it owns nothing and the core grants it row privileges. */
  server: string;
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * rolesSetupSql is what an administrator runs once for a deployment with two roles: `cluster` on any
 * database of the server, then `database` connected to the certfleet database. existing: the
 * database and its owner are there already (a deployment that ran with one role, which stays the owner).
 */
export function rolesSetupSql(names: RoleNames, opts: { existing?: boolean } = {}): { cluster: string[]; database: string[] } {
  for (const [what, name] of Object.entries(names)) {
    if (!ROLE_NAME.test(name)) {
      throw new RangeError(`${what} must be a lower-case SQL name: a letter or _, then letters, digits or _ (got "${name}")`);
    }
  }
  if (names.owner === names.server) throw new RangeError('the owner and the server must be two different roles');
  const database = `"${names.database}"`;
  const owner = `"${names.owner}"`;
  const server = `"${names.server}"`;
  return {
    cluster: [
      ...(opts.existing ? [] : [`CREATE ROLE ${owner} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`]),
      `CREATE ROLE ${server} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`,
      ...(opts.existing ? [] : [`CREATE DATABASE ${database} OWNER ${owner}`]),
      // PUBLIC loses TEMPORARY and CONNECT; the owner keeps every right as the database's owner.
      `REVOKE ALL ON DATABASE ${database} FROM PUBLIC`,
      `GRANT CONNECT ON DATABASE ${database} TO ${server}`,
    ],
    database: [
      // The default from PostgreSQL 15; before, every role could create objects in "public".
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC',
      // From PostgreSQL 13 pg_trgm is trusted and the owner's first migration creates it; before, only a superuser may.
      'CREATE EXTENSION IF NOT EXISTS pg_trgm',
    ],
  };
}
