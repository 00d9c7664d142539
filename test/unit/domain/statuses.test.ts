import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REVOCATION_REASONS } from '../../../src/domain/revocation.js';
import {
  AUTH_STATUSES,
  CLIENT_CERTIFICATE_STATUSES,
  CONNECTION_SOURCES,
  FAILURE_REASONS,
  STATUS_LABELS,
  UNVERIFIED_REASONS,
} from '../../../src/domain/statuses.js';
import * as enums from '../../../src/schema/enums.js';

const migrations = join(import.meta.dirname, '..', '..', '..', 'drizzle');
const sql = readdirSync(migrations)
  .filter((f) => f.endsWith('.sql'))
  .map((f) => readFileSync(join(migrations, f), 'utf8'))
  .join('\n');
const inList = (values: readonly string[]) => `in (${values.map((v) => `'${v}'`).join(', ')})`;

describe('the GraphQL enums are the domain lists', () => {
  it.each([
    ['AuthenticationStatus', enums.AuthenticationStatus, AUTH_STATUSES],
    ['ConnectionSource', enums.ConnectionSource, CONNECTION_SOURCES],
    ['AuthenticationFailureReason', enums.AuthenticationFailureReason, FAILURE_REASONS],
    ['ClientCertificateStatus', enums.ClientCertificateStatus, CLIENT_CERTIFICATE_STATUSES],
    ['RevocationReason', enums.RevocationReason, REVOCATION_REASONS],
    ['UnverifiedReason', enums.UnverifiedReason, UNVERIFIED_REASONS],
  ])('%s', (_name, enumObject, values) => {
    expect(Object.keys(enumObject)).toEqual([...values]);
  });
});

describe("the database's check constraints are the domain lists (a new word needs a migration)", () => {
  it.each([
    ['devices_auth_status_check', AUTH_STATUSES],
    ['auth_status_counters_status_check', AUTH_STATUSES],
    ['connection_results_source_check', CONNECTION_SOURCES],
    ['client_certificates_status_check', CLIENT_CERTIFICATE_STATUSES],
    ['connection_results_unverified_check', UNVERIFIED_REASONS],
  ])('%s', (constraint, values) => {
    const line = sql.split('\n').find((l) => l.includes(`"${constraint}"`));
    expect(line).toBeDefined();
    expect(line).toContain(inList(values));
  });
});

describe('STATUS_LABELS', () => {
  it('labels every chart item, each differently', () => {
    expect(Object.keys(STATUS_LABELS).sort()).toEqual([...AUTH_STATUSES].sort());
    expect(new Set(Object.values(STATUS_LABELS)).size).toBe(AUTH_STATUSES.length);
  });
});
