import type { Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { currentToken, onAuthChange, signOutReason } from '../auth';
import { createExplorerFetcher } from './fetcher';

/** DEFAULT_QUERY is what a first visit shows (GraphiQL keeps the person's own tabs in localStorage after that). */
const DEFAULT_QUERY = `# The certfleet GraphQL API, with this tab's sign-in.
# Ctrl+Enter runs the query; the book icon opens the schema's documentation.

query Summary {
  authStatusSummary {
    total
    successRate
    items {
      label
      count
    }
  }
}
`;

/** Explorer is GraphiQL on /graphql for the tab's signed-in token, or a hint to sign in first. */
export function Explorer() {
  const token = useSyncExternalStore(onAuthChange, currentToken);
  if (!token) return <SignInHint />;
  return <SignedInExplorer key={token} token={token} />;
}

function SignedInExplorer({ token }: { token: string }) {
  const [fetcher, setFetcher] = useState<Fetcher | null>(null);
  // Made in an effect, so the socket it may open is closed when the page leaves this token.
  useEffect(() => {
    const made = createExplorerFetcher(token);
    setFetcher(() => made.fetcher);
    return made.dispose;
  }, [token]);
  if (!fetcher) return null;
  return (
    <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY}>
      <GraphiQL.Logo>
        <a className="explorer-logo" href="/">
          certfleet
        </a>{' '}
        GraphQL explorer
      </GraphiQL.Logo>
    </GraphiQL>
  );
}

function SignInHint() {
  const ended = signOutReason() === 'expired';
  return (
    <main className="explorer-hint">
      <h1>GraphQL explorer</h1>
      {ended && (
        <p role="status" className="explorer-error">
          Your session has ended: the token expired or was refused.
        </p>
      )}
      <p>
        The explorer uses the console's sign-in. <a href="/">Sign in at the console</a>, then open <code>/graphql</code>{' '}
        again in the same tab.
      </p>
    </main>
  );
}
