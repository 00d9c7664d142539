import { HeaderMap } from '@apollo/server';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger, withLogContext } from '../../../src/logger.js';
import { AppError } from '../../../src/services/app-error.js';
import { createFormatError, serviceUnavailablePlugin } from '../../../src/server/graphql-errors.js';
import { parseLogs } from '../../support/logs.js';

// A resolver's error as graphql-js hands it over: wrapped, the thrown error as originalError.
const fromResolver = (thrown: Error, path: string[] = ['devices']) =>
  new GraphQLError(thrown.message, { path, originalError: thrown });
const driverFailure = (code: string, message: string) =>
  new DrizzleQueryError('select count(*) from "devices" where "name" ilike $1', ['%secret-filter%'], Object.assign(new Error(message), { code }));

function formatter() {
  const lines: string[] = [];
  const format = createFormatError(createLogger('debug', (line) => lines.push(line)));
  return {
    lines,
    get logs() {
      return parseLogs(lines);
    },
    format: (e: GraphQLError, requestId?: string) => format(e.toJSON(), e, requestId),
  };
}

describe('createFormatError', () => {
  it('a statement cancelled by the statement timeout is QUERY_TIMEOUT, its cause logged once for fields sharing one error', () => {
    const f = formatter();
    const shared = driverFailure('57014', 'canceling statement due to statement timeout');
    const first = f.format(fromResolver(shared, ['devices']));
    const second = f.format(fromResolver(shared, ['devices', 'totalCount']));
    for (const e of [first, second]) {
      expect(e.extensions).toEqual({ code: 'QUERY_TIMEOUT' });
      expect(e.message).toMatch(/fewer items .*narrower filter/);
    }
    expect(first.path).toEqual(['devices']);
    expect(f.logs).toHaveLength(1);
    expect(f.logs[0]).toMatchObject({
      level: 'warn',
      msg: 'a GraphQL operation was cancelled by the statement timeout (DB_STATEMENT_TIMEOUT_MS)',
      path: ['devices'],
      dbCode: '57014',
      reason: 'canceling statement due to statement timeout',
    });
    expect(f.logs[0]!.sql).toMatch(/^select count/);
    expect(f.lines.join('\n')).not.toContain('secret-filter');
  });

  it('the database away is SERVICE_UNAVAILABLE, logged as a warning, not masked as INTERNAL_SERVER_ERROR', () => {
    const f = formatter();
    const e = f.format(fromResolver(driverFailure('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')));
    expect(e.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE' });
    expect(e.message).toMatch(/database is unavailable/);
    expect(f.logs).toHaveLength(1);
    expect(f.logs[0]).toMatchObject({ level: 'warn', msg: 'a GraphQL operation failed: the database is unavailable', path: ['devices'], dbCode: 'ECONNREFUSED' });
  });

  it('other failures stay as they were: AppErrors pass, anything else is masked and logged as an error', () => {
    const f = formatter();
    expect(f.format(fromResolver(new AppError('NOT_FOUND', 'device "9" not found'))).extensions).toMatchObject({ code: 'NOT_FOUND' });
    const masked = f.format(fromResolver(driverFailure('23505', 'duplicate key value violates unique constraint')));
    expect(masked).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    const lines = f.logs.filter((l) => l.level === 'error' && l.msg === 'unexpected error in a GraphQL operation');
    expect(lines).toHaveLength(1);
    // The error whole, with its cause: type, message and stack.
    expect(lines[0]!.error).toMatchObject({ type: 'DrizzleQueryError', stack: expect.stringContaining('    at ') });
    expect(JSON.stringify(lines[0]!.error)).toContain('duplicate key value violates unique constraint');
  });

  it('gives every error, and the line that logs it, the request id: passed in, or from the log context', () => {
    const f = formatter();
    const errors = [
      fromResolver(new AppError('NOT_FOUND', 'device "9" not found')),
      fromResolver(driverFailure('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')),
      new GraphQLError('token expired', { extensions: { code: 'UNAUTHENTICATED' } }),
      new GraphQLError('nope', { extensions: { code: 'FORBIDDEN' } }),
      new GraphQLError('Syntax Error: Unexpected Name', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } }),
      fromResolver(new Error('a bug')),
    ];
    for (const e of errors) expect(f.format(e, 'req-given').extensions?.requestId).toBe('req-given');
    withLogContext({ requestId: 'req-context' }, () => {
      for (const e of errors) expect(f.format(e).extensions?.requestId).toBe('req-context');
    });
    // Outside any request: none.
    expect(f.format(errors[0]!).extensions).toEqual({ code: 'NOT_FOUND' });
    const logged = f.logs.filter((l) => l.level !== 'debug');
    expect(logged.map((l) => l.requestId)).toEqual(['req-given', 'req-given']);
    // A refused token is noted at debug, with its reason, never the token.
    expect(f.logs.filter((l) => l.msg === 'GraphQL request refused: unauthenticated').map((l) => [l.level, l.reason, l.requestId])).toEqual([
      ['debug', 'token expired', 'req-given'],
      ['debug', 'token expired', 'req-context'],
    ]);
  });

  it('logs one unexpected error once, however many fields or subscribers it reached', () => {
    const f = formatter();
    const bug = new Error('a bug');
    f.format(fromResolver(bug, ['a']), 'first');
    f.format(fromResolver(bug, ['b']), 'second');
    expect(f.logs.map((l) => [l.msg, l.requestId])).toEqual([['unexpected error in a GraphQL operation', 'first']]);
  });
});

describe('serviceUnavailablePlugin', () => {
  async function respond(singleResult: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }) {
    const response = { http: { status: undefined as number | undefined, headers: new HeaderMap() }, body: { kind: 'single' as const, singleResult } };
    const listener = await serviceUnavailablePlugin.requestDidStart!({} as never);
    await listener!.willSendResponse!({ response } as never);
    return { status: response.http.status, retryAfter: response.http.headers.get('retry-after') };
  }
  const unavailable = { message: 'the database is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE' } };

  it.each([
    { name: 'no data at all', result: { errors: [unavailable] } },
    { name: 'data null', result: { data: null, errors: [unavailable] } },
    { name: 'every root field null', result: { data: { devices: null, authStatusSummary: null }, errors: [unavailable, unavailable] } },
  ])('a request that failed whole because the database is away is 503 with Retry-After: $name', async ({ result }) => {
    expect(await respond(result)).toEqual({ status: 503, retryAfter: '5' });
  });

  it.each([
    { name: 'a field still has data', result: { data: { devices: null, securitySettings: { on: true } }, errors: [unavailable] } },
    { name: 'another error', result: { data: null, errors: [{ message: 'x', extensions: { code: 'QUERY_TIMEOUT' } }] } },
    { name: 'no error', result: { data: { devices: null } } },
  ])('anything else keeps its status: $name', async ({ result }) => {
    expect(await respond(result)).toEqual({ status: undefined, retryAfter: undefined });
  });
});
