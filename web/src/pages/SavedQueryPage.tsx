import { useQuery } from '@apollo/client/react';
import { DeleteQueryButton } from '../components/DeleteQueryButton';
import { DeviceTable } from '../components/DeviceTable';
import { ErrorNote } from '../components/ErrorNote';
import { Pager, urlPaging } from '../components/paging';
import { deviceCount, formatDateTime } from '../format';
import { graphql } from '../gql';
import { Link, navigate, useLocation } from '../router';

const SavedQueryDevicesQuery = graphql(`
  query SavedQueryDevices($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    savedQuery(id: $id) {
      ...SavedQueryFields
      devices(first: $first, after: $after, last: $last, before: $before) {
        ...DevicePageFields
      }
    }
  }
`);

/** SavedQueryPage is one saved query, evaluated now: its devices, paged like the network view. */
export function SavedQueryPage({ id }: { id: string }) {
  const { path, params } = useLocation();
  const paging = urlPaging(path, params);
  const { data, previousData, loading, error } = useQuery(SavedQueryDevicesQuery, {
    variables: { id, ...paging.vars },
  });
  const query = (data ?? previousData)?.savedQuery;

  if (!query) {
    return (
      <>
        <h1>Saved query</h1>
        {error ? <ErrorNote error={error} /> : loading && <p aria-busy="true">Loading…</p>}
        <p>
          <Link to="/queries">Back to My queries</Link>
        </p>
      </>
    );
  }
  const devices = query.devices;
  return (
    <>
      <p className="breadcrumb">
        <Link to="/queries">{query.folder[0] ?? 'My queries'}</Link>
        {query.folder.slice(1).map((f) => ` › ${f}`)} › {query.name}
      </p>
      <header className="device-header">
        <h1>{query.name}</h1>
        <DeleteQueryButton id={query.id} name={query.name} onDeleted={() => navigate('/queries')} />
      </header>
      <p className="muted">
        Evaluated now; saved {formatDateTime(query.updatedAt)}.
      </p>
      {error && <ErrorNote error={error} />}
      <p className="count" data-testid="total-count" aria-live="polite">
        {deviceCount(devices.totalCount)}
      </p>
      <DeviceTable caption={`Devices of ${query.name}`} devices={devices.edges.map((e) => e.node)} busy={loading} />
      <Pager label="Device pages" pageInfo={devices.pageInfo} paging={paging} busy={loading} />
    </>
  );
}
