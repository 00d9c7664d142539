import { describe, expect, it } from 'vitest';
import { runDbRolesCli } from '../../../src/cli/db-roles.js';

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = runDbRolesCli(argv, (t) => (stdout += t), (t) => (stderr += t));
  return { code, stdout, stderr };
}

describe('db:roles CLI', () => {
  it('prints the roles, the database and its grants for psql, with the two URLs to set', () => {
    const { code, stdout, stderr } = run(['--database', 'fleet', '--owner', 'fleet_owner', '--server', 'fleet_app']);
    expect([code, stderr]).toEqual([0, '']);
    const statements = stdout.split('\n').filter((l) => l !== '' && !l.startsWith('--'));
    expect(statements).toEqual([
      'CREATE ROLE "fleet_owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;',
      'CREATE ROLE "fleet_app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;',
      'CREATE DATABASE "fleet" OWNER "fleet_owner";',
      'REVOKE ALL ON DATABASE "fleet" FROM PUBLIC;',
      'GRANT CONNECT ON DATABASE "fleet" TO "fleet_app";',
      '\\connect fleet',
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC;',
      'CREATE EXTENSION IF NOT EXISTS pg_trgm;',
    ]);
    expect(stdout).toContain('DATABASE_MIGRATION_URL=postgres://fleet_owner:PASSWORD@HOST:5432/fleet');
    expect(stdout).toContain('DATABASE_URL=postgres://fleet_app:PASSWORD@HOST:5432/fleet');
  });

  it('--existing creates only the server role for a database that ran with one role', () => {
    const { code, stdout } = run(['--existing', '--owner', 'certfleet']);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/CREATE DATABASE|CREATE ROLE "certfleet" /);
    expect(stdout).toContain('CREATE ROLE "certfleet_server"');
  });

  it.each([
    { name: 'a name that would end the identifier', argv: ['--server', 'app"; DROP DATABASE x; --'] },
    { name: 'an upper-case name', argv: ['--owner', 'Owner'] },
    { name: 'one role for both', argv: ['--owner', 'app', '--server', 'app'] },
    { name: 'an unknown option', argv: ['--superuser'] },
  ])('refuses $name with exit code 2 and prints no SQL', ({ argv }) => {
    const { code, stdout, stderr } = run(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^certfleet db:roles: .+\n$/);
  });
});
