import { isMain } from './is-main.js';
import { parseArgs } from 'node:util';
import { rolesSetupSql } from '../db/database-roles.js';

const USAGE = `Usage: npm run -s db:roles -- [--database NAME] [--owner ROLE] [--server ROLE] [--existing]

Prints the SQL that creates certfleet's database and its two roles on a PostgreSQL server, for psql
run as a superuser:  npm run -s db:roles | psql -h HOST -U postgres -v ON_ERROR_STOP=1

  --database NAME   the database (default certfleet)
  --owner ROLE      owns the database and the tables; only migrations use it (default certfleet_owner)
  --server ROLE     the role the server runs as; it owns nothing (default certfleet_server)
  --existing        the database and its owner exist already (a deployment that ran with one role,
                    which stays the owner): create only the server role
  --help            show this help
`;

/** UsageError is a bad command line: it exits 2 instead of 1. */
class UsageError extends Error {}

/** runDbRolesCli prints the roles' SQL for the names on the command line and returns the exit code. */
export function runDbRolesCli(
  argv: string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
  err: (text: string) => void = (t) => process.stderr.write(t),
): number {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        database: { type: 'string', default: 'certfleet' },
        owner: { type: 'string', default: 'certfleet_owner' },
        server: { type: 'string', default: 'certfleet_server' },
        existing: { type: 'boolean', default: false },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const names = { database: values.database, owner: values.owner, server: values.server };
    let sql;
    try {
      sql = rolesSetupSql(names, { existing: values.existing });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    out(
      [
        `-- certfleet on PostgreSQL: database ${names.database}, owned by ${names.owner}; the server runs as ${names.server}.`,
        '-- Run as a superuser, e.g. psql -U postgres.',
        ...sql.cluster.map((s) => `${s};`),
        `\\connect ${names.database}`,
        ...sql.database.map((s) => `${s};`),
        '-- Then give both roles a password (\\password ROLE in psql) and start the core with',
        `--   DATABASE_MIGRATION_URL=postgres://${names.owner}:PASSWORD@HOST:5432/${names.database}`,
        `--   DATABASE_URL=postgres://${names.server}:PASSWORD@HOST:5432/${names.database}`,
        '-- At every start the owner applies the migrations and grants the server its row privileges.',
        '',
      ].join('\n'),
    );
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    err(`certfleet db:roles: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    const isUsage = e instanceof UsageError || String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    return isUsage ? 2 : 1;
  }
}

// Run only when executed directly, not when imported by a test.
if (isMain(import.meta.url)) {
  process.exitCode = runDbRolesCli(process.argv.slice(2));
}
