import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { AuditLogTable } from '../components/AuditLogTable';
import { ErrorNote } from '../components/ErrorNote';
import { DEFAULT_PAGE_SIZE, PageSizeSelect, Pager, usePaging } from '../components/paging';
import { graphql } from '../gql';

const AuditQuery = graphql(`
  query ConsoleAuditLog($first: Int, $after: String, $last: Int, $before: String) {
    auditLog(first: $first, after: $after, last: $last, before: $before) {
      pageInfo {
        ...PageInfoFields
      }
      edges {
        cursor
        node {
          id
          at
          actor
          action
          targetId
          details
        }
      }
    }
  }
`);

/** AuditLogPage lists who did what, newest first, a page at a time. */
export function AuditLogPage() {
  const [pageSize, setPageSize] = useState<number>(DEFAULT_PAGE_SIZE);
  const paging = usePaging(String(pageSize), pageSize);
  const { data, previousData, loading, error, refetch } = useQuery(AuditQuery, {
    variables: paging.vars,
    notifyOnNetworkStatusChange: false,
  });
  const shown = data ?? previousData;
  const rows = shown?.auditLog.edges.map((e) => e.node) ?? [];
  const stale = !data || loading;
  return (
    <>
      <h1>Audit log</h1>
      <p className="muted">
        Every change made through the API, by admins, agents and the core itself, newest first. Times are in your time zone
        (hover for UTC).
      </p>
      <div className="toolbar">
        <PageSizeSelect id="audit-size" value={pageSize} onChange={setPageSize} />
        <button
          type="button"
          className="secondary"
          onClick={() => {
            // Newer events are at the front: Refresh goes back to the first page and reads it again.
            if (paging.atStart) refetch().catch(() => {});
            else paging.first();
          }}
        >
          Refresh
        </button>
      </div>
      {error && <ErrorNote error={error} />}
      {shown && (
        <div aria-busy={stale} className={stale ? 'stale' : undefined}>
          {rows.length === 0 ? <p className="empty">No audit events.</p> : <AuditLogTable rows={rows} />}
          <Pager label="Audit log pages" pageInfo={shown.auditLog.pageInfo} paging={paging} busy={stale} />
        </div>
      )}
      {!shown && !error && <p aria-busy="true">Loading…</p>}
    </>
  );
}
