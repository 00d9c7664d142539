import { ApolloProvider, useQuery } from '@apollo/client/react';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { createApolloClient } from './apollo';
import { currentToken, onAuthChange, signOut } from './auth';
import { Layout } from './components/Layout';
import { ErrorNote } from './components/ErrorNote';
import { graphql } from './gql';
import { AuditLogPage } from './pages/AuditLogPage';
import { ClientAccessPage } from './pages/ClientAccessPage';
import { DeviceDetailPage } from './pages/DeviceDetailPage';
import { MyQueriesPage } from './pages/MyQueriesPage';
import { NetworkViewPage } from './pages/NetworkViewPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { SavedQueryPage } from './pages/SavedQueryPage';
import { SecuritySettingsPage } from './pages/SecuritySettingsPage';
import { SignInPage } from './pages/SignInPage';
import { match, useLocation } from './router';
import { ViewerContext } from './viewer';

const MeQuery = graphql(`
  query Me {
    me {
      subject
      roles
    }
  }
`);

function useToken(): string | null {
  return useSyncExternalStore(onAuthChange, currentToken);
}

/** App is the console: the sign-in screen, or the pages for the signed-in token. */
export function App() {
  const token = useToken();
  if (!token) return <SignInPage />;
  return <SignedIn key={token} token={token} />;
}

function SignedIn({ token }: { token: string }) {
  const [{ client, dispose }] = useState(() => createApolloClient(token));
  useEffect(() => dispose, [dispose]);
  return (
    <ApolloProvider client={client}>
      <WithViewer />
    </ApolloProvider>
  );
}

function WithViewer() {
  const { data, error } = useQuery(MeQuery, { fetchPolicy: 'network-only' });
  const viewer = useMemo(
    () => (data ? { subject: data.me.subject, roles: data.me.roles, isAdmin: data.me.roles.includes('SECURITY_ADMIN') } : null),
    [data],
  );
  useEffect(() => {
    // A token that signs nothing here (no certfleet role) cannot use the console.
    if (data && data.me.roles.length === 0) signOut('rejected');
  }, [data]);
  if (error) {
    return (
      <main className="centered">
        <ErrorNote error={error} />
      </main>
    );
  }
  if (!viewer) return <main className="centered" aria-busy="true">Signing in…</main>;
  return (
    <ViewerContext.Provider value={viewer}>
      <Layout>
        <Pages />
      </Layout>
    </ViewerContext.Provider>
  );
}

function Pages() {
  const { path } = useLocation();
  if (path === '/' || path === '') return <SecuritySettingsPage />;
  if (path === '/devices' || path === '/devices/') return <NetworkViewPage />;
  const deviceId = match('/devices/', path);
  if (deviceId) return <DeviceDetailPage id={deviceId} />;
  if (path === '/queries' || path === '/queries/') return <MyQueriesPage />;
  const queryId = match('/queries/', path);
  if (queryId) return <SavedQueryPage id={queryId} />;
  if (path.startsWith('/client-access')) return <ClientAccessPage />;
  if (path.startsWith('/audit')) return <AuditLogPage />;
  return <NotFoundPage />;
}
