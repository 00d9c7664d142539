import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../../src/db/errors.js';
import {
  AppError,
  badInput,
  fromDatabaseError,
  notFound,
  RETRY_AFTER_SECONDS,
  type AppErrorCode,
} from '../../../src/services/app-error.js';

// A driver failure as drizzle hands it on: "Failed query: <sql>" with its parameters, the driver's error as cause.
const SQL_TEXT = 'select "id" from "devices" where "name" ilike $1';
const PARAMETER = '%hunter2-secret-filter%';
const failed = (cause: Error) => new DrizzleQueryError(SQL_TEXT, [PARAMETER], cause);
const withCode = (code: string, message = `driver says ${code} near ${PARAMETER}`) => Object.assign(new Error(message), { code });

describe('AppError', () => {
  it.each<[AppErrorCode, number]>([
    ['UNAUTHENTICATED', 401],
    ['FORBIDDEN', 403],
    ['BAD_USER_INPUT', 400],
    ['CSR_INVALID', 400],
    ['NOT_FOUND', 404],
    ['CONFLICT', 409],
    ['REQUEST_NOT_PENDING', 409],
    ['TOO_MANY_PENDING_REQUESTS', 429],
    ['PENDING_REQUESTS_FULL', 429],
    ['ENROLLMENT_RATE_LIMITED', 429],
    ['QUERY_TIMEOUT', 503],
    ['SERVICE_UNAVAILABLE', 503],
  ])('%s is answered by the agent gateway with HTTP %i, its code in extensions', (code, status) => {
    const err = new AppError(code, 'why');
    expect(err.httpStatus).toBe(status);
    expect(err.code).toBe(code);
    expect(err.extensions.code).toBe(code);
  });

  it('carries extra extensions beside its code; retryAfterSeconds reads a number only', () => {
    const limited = new AppError('ENROLLMENT_RATE_LIMITED', 'slow down', { retryAfterSeconds: 12 });
    expect(limited.extensions).toEqual({ code: 'ENROLLMENT_RATE_LIMITED', retryAfterSeconds: 12 });
    expect(limited.retryAfterSeconds).toBe(12);
    expect(new AppError('CONFLICT', 'x').retryAfterSeconds).toBeUndefined();
    expect(new AppError('CONFLICT', 'x', { retryAfterSeconds: '12' }).retryAfterSeconds).toBeUndefined();
  });

  it('keeps its own code when an extra extension is named code', () => {
    const err = new AppError('NOT_FOUND', 'no such device', { code: 'INTERNAL_SERVER_ERROR', id: '7' });
    expect(err.extensions).toEqual({ code: 'NOT_FOUND', id: '7' });
    expect(err.code).toBe('NOT_FOUND');
  });

  it('serialises to message and extensions only: no stack, no cause', () => {
    const json = new AppError('CONFLICT', 'already revoked').toJSON() as unknown as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['extensions', 'message']);
    expect(JSON.stringify(json)).not.toMatch(/\bat .*\.ts:\d+/);
  });
});

describe('badInput and notFound', () => {
  it('badInput names the argument in extensions when given one, and only then', () => {
    expect(badInput('first must be between 1 and 500', 'first').extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'first' });
    expect(badInput('something is off').extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('notFound quotes the id in its message and gives it in extensions', () => {
    const err = notFound('saved query', '42');
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('saved query "42" not found');
    expect(err.extensions).toEqual({ code: 'NOT_FOUND', id: '42' });
  });

  it('notFound quotes an id holding quotes or newlines as JSON, so the message stays one line', () => {
    expect(notFound('device', 'a"b\nc').message).toBe('device "a\\"b\\nc" not found');
  });
});

describe('fromDatabaseError', () => {
  it.each([
    { name: 'statement_timeout (57014) wrapped by drizzle', err: failed(withCode('57014')), code: 'QUERY_TIMEOUT' },
    { name: 'a cancelled statement deep in a cause chain', err: new Error('outer', { cause: failed(withCode('57014')) }), code: 'QUERY_TIMEOUT' },
    { name: 'a refused connection', err: failed(withCode('ECONNREFUSED')), code: 'SERVICE_UNAVAILABLE' },
    { name: 'a server shutting down (57P01)', err: failed(withCode('57P01')), code: 'SERVICE_UNAVAILABLE' },
    { name: 'a connection exception (class 08)', err: failed(withCode('08006')), code: 'SERVICE_UNAVAILABLE' },
    { name: 'too many connections (53300)', err: failed(withCode('53300')), code: 'SERVICE_UNAVAILABLE' },
    {
      name: 'every address refused (AggregateError)',
      err: new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'all failed'),
      code: 'SERVICE_UNAVAILABLE',
    },
    { name: 'the embedded database that would not open', err: new DatabaseUnavailableError('cannot open'), code: 'SERVICE_UNAVAILABLE' },
  ])('$name is $code, 503', ({ err, code }) => {
    const out = fromDatabaseError(err);
    expect(out).toBeInstanceOf(AppError);
    expect(out!.code).toBe(code);
    expect(out!.httpStatus).toBe(503);
  });

  it('a cancelled statement on a connection that then dropped is still a timeout: the caller should ask for less', () => {
    const err = new AggregateError([withCode('57014'), withCode('ECONNRESET')]);
    expect(fromDatabaseError(err)?.code).toBe('QUERY_TIMEOUT');
  });

  it('SERVICE_UNAVAILABLE tells the caller when to try again', () => {
    expect(fromDatabaseError(withCode('ECONNREFUSED'))!.message).toContain(`try again in ${RETRY_AFTER_SECONDS} seconds`);
  });

  it.each([
    { name: 'a unique violation (23505)', err: failed(withCode('23505')) },
    { name: 'a syntax error (42601)', err: failed(withCode('42601')) },
    { name: 'a plain Error', err: new Error('boom') },
    { name: 'a string', err: 'boom' },
    { name: 'undefined', err: undefined },
    { name: 'an AppError (already the caller’s word)', err: new AppError('NOT_FOUND', 'device "1" not found') },
    { name: 'an AppError carrying a database code', err: Object.assign(new AppError('CONFLICT', 'x'), { cause: withCode('ECONNREFUSED') }) },
  ])('leaves $name to the masking (undefined)', ({ err }) => {
    expect(fromDatabaseError(err)).toBeUndefined();
  });

  it.each([
    { name: 'QUERY_TIMEOUT', err: failed(withCode('57014', `canceling statement near ${PARAMETER}`)) },
    { name: 'SERVICE_UNAVAILABLE', err: failed(withCode('ECONNREFUSED', `connect ECONNREFUSED 10.1.2.3:5432 ${PARAMETER}`)) },
  ])('$name exposes nothing of the failure: no SQL, no parameter, no driver message, no stack', ({ err }) => {
    const out = fromDatabaseError(err)!;
    const exposed = JSON.stringify(out.toJSON());
    for (const secret of [SQL_TEXT, 'devices', PARAMETER, 'hunter2', '10.1.2.3', 'ECONNREFUSED', '57014']) {
      expect(exposed).not.toContain(secret);
    }
    expect(exposed).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(out.extensions).toEqual({ code: out.code });
    // Not linked to the driver's error either, so nothing downstream can print it from here.
    expect(out.originalError).toBeUndefined();
    expect((out as Error).cause).toBeUndefined();
  });
});
