import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import {
  DatabaseUnavailableError,
  describeDatabaseError,
  isDatabaseUnavailable,
  isStatementCancelled,
} from '../../../src/db/errors.js';
import { AppError, fromDatabaseError } from '../../../src/services/app-error.js';

// What postgres.js throws: socket errors and its own connection errors carry `code`; a server
// error is a PostgresError whose `code` is the SQLSTATE.
const withCode = (code: string, message = `failed: ${code}`): Error => Object.assign(new Error(message), { code });
const serverError = (code: string, message = `server said ${code}`): Error =>
  Object.assign(new Error(message), { name: 'PostgresError', code, severity: 'FATAL' });
// Drizzle wraps every driver error in "Failed query: …" with the driver's error as cause.
const wrapped = (cause: unknown): Error => new DrizzleQueryError('select id from devices where name = $1', ['secret-name'], cause as Error);

describe('isDatabaseUnavailable', () => {
  it.each([
    { name: 'a refused connection (ECONNREFUSED)', err: withCode('ECONNREFUSED') },
    { name: 'a reset connection (ECONNRESET)', err: withCode('ECONNRESET') },
    { name: 'a broken pipe (EPIPE)', err: withCode('EPIPE') },
    { name: 'an unreachable host (EHOSTUNREACH)', err: withCode('EHOSTUNREACH') },
    { name: 'a host name that does not resolve (ENOTFOUND)', err: withCode('ENOTFOUND') },
    { name: "postgres.js's CONNECTION_CLOSED", err: withCode('CONNECTION_CLOSED') },
    { name: "postgres.js's CONNECTION_ENDED", err: withCode('CONNECTION_ENDED') },
    { name: "postgres.js's CONNECTION_DESTROYED", err: withCode('CONNECTION_DESTROYED') },
    { name: "postgres.js's CONNECT_TIMEOUT", err: withCode('CONNECT_TIMEOUT') },
    { name: 'SQLSTATE 08006 connection_failure', err: serverError('08006') },
    { name: 'SQLSTATE 08001 sqlclient_unable_to_establish_sqlconnection', err: serverError('08001') },
    { name: 'SQLSTATE 08P01 protocol_violation (class 08)', err: serverError('08P01') },
    { name: 'SQLSTATE 57P01 admin_shutdown (a restart)', err: serverError('57P01') },
    { name: 'SQLSTATE 57P02 crash_shutdown', err: serverError('57P02') },
    { name: 'SQLSTATE 57P03 cannot_connect_now (starting up)', err: serverError('57P03') },
    { name: 'SQLSTATE 53300 too_many_connections', err: serverError('53300') },
    { name: 'a driver error wrapped by drizzle', err: wrapped(withCode('ECONNREFUSED')) },
    { name: 'a server error wrapped by drizzle', err: wrapped(serverError('57P01')) },
    { name: 'a cause three levels down', err: new Error('outer', { cause: new Error('middle', { cause: withCode('CONNECTION_CLOSED') }) }) },
    { name: 'one part of an AggregateError (a connect to several addresses)', err: new AggregateError([new Error('x'), withCode('ECONNREFUSED')], 'all failed') },
    { name: 'our own DatabaseUnavailableError', err: new DatabaseUnavailableError('the database did not answer') },
  ])('true for $name', ({ err }) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  const cyclic = new Error('a');
  (cyclic as { cause?: unknown }).cause = new Error('b', { cause: cyclic });

  it.each([
    { name: 'a unique violation (23505)', err: wrapped(serverError('23505')) },
    { name: 'a cancelled statement (57014): too long, not away', err: wrapped(serverError('57014')) },
    { name: 'a deadlock (40P01)', err: serverError('40P01') },
    { name: 'a syntax error (42601)', err: serverError('42601') },
    { name: 'a file error (ENOENT)', err: withCode('ENOENT') },
    { name: 'an error whose message only mentions ECONNREFUSED', err: new Error('connect ECONNREFUSED 127.0.0.1:5432') },
    { name: 'a numeric code', err: Object.assign(new Error('x'), { code: 8006 }) },
    { name: 'an AppError', err: new AppError('CONFLICT', 'taken') },
    { name: 'a plain Error', err: new Error('boom') },
    { name: 'a cyclic cause chain', err: cyclic },
    { name: 'null', err: null },
    { name: 'a string', err: 'ECONNREFUSED' },
  ])('false for $name', ({ err }) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });

  it('classifies what postgres.js and drizzle really throw when nothing listens at the address', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = postgres(`postgres://nobody@127.0.0.1:${port}/none`, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      const direct = await client`select 1`.then(() => null, (e: unknown) => e);
      const viaDrizzle = await drizzle({ client }).execute(sql`select 1`).then(() => null, (e: unknown) => e);
      expect(direct).toMatchObject({ code: 'ECONNREFUSED' });
      expect(viaDrizzle).toBeInstanceOf(DrizzleQueryError);
      expect(isDatabaseUnavailable(direct)).toBe(true);
      expect(isDatabaseUnavailable(viaDrizzle)).toBe(true);
      expect(fromDatabaseError(viaDrizzle)?.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await client.end({ timeout: 1 });
    }
  });
});

describe('isStatementCancelled', () => {
  it('is true for 57014, directly or wrapped by drizzle', () => {
    expect(isStatementCancelled(serverError('57014', 'canceling statement due to statement timeout'))).toBe(true);
    expect(isStatementCancelled(wrapped(serverError('57014')))).toBe(true);
  });

  it.each([serverError('57P01'), withCode('ECONNRESET'), serverError('23505'), new Error('57014'), undefined])('is false for %s', (err) => {
    expect(isStatementCancelled(err)).toBe(false);
  });
});

describe('describeDatabaseError', () => {
  it("gives the driver's code and message and the SQL text, never the parameters", () => {
    const described = describeDatabaseError(wrapped(serverError('57014', 'canceling statement due to statement timeout\nmore')));
    expect(described).toEqual({
      dbCode: '57014',
      reason: 'canceling statement due to statement timeout',
      sql: 'select id from devices where name = $1',
    });
    expect(JSON.stringify(described)).not.toContain('secret-name');
  });

  it('works on an error without a code', () => {
    expect(describeDatabaseError(new Error('boom'))).toEqual({ reason: 'boom' });
  });
});

describe('fromDatabaseError', () => {
  it('a cancelled statement is QUERY_TIMEOUT, 503, saying what to do', () => {
    const err = fromDatabaseError(wrapped(serverError('57014')));
    expect(err).toBeInstanceOf(AppError);
    expect(err?.code).toBe('QUERY_TIMEOUT');
    expect(err?.httpStatus).toBe(503);
    expect(err?.message).toMatch(/fewer items .*narrower filter/);
  });

  it('the database away is SERVICE_UNAVAILABLE, 503', () => {
    const err = fromDatabaseError(wrapped(serverError('57P01')));
    expect(err?.code).toBe('SERVICE_UNAVAILABLE');
    expect(err?.httpStatus).toBe(503);
  });

  it.each([wrapped(serverError('23505')), new Error('boom'), new AppError('NOT_FOUND', 'no'), null])('leaves anything else alone: %s', (err) => {
    expect(fromDatabaseError(err)).toBeUndefined();
  });
});
