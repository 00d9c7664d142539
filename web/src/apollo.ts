import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { ErrorLink } from '@apollo/client/link/error';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { currentToken, signOut } from './auth';

/** UNAUTHORIZED_CLOSE is the code the server closes a socket with when its token is missing, bad or expired. */
const UNAUTHORIZED_CLOSE = 4401;

/**
 * createApolloClient makes the console's client for one token: queries and mutations over HTTP,
 * subscriptions over graphql-ws on the same /graphql URL. A refused token, from either side, signs
 * the tab out with "expired".
 */
export function createApolloClient(token: string): { client: ApolloClient; dispose(): void } {
  const wsUrl = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`;
  const ws = createClient({
    url: wsUrl,
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: (event) => (event as CloseEvent | undefined)?.code !== UNAUTHORIZED_CLOSE,
    on: {
      closed: (event) => {
        if ((event as CloseEvent | undefined)?.code === UNAUTHORIZED_CLOSE && currentToken() === token) signOut('expired');
      },
    },
  });
  const http = new HttpLink({ uri: '/graphql', headers: { authorization: `Bearer ${token}` } });
  const errors = new ErrorLink(({ error }) => {
    const unauthenticated =
      (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) ||
      (ServerError.is(error) && error.statusCode === 401);
    if (unauthenticated && currentToken() === token) signOut('expired');
  });
  const link = ApolloLink.from([
    errors,
    ApolloLink.split(
      ({ query }) => {
        const def = getMainDefinition(query);
        return def.kind === 'OperationDefinition' && def.operation === 'subscription';
      },
      new GraphQLWsLink(ws),
      http,
    ),
  ]);
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache(),
    defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
  });
  return {
    client,
    dispose() {
      void ws.dispose();
      client.stop();
    },
  };
}
