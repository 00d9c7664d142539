import { useQuery } from '@apollo/client/react';
import { useId } from 'react';
import { DeleteQueryButton } from '../components/DeleteQueryButton';
import { ErrorNote } from '../components/ErrorNote';
import { formatDateTime } from '../format';
import { graphql } from '../gql';
import type { MyQueriesQuery } from '../gql/graphql';
import { Link } from '../router';

// Named MyQueries: the Security settings page refetches it by that name after a chart double-click.
const MyQueriesQuery = graphql(`
  query MyQueries {
    myQueries {
      ...SavedQueryFields
    }
  }
`);

type SavedQueryItem = MyQueriesQuery['myQueries'][number];

interface Folder {
  name: string;
  folders: Folder[];
  queries: SavedQueryItem[];
}

/** foldersOf groups queries by their folder path (['My queries', 'Chart-generated queries']), in the order the API lists them. */
function foldersOf(queries: readonly SavedQueryItem[]): Folder {
  const root: Folder = { name: '', folders: [], queries: [] };
  for (const q of queries) {
    let folder = root;
    for (const segment of q.folder) {
      let next = folder.folders.find((f) => f.name === segment);
      if (!next) {
        next = { name: segment, folders: [], queries: [] };
        folder.folders.push(next);
      }
      folder = next;
    }
    folder.queries.push(q);
  }
  return root;
}

/** MyQueriesPage lists the caller's saved queries in their folders; each opens its devices. */
export function MyQueriesPage() {
  const { data, loading, error } = useQuery(MyQueriesQuery);
  const queries = data?.myQueries;
  return (
    <>
      <h1>My queries</h1>
      {error && <ErrorNote error={error} />}
      {!queries ? (
        loading && <p aria-busy="true">Loading…</p>
      ) : queries.length === 0 ? (
        <p className="muted">
          No saved queries yet. Double-click an item of the chart on <Link to="/">Security settings</Link> to save its devices as
          a query.
        </p>
      ) : (
        <FolderList root={foldersOf(queries)} />
      )}
    </>
  );
}

function FolderList({ root }: { root: Folder }) {
  return (
    <ul className="tree queries" aria-label="Saved queries">
      {root.queries.map((q) => (
        <QueryItem key={q.id} query={q} />
      ))}
      {root.folders.map((f) => (
        <FolderItem key={f.name} folder={f} />
      ))}
    </ul>
  );
}

function FolderItem({ folder }: { folder: Folder }) {
  const id = useId();
  return (
    <li className="folder">
      <span className="folder-name" id={id}>
        {folder.name}
      </span>
      <ul aria-labelledby={id}>
        {folder.queries.map((q) => (
          <QueryItem key={q.id} query={q} />
        ))}
        {folder.folders.map((f) => (
          <FolderItem key={f.name} folder={f} />
        ))}
      </ul>
    </li>
  );
}

function QueryItem({ query }: { query: SavedQueryItem }) {
  return (
    <li className="query">
      <Link to={`/queries/${encodeURIComponent(query.id)}`}>{query.name}</Link>
      <span className="muted small">saved {formatDateTime(query.updatedAt)}</span>
      <DeleteQueryButton id={query.id} name={query.name} inList />
    </li>
  );
}
