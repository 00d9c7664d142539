import { useMutation, useQuery, useSubscription } from '@apollo/client/react';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { ErrorNote, errorText } from '../components/ErrorNote';
import { ClientAccessBulkResult, outcomeSummary, type BulkOutcome } from '../components/ClientAccessBulkResult';
import { ClientAccessTable, rowName, type AccessRow } from '../components/ClientAccessTable';
import { ClientAccessTabs } from '../components/ClientAccessTabs';
import { DEFAULT_PAGE_SIZE, PageSizeSelect, Pager, usePaging } from '../components/paging';
import { RejectRequestsDialog } from '../components/RejectRequestsDialog';
import { RevokeDialog } from '../components/RevokeDialog';
import { graphql } from '../gql';
import type { ClientCertificateStatus } from '../gql/graphql';
import { useDebounced } from '../hooks';
import { navigate, useLocation } from '../router';
import { useViewer } from '../viewer';

const ListQuery = graphql(`
  query ClientAccessList($filter: ClientAccessRequestFilter!, $first: Int, $after: String, $last: Int, $before: String) {
    clientAccessRequests(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo {
        ...PageInfoFields
      }
      edges {
        cursor
        node {
          ...CertificateFields
          device {
            id
            name
            agentId
          }
        }
      }
    }
  }
`);

// One request for the four tab counts; first: 1 because a page of none is not allowed.
const CountsQuery = graphql(`
  query ClientAccessCounts($search: String) {
    pending: clientAccessRequests(first: 1, filter: { statuses: [PENDING], search: $search }) {
      totalCount
    }
    approved: clientAccessRequests(first: 1, filter: { statuses: [APPROVED], search: $search }) {
      totalCount
    }
    rejected: clientAccessRequests(first: 1, filter: { statuses: [REJECTED], search: $search }) {
      totalCount
    }
    revoked: clientAccessRequests(first: 1, filter: { statuses: [REVOKED], search: $search }) {
      totalCount
    }
  }
`);

const RequestedSubscription = graphql(`
  subscription ClientAccessPageRequested {
    clientAccessRequested {
      id
      status
      requestedDeviceName
      device {
        id
        name
        agentId
      }
    }
  }
`);

const DecidedSubscription = graphql(`
  subscription ClientAccessPageDecided {
    clientAccessDecided {
      requestId
      decision
      decidedBy
      request {
        id
        status
        decidedAt
        decidedBy
        revokedAt
        revocationReason
      }
    }
  }
`);

const ApproveMutation = graphql(`
  mutation ClientAccessApprove($ids: [ID!]!) {
    approveClients(ids: $ids) {
      approved {
        id
        status
        decidedAt
        decidedBy
        notAfter
      }
      failed {
        id
        code
        message
      }
    }
  }
`);

const RejectMutation = graphql(`
  mutation ClientAccessReject($ids: [ID!]!, $reason: String) {
    rejectClients(ids: $ids, reason: $reason) {
      rejected {
        id
        status
        decidedAt
        decidedBy
      }
      failed {
        id
        code
        message
      }
    }
  }
`);

type TabKey = 'pending' | 'approved' | 'rejected' | 'revoked';

const TABS: { key: TabKey; label: string; status: ClientCertificateStatus; empty: string }[] = [
  { key: 'pending', label: 'Pending', status: 'PENDING', empty: 'No requests are waiting for a decision.' },
  { key: 'approved', label: 'Approved', status: 'APPROVED', empty: 'No approved certificates.' },
  { key: 'rejected', label: 'Rejected', status: 'REJECTED', empty: 'No rejected requests.' },
  { key: 'revoked', label: 'Revoked', status: 'REVOKED', empty: 'No revoked certificates.' },
];

/** announce says an action's outcome in one sentence. */
function announce(o: BulkOutcome): string {
  return outcomeSummary(o) + (o.failed.length > 0 ? '; the result lists why' : '');
}

function tabOf(value: string | null): (typeof TABS)[number] {
  return TABS.find((t) => t.key === value) ?? TABS[0]!;
}

/** REFRESH_MS coalesces a burst of live events (an enrollment flood, a bulk approval) into one reload. */
const REFRESH_MS = 300;

/**
 * ClientAccessPage is Configure > Manage client access: the requests by status, searchable and
 * paged, kept current by the clientAccessRequested and clientAccessDecided subscriptions; an admin
 * approves or rejects many at once and revokes approved certificates.
 */
