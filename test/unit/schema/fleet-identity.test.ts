import 'reflect-metadata';
import { InMemoryCache } from '@apollo/client/cache';
import { execute, parse, subscribe, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts, type StatusCounts } from '../../../src/db/counter-queries.js';
import { buildGraphQLSchema } from '../../../src/resolvers/index.js';
import { FLEET_ID } from '../../../src/schema/fleet.js';
import { summaryView, type AuthStatusSummaryView } from '../../../src/services/views.js';

// The console's Apollo Client keeps the chart in an InMemoryCache, which merges what it is sent by
// __typename and id. Here the served schema answers the query and the subscription (the services
// and the live hub stubbed), and the results go into a real InMemoryCache the way Apollo Client
// writes them (cache.write of each result under its root: ROOT_QUERY, ROOT_SUBSCRIPTION,
// ROOT_MUTATION, with __typename added to every selection). The integration test
// test/integration/apollo-client.test.ts does the same through Apollo Client itself, over HTTP and graphql-ws.

const viewer = { subject: 'victor', roles: ['VIEWER' as const] };
const T0 = new Date('2030-01-02T03:04:05.000Z');
const summaryOf = (over: Partial<StatusCounts>): AuthStatusSummaryView => summaryView({ ...emptyCounts(), ...over }, false, T0);

const SUMMARY_QUERY = parse('query Summary { authStatusSummary { __typename id total succeeded successRate } }');
const SUMMARY_PUSH = parse('subscription SummaryChanged { authStatusSummaryChanged { __typename id total succeeded successRate } }');
// The query as the frontend team first wrote it: the type had no id to select.
const SUMMARY_QUERY_NO_ID = parse('query Summary { authStatusSummary { __typename total succeeded successRate } }');
const SUMMARY_PUSH_NO_ID = parse('subscription SummaryChanged { authStatusSummaryChanged { __typename total succeeded successRate } }');

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildGraphQLSchema();
});

/** ask runs a query or mutation on the served schema with the given service stubs. */
async function ask(document: DocumentNode, services: object): Promise<Record<string, unknown>> {
  const result = (await execute({ schema, document, contextValue: { caller: viewer, services } })) as ExecutionResult;
  expect(result.errors).toBeUndefined();
  return result.data as Record<string, unknown>;
}

/** push runs a subscription on the served schema whose live hub emits summary once, and returns that message. */
async function push(document: DocumentNode, summary: AuthStatusSummaryView): Promise<Record<string, unknown>> {
  async function* summaries() {
    yield summary;
  }
  const stream = await subscribe({ schema, document, contextValue: { caller: viewer, live: { summaries } } });
  if (!(Symbol.asyncIterator in stream)) throw new Error(`subscribe failed: ${JSON.stringify(stream.errors)}`);
  const { value } = await stream.next();
  await stream.return?.();
  expect((value as ExecutionResult).errors).toBeUndefined();
  return (value as ExecutionResult).data as Record<string, unknown>;
}

/** total is what a component watching the summary query reads from the cache now. */
function total(cache: InMemoryCache, query: DocumentNode): number | undefined {
  return cache.readQuery<{ authStatusSummary: { total: number } }>({ query })?.authStatusSummary.total;
}

describe('objects there is one of per fleet normalise in Apollo Client', () => {
  it("a subscription push updates the cached summary query: both carry __typename and id 'fleet'", async () => {
    const cache = new InMemoryCache();
    const queried = await ask(SUMMARY_QUERY, { security: { getAuthStatusSummary: async () => summaryOf({ NO_AUTHENTICATION_INFO: 4 }) } });
    expect(queried.authStatusSummary).toMatchObject({ __typename: 'AuthStatusSummary', id: FLEET_ID, total: 4 });
    cache.write({ dataId: 'ROOT_QUERY', query: SUMMARY_QUERY, result: queried });
    expect(total(cache, SUMMARY_QUERY)).toBe(4);

    const pushed = await push(SUMMARY_PUSH, summaryOf({ NO_AUTHENTICATION_INFO: 4, AUTHENTICATION_SUCCEEDED: 3 }));
    expect(pushed.authStatusSummaryChanged).toMatchObject({ __typename: 'AuthStatusSummary', id: 'fleet', total: 7 });
    cache.write({ dataId: 'ROOT_SUBSCRIPTION', query: SUMMARY_PUSH, result: pushed });

    expect(total(cache, SUMMARY_QUERY)).toBe(7);
    expect(cache.readQuery({ query: SUMMARY_QUERY })).toEqual({
      authStatusSummary: { __typename: 'AuthStatusSummary', id: 'fleet', total: 7, succeeded: 3, successRate: 3 / 7 },
    });
    // One entry, under the key Apollo derives by default: no type policy needed.
    expect(cache.identify({ __typename: 'AuthStatusSummary', id: 'fleet' })).toBe('AuthStatusSummary:fleet');
    expect(Object.keys(cache.extract()).filter((k) => k.startsWith('AuthStatusSummary'))).toEqual(['AuthStatusSummary:fleet']);
  });

  it('without id selected the push is stored beside the query and the cached total stays stale (the reported bug)', async () => {
    const cache = new InMemoryCache();
    cache.write({
      dataId: 'ROOT_QUERY',
      query: SUMMARY_QUERY_NO_ID,
      result: await ask(SUMMARY_QUERY_NO_ID, { security: { getAuthStatusSummary: async () => summaryOf({ NO_AUTHENTICATION_INFO: 4 }) } }),
    });
    const pushed = await push(SUMMARY_PUSH_NO_ID, summaryOf({ NO_AUTHENTICATION_INFO: 4, AUTHENTICATION_SUCCEEDED: 3 }));
    cache.write({ dataId: 'ROOT_SUBSCRIPTION', query: SUMMARY_PUSH_NO_ID, result: pushed });
    expect(total(cache, SUMMARY_QUERY_NO_ID)).toBe(4);
  });

  it("a mutation's SecuritySettings updates the cached securitySettings query: id 'fleet' too", async () => {
    const settings = (enabled: boolean) => ({
      clientCertificateSecurityEnabled: enabled,
      enabledAt: enabled ? T0 : null,
      enabledBy: enabled ? 'alice' : null,
      certificateAuthority: { subject: 'CN=test CA', certificatePem: 'PEM', fingerprint: 'ab', notAfter: T0 },
      devicesNotReady: 2,
    });
    const QUERY = parse('query S { securitySettings { __typename id clientCertificateSecurityEnabled enabledBy } }');
    const MUTATION = parse('mutation E { enableClientCertificateSecurity(confirm: true) { __typename id clientCertificateSecurityEnabled enabledBy } }');
    const cache = new InMemoryCache();
    cache.write({ dataId: 'ROOT_QUERY', query: QUERY, result: await ask(QUERY, { security: { getSecuritySettings: async () => settings(false) } }) });
    expect(cache.readQuery<{ securitySettings: { clientCertificateSecurityEnabled: boolean } }>({ query: QUERY })?.securitySettings).toMatchObject({
      id: 'fleet',
      clientCertificateSecurityEnabled: false,
    });

    const enabled = await ask(MUTATION, { security: { enableClientCertificateSecurity: async () => settings(true) } });
    cache.write({ dataId: 'ROOT_MUTATION', query: MUTATION, result: enabled });
    expect(cache.readQuery({ query: QUERY })).toEqual({
      securitySettings: { __typename: 'SecuritySettings', id: 'fleet', clientCertificateSecurityEnabled: true, enabledBy: 'alice' },
    });
  });
});
