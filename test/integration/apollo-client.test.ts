import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnableSecurityDocument, SecuritySettingsDocument, SummaryChangedDocument, SummaryDocument } from '../generated/graphql.js';
import { startCoreWithTokens } from '../support/core-with-tokens.js';
import { seed } from '../support/seed.js';
import type { TestCore } from '../support/test-core.js';

// The console as a frontend team builds it: Apollo Client with its default InMemoryCache (no type
// policies), queries over HTTP, subscriptions over graphql-ws with the token under Authorization
// as most snippets write it. A subscription push must reach the cached query (the reported bug:
// a cached total of 4 while the subscription said 7), and so must a mutation's result.

const WAIT_MS = 10_000;

describe('Apollo Client against the served API', () => {
  let tc: TestCore;
  let admin: string;
  let viewer: string;
  const sockets: Client[] = [];
  const clients: ApolloClient[] = [];

  beforeAll(async () => {
    ({ tc, admin, viewer } = await startCoreWithTokens({ env: { SUMMARY_PUSH_MS: '100' } }));
  });
  afterAll(async () => {
    for (const c of clients) c.stop();
    await Promise.all(sockets.map((s) => s.dispose()));
    await tc?.close();
  });

  /** apollo makes a client as the console would, for one token. */
  function apollo(token: string): ApolloClient {
    const ws = createClient({
      url: tc.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    sockets.push(ws);
    const isSubscription = ({ query }: ApolloLink.Operation) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    };
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), new HttpLink({ uri: tc.url, headers: { authorization: `Bearer ${token}` } })),
    });
    clients.push(client);
    return client;
  }

  /** until waits (bounded) for read() to return a value that satisfies pred, and returns it. */
  async function until<T>(what: string, read: () => T, pred: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const v = read();
      if (pred(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("a subscription push updates the cached authStatusSummary query (id 'fleet', no type policy)", async () => {
    await seed(tc).devices([{ name: 'APOLLO-1' }, { name: 'APOLLO-2' }, { name: 'APOLLO-3' }, { name: 'APOLLO-4' }]);
    const client = apollo(viewer);
    const queried = await client.query({ query: SummaryDocument });
    const before = queried.data!.authStatusSummary;
    expect(before).toMatchObject({ __typename: 'AuthStatusSummary', id: 'fleet' });

    // A component watching the query from the cache, as useQuery does.
    const watched: number[] = [];
    const watch = client.watchQuery({ query: SummaryDocument, fetchPolicy: 'cache-only' }).subscribe((r) => {
      const total = r.data?.authStatusSummary?.total;
      if (total !== undefined) watched.push(total);
    });
    const pushes: number[] = [];
    const live = client.subscribe({ query: SummaryChangedDocument }).subscribe((r) => {
      if (r.data) pushes.push(r.data.authStatusSummaryChanged.total);
    });
    try {
      await until('the first push', () => pushes.length, (n) => n > 0);
      await seed(tc).devices([{ name: 'APOLLO-5' }, { name: 'APOLLO-6' }, { name: 'APOLLO-7' }]);
      await until('a push with the new total', () => pushes.at(-1), (t) => t === before.total + 3);

      // The cached query now reads what the subscription said, without asking the server again.
      expect(client.readQuery({ query: SummaryDocument })!.authStatusSummary).toMatchObject({
        id: 'fleet',
        total: before.total + 3,
        noAuthenticationInfo: before.noAuthenticationInfo + 3,
      });
      await until('the watching component to see the new total', () => watched.at(-1), (t) => t === before.total + 3);
      expect(Object.keys(client.cache.extract() as Record<string, unknown>).filter((k) => k.startsWith('AuthStatusSummary'))).toEqual(['AuthStatusSummary:fleet']);
    } finally {
      live.unsubscribe();
      watch.unsubscribe();
    }
  });

  it("enableClientCertificateSecurity's result updates the cached securitySettings query", async () => {
    const client = apollo(admin);
    const before = (await client.query({ query: SecuritySettingsDocument })).data!.securitySettings;
    expect(before).toMatchObject({ id: 'fleet', clientCertificateSecurityEnabled: false, enabledBy: null });

    const enabled = await client.mutate({ mutation: EnableSecurityDocument, variables: { confirm: true } });
    expect(enabled.error).toBeUndefined();

    expect(client.readQuery({ query: SecuritySettingsDocument })!.securitySettings).toMatchObject({
      id: 'fleet',
      clientCertificateSecurityEnabled: true,
      enabledBy: 'alice',
      // Fields the mutation did not select stay as the query read them.
      certificateAuthority: before.certificateAuthority,
    });
  });
});