export function ClientAccessPage() {
  const { params } = useLocation();
  const tab = tabOf(params.get('tab'));
  const { isAdmin } = useViewer();
  const searchId = useId();

  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText.trim(), 300);
  const [pageSize, setPageSize] = useState<number>(DEFAULT_PAGE_SIZE);
  const paging = usePaging(`${tab.key}|${search}|${pageSize}`, pageSize);

  const list = useQuery(ListQuery, {
    variables: { filter: { statuses: [tab.status], search: search || null }, ...paging.vars },
    notifyOnNetworkStatusChange: false,
  });
  const counts = useQuery(CountsQuery, { variables: { search: search || null } });
  // While another page or tab loads, the previous rows stay (dimmed) rather than the table blinking empty.
  const data = list.data ?? list.previousData;
  const rows: AccessRow[] = data?.clientAccessRequests.edges.map((e) => e.node) ?? [];
  const pageInfo = data?.clientAccessRequests.pageInfo;
  const stale = !list.data || list.loading;

  // Live: any event reloads what is on screen, at most once per REFRESH_MS.
  const [liveNote, setLiveNote] = useState('');
  // An action's outcome, for screen readers only: the result panel shows it to everyone else.
  const [announcement, setAnnouncement] = useState('');
  const reload = useRef<() => void>(() => {});
  reload.current = () => {
    // A failed reload shows in list.error; nothing else to do with the rejection here.
    list.refetch().catch(() => {});
    counts.refetch().catch(() => {});
  };
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const scheduleReload = useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      reload.current();
    }, REFRESH_MS);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);
  const requested = useSubscription(RequestedSubscription, {
    onData: ({ data: d }) => {
      const r = d.data?.clientAccessRequested;
      if (r) setLiveNote(`New request from ${r.device.name || r.requestedDeviceName || r.device.agentId}`);
      scheduleReload();
    },
  });
  const decided = useSubscription(DecidedSubscription, { onData: () => scheduleReload() });
  const liveError = requested.error ?? decided.error;

  // A page that live changes emptied (its rows all decided) goes back to the first page.
  useEffect(() => {
    if (list.data && rows.length === 0 && !paging.atStart) paging.first();
  });

  // Selection: ids with the names they had, kept across pages and live reloads until an action or
  // another tab, so a request someone else decided meanwhile is still sent and reported on.
  const [selection, setSelection] = useState<{ tab: TabKey; rows: Map<string, string> }>({ tab: tab.key, rows: new Map() });
  const selected = selection.tab === tab.key ? selection.rows : new Map<string, string>();
  const selectable = isAdmin && tab.status === 'PENDING';
  const toggle = (row: AccessRow, checked: boolean) => {
    const next = new Map(selected);
    if (checked) next.set(row.id, rowName(row));
    else next.delete(row.id);
    setSelection({ tab: tab.key, rows: next });
  };
  const toggleAll = (checked: boolean) => {
    const next = new Map(selected);
    for (const r of rows) {
      if (checked) next.set(r.id, rowName(r));
      else next.delete(r.id);
    }
    setSelection({ tab: tab.key, rows: next });
  };
  const clearSelection = () => setSelection({ tab: tab.key, rows: new Map() });
  const selectedIds = new Set(selected.keys());
  const offPage = [...selectedIds].filter((id) => !rows.some((r) => r.id === id)).length;

  const [approve, approveState] = useMutation(ApproveMutation);
  const [reject, rejectState] = useMutation(RejectMutation);
  const [outcome, setOutcome] = useState<BulkOutcome | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [rejecting, setRejecting] = useState(false);
  const [revoking, setRevoking] = useState<AccessRow | null>(null);
  const busy = approveState.loading || rejectState.loading;

  const nameOf = (names: Map<string, string>, id: string) => names.get(id) ?? `request ${id}`;
  /** runBulk sends one bulk call for the selection and reports its outcome item by item. */
  const runBulk = async (
    verb: BulkOutcome['verb'],
    send: (ids: string[]) => Promise<{ done: { id: string }[]; failed: { id: string; code: string; message: string }[] }>,
  ) => {
    const names = new Map(selected);
    setActionError(null);
    try {
      const p = await send([...names.keys()]);
      const result: BulkOutcome = {
        verb,
        done: p.done.map((a) => ({ id: a.id, name: nameOf(names, a.id) })),
        failed: p.failed.map((f) => ({ ...f, name: nameOf(names, f.id) })),
      };
      setRejecting(false);
      setOutcome(result);
      setAnnouncement(announce(result));
      clearSelection();
      reload.current();
    } catch (err) {
      // Shown on the page, or in the reject dialog, which stays open.
      setActionError(err);
    }
  };
  const runApprove = () =>
    runBulk('Approve', async (ids) => {
      const p = (await approve({ variables: { ids } })).data!.approveClients;
      return { done: p.approved, failed: p.failed };
    });
  const runReject = (reason: string | null) =>
    runBulk('Reject', async (ids) => {
      const p = (await reject({ variables: { ids, reason } })).data!.rejectClients;
      return { done: p.rejected, failed: p.failed };
    });

  const selectTab = (key: TabKey) => {
    if (key !== tab.key) navigate(`/client-access?tab=${key}`);
  };

  const countOf = (key: TabKey) => counts.data?.[key].totalCount;
  const tabs = TABS.map((t) => ({ key: t.key, label: t.label, count: countOf(t.key) }));

  return (
    <>
      <h1>Manage client access</h1>
      <p className="muted">
        Agents ask for a client certificate; each request waits here until an admin approves it (the core's CA issues the
        certificate) or rejects it. Approved certificates can be revoked.
      </p>
      <p role="status" className="live-note">
        {liveNote}
      </p>
      <p role="status" className="visually-hidden">
        {announcement}
      </p>
      {liveError && (
        <p role="alert" className="error">
          Live updates stopped ({errorText(liveError)}): use Refresh, or reload the page to resume them.
        </p>
      )}
      {outcome && <ClientAccessBulkResult outcome={outcome} onDismiss={() => setOutcome(null)} />}

      <form className="toolbar" role="search" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={searchId}>Search device name or agent id</label>
          <input
            id={searchId}
            type="search"
            value={searchText}
            maxLength={255}
            onChange={(e) => setSearchText(e.target.value)}
            autoComplete="off"
            size={32}
          />
        </div>
        <PageSizeSelect id={`${searchId}-size`} value={pageSize} onChange={setPageSize} />
        <button type="button" className="secondary" onClick={() => reload.current()}>
          Refresh
        </button>
      </form>

      <ClientAccessTabs idPrefix="access" label="Requests by status" tabs={tabs} selected={tab.key} onSelect={selectTab}>
        {selectable && (
          <div className="bulk-bar" aria-label="Selected requests" role="group">
            <span>
              {selectedIds.size === 0
                ? 'Select requests to approve or reject them together.'
                : `${selectedIds.size} selected${offPage > 0 ? ` (${offPage} not shown on this page)` : ''}`}
            </span>
            <button type="button" disabled={busy || selectedIds.size === 0} onClick={runApprove}>
              {approveState.loading ? 'Approving…' : 'Approve'}
            </button>
            <button
              type="button"
              className="danger"
              disabled={busy || selectedIds.size === 0}
              onClick={() => {
                setActionError(null);
                setRejecting(true);
              }}
            >
              Reject…
            </button>
            {selectedIds.size > 0 && (
              <button type="button" className="secondary" onClick={clearSelection} disabled={busy}>
                Clear selection
              </button>
            )}
          </div>
        )}
        {actionError && !rejecting ? <ErrorNote error={actionError} /> : null}
        {list.error && <ErrorNote error={list.error} />}
        {data && (
          <div aria-busy={stale} className={stale ? 'stale' : undefined}>
            {rows.length === 0 ? (
              <p className="empty">{search ? `No ${tab.label.toLowerCase()} requests match “${search}”.` : tab.empty}</p>
            ) : (
              <ClientAccessTable
                rows={rows}
                status={tab.status}
                caption={`${tab.label} requests`}
                selected={selectable ? selectedIds : undefined}
                onToggle={selectable ? toggle : undefined}
                onToggleAll={selectable ? toggleAll : undefined}
                onRevoke={isAdmin && tab.status === 'APPROVED' ? setRevoking : undefined}
              />
            )}
            <Pager label={`${tab.label} requests pages`} pageInfo={pageInfo} paging={paging} busy={stale} />
          </div>
        )}
        {!data && !list.error && <p aria-busy="true">Loading…</p>}
      </ClientAccessTabs>

      {rejecting && (
        <RejectRequestsDialog
          count={selectedIds.size}
          busy={rejectState.loading}
          error={actionError}
          onConfirm={runReject}
          onCancel={() => {
            setRejecting(false);
            setActionError(null);
          }}
        />
      )}
      {revoking && (
        <RevokeDialog
          certificateId={revoking.id}
          title={`Revoke the certificate of ${rowName(revoking)}`}
          onDone={(revoked) => {
            const name = rowName(revoking);
            setRevoking(null);
            if (revoked) {
              setLiveNote(`Revoked the certificate of ${name}`);
              reload.current();
            }
          }}
        />
      )}
    </>
  );
}
