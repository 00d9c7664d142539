import { useQuery } from '@apollo/client/react';
import { useEffect, useId, useState } from 'react';
import { DeviceTable } from '../components/DeviceTable';
import { ErrorNote } from '../components/ErrorNote';
import { Pager, urlPaging, withParams } from '../components/paging';
import { FAILURE_REASON_ORDER, deviceCount, STATUS_ORDER, failureReasonLabel, isAuthStatus, isFailureReason, statusLabel } from '../format';
import { graphql } from '../gql';
import type { AuthenticationStatus } from '../gql/graphql';
import { navigate, useLocation } from '../router';

const NetworkViewQuery = graphql(`
  query NetworkViewDevices($filter: DeviceFilter, $first: Int, $after: String, $last: Int, $before: String) {
    devices(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      ...DevicePageFields
    }
  }
`);

const PATH = '/devices';
const SEVERAL = '__several';
// How long typing may pause before the search applies: one request per word, not per key.
const SEARCH_DELAY_MS = 300;

/**
 * NetworkViewPage is the fleet's device list. Its filters are the URL's (?status=…&status=…,
 * ?reason=…, ?q=…), so the chart's drill-down (/devices?status=AUTHENTICATION_FAILED), a bookmark
 * and a reload all show the same list.
 */
export function NetworkViewPage() {
  const { params } = useLocation();
  const statusParams = params.getAll('status');
  const reasonParams = params.getAll('reason');
  const statuses = statusParams.filter(isAuthStatus);
  const reasons = reasonParams.filter(isFailureReason);
  // Words in the URL the API does not know are left out of the filter, and said so.
  const ignored = [...statusParams.filter((s) => !isAuthStatus(s)), ...reasonParams.filter((r) => !isFailureReason(r))];
  const search = params.get('q') ?? '';
  const paging = urlPaging(PATH, params);

  const filter = {
    ...(statuses.length > 0 ? { authStatus: statuses } : {}),
    ...(reasons.length > 0 ? { failureReasons: reasons } : {}),
    ...(search.trim() ? { search: search.trim() } : {}),
  };
  const { data, previousData, loading, error } = useQuery(NetworkViewQuery, {
    variables: { filter, ...paging.vars },
  });
  const devices = (data ?? previousData)?.devices;

  // A filter change starts again at the first page; it replaces the history entry, so Back leaves the view.
  // It reads the address as it is now: a delayed search must not undo a status ticked meanwhile.
  const setFilter = (changes: Record<string, string | readonly string[] | null>) =>
    navigate(withParams(PATH, new URLSearchParams(window.location.search), { ...changes, after: null, before: null }), {
      replace: true,
    });

  return (
    <>
      <h1>Network view</h1>
      <form className="toolbar filters" role="search" aria-label="Filter devices" onSubmit={(e) => e.preventDefault()}>
        <StatusFilter selected={statuses} onChange={(next) => setFilter({ status: next })} />
        <div className="field">
          <label htmlFor="reason-filter">Failure reason</label>
          <select
            id="reason-filter"
            value={reasons.length > 1 ? SEVERAL : (reasons[0] ?? '')}
            onChange={(e) => setFilter({ reason: e.target.value === SEVERAL ? reasons : e.target.value || null })}
          >
            <option value="">Any</option>
            {/* A link may ask for several reasons (?reason=A&reason=B); the box can show them, not pick them. */}
            {reasons.length > 1 && (
              <option value={SEVERAL} disabled>
                {reasons.map(failureReasonLabel).join(', ')}
              </option>
            )}
            {FAILURE_REASON_ORDER.map((r) => (
              <option key={r} value={r}>
                {failureReasonLabel(r)}
              </option>
            ))}
          </select>
        </div>
        <SearchBox value={search} onChange={(q) => setFilter({ q: q || null })} />
        {(statuses.length > 0 || reasons.length > 0 || search) && (
          <button type="button" className="secondary" onClick={() => setFilter({ status: null, reason: null, q: null })}>
            Clear filters
          </button>
        )}
      </form>
      {ignored.length > 0 && <p className="note">Ignored in the address: {ignored.join(', ')} (not a status or failure reason).</p>}
      {error && <ErrorNote error={error} />}
      <p className="count" data-testid="total-count" aria-live="polite">
        {devices ? deviceCount(devices.totalCount) : loading ? 'Loading…' : ''}
      </p>
      <DeviceTable caption="Devices" devices={devices?.edges.map((e) => e.node) ?? []} busy={loading} />
      <Pager label="Device pages" pageInfo={devices?.pageInfo} paging={paging} busy={loading} />
    </>
  );
}

/** StatusFilter is a checkbox per chart item; none checked: every status. */
function StatusFilter({ selected, onChange }: { selected: AuthenticationStatus[]; onChange(next: AuthenticationStatus[]): void }) {
  const toggle = (s: AuthenticationStatus, on: boolean) =>
    onChange(STATUS_ORDER.filter((x) => (x === s ? on : selected.includes(x))));
  return (
    <fieldset className="checks">
      <legend>Status</legend>
      {STATUS_ORDER.map((s) => (
        <label key={s} className="check">
          <input type="checkbox" checked={selected.includes(s)} onChange={(e) => toggle(s, e.target.checked)} />
          <span className={`status ${s}`}>{statusLabel(s)}</span>
        </label>
      ))}
    </fieldset>
  );
}

/** SearchBox edits the search at once and applies it when typing pauses. */
function SearchBox({ value, onChange }: { value: string; onChange(q: string): void }) {
  const id = useId();
  const [text, setText] = useState(value);
  // The URL may change under the box (Clear filters, Back): the box follows it.
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const t = setTimeout(() => onChange(text), SEARCH_DELAY_MS);
    return () => clearTimeout(t);
    // onChange is a new function each render (it reads the address when called): the text is what matters.
  }, [text, value]);
  return (
    <div className="field">
      <label htmlFor={id}>Search name or agent id</label>
      <input id={id} type="search" value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" />
    </div>
  );
}
