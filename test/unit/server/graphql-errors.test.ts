import { HeaderMap } from '@apollo/server';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { AppError } from '../../../src/services/app-error.js';
import { createFormatError, serviceUnavailablePlugin } from '../../../src/server/graphql-errors.js';

// A resolver's error as graphql-js hands it over: wrapped, the thrown error as originalError.
const fromResolver = (thrown: Error, path: string[] = ['devices']) =>
  new GraphQLError(thrown.message, { path, originalError: thrown });
const driverFailure = (code: string, message: string) =>
  new DrizzleQueryError('select count(*) from "devices" where "name" ilike $1', ['%secret-filter%'], Object.assign(new Error(message), { code }));

function formatter() {
  const logs: string[] = [];
  const format = createFormatError(createLogger('debug', (line) => logs.push(line)));
  return { logs, format: (e: GraphQLError) => format(e.toJSON(), e) };
}

describe('createFormatError', () => {
  it('a statement cancelled by the statement timeout is QUERY_TIMEOUT, its cause logged once for fields sharing one error', () => {
    const { logs, format } = formatter();
    const shared = driverFailure('57014', 'canceling statement due to statement timeout');
    const first = format(fromResolver(shared, ['devices']));
    const second = format(fromResolver(shared, ['devices', 'totalCount']));
    for (const f of [first, second]) {
      expect(f.extensions).toEqual({ code: 'QUERY_TIMEOUT' });
      expect(f.message).toMatch(/fewer items .*narrower filter/);
    }
    expect(first.path).toEqual(['devices']);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/ WARN .*cancelled by the statement timeout \(DB_STATEMENT_TIMEOUT_MS\) path=\["devices"\] dbCode=57014 reason=canceling statement due to statement timeout sql=select count/);
    expect(logs.join('\n')).not.toContain('secret-filter');
  });

  it('the database away is SERVICE_UNAVAILABLE, logged as a warning, not masked as INTERNAL_SERVER_ERROR', () => {
    const { logs, format } = formatter();
    const f = format(fromResolver(driverFailure('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')));
    expect(f.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE' });
    expect(f.message).toMatch(/database is unavailable/);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/ WARN .*database is unavailable path=\["devices"\] dbCode=ECONNREFUSED/);
  });

  it('other failures stay as they were: AppErrors pass, anything else is masked and logged as an error', () => {
    const { logs, format } = formatter();
    expect(format(fromResolver(new AppError('NOT_FOUND', 'device "9" not found'))).extensions).toMatchObject({ code: 'NOT_FOUND' });
    const masked = format(fromResolver(driverFailure('23505', 'duplicate key value violates unique constraint')));
    expect(masked).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(logs.filter((l) => l.includes(' ERROR ') && l.includes('unexpected error in a GraphQL operation'))).toHaveLength(1);
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
