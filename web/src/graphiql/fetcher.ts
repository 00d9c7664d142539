import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import { currentToken, signOut } from '../auth';

/** UNAUTHORIZED_CLOSE is the code the server closes a socket with when its token is missing, bad or expired. */
const UNAUTHORIZED_CLOSE = 4401;

/**
 * createExplorerFetcher makes GraphiQL's fetcher for one token, as the console's client does: queries
 * and mutations over HTTP with `Authorization: Bearer …`, subscriptions over graphql-ws on the same
 * /graphql URL with the token in connectionParams. The token is given here, never through GraphiQL's
 * headers editor, so GraphiQL keeps it in no storage. A refused token signs the tab out ("expired"),
 * as in the console.
 */
export function createExplorerFetcher(token: string): { fetcher: Fetcher; dispose(): void } {
  const refused = () => {
    if (currentToken() === token) signOut('expired');
  };
  const ws = createClient({
    url: `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`,
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: true,
    shouldRetry: (event) => (event as CloseEvent | undefined)?.code !== UNAUTHORIZED_CLOSE,
    on: {
      closed: (event) => {
        if ((event as CloseEvent | undefined)?.code === UNAUTHORIZED_CLOSE) refused();
      },
    },
  });
  const fetcher = createGraphiQLFetcher({
    url: '/graphql',
    headers: { Authorization: `Bearer ${token}` },
    wsClient: ws,
    // The core answers one JSON result per request (no @defer/@stream), so the plain POST fetcher will do.
    enableIncrementalDelivery: false,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (response.status === 401) refused();
      return response;
    },
  });
  return {
    fetcher,
    dispose() {
      void ws.dispose();
    },
  };
}
