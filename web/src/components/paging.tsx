import { useState } from 'react';
import { graphql } from '../gql';
import { navigate } from '../router';

// Cursor paging for every console list: first/after forward, last/before backward. Where the page is
// kept is the list's choice: in the URL (?after=… or ?before=…, ?size=…), so a reload, a bookmark or
// Back shows the same page; or in the component, for a list inside a page (a tab, a device's history)
// whose address should not change. Either way the list gets a Paging and shows the same Pager.

// Every list reads the same four fields of its PageInfo: what the Pager needs.
export const PageInfoFields = graphql(`
  fragment PageInfoFields on PageInfo {
    hasNextPage
    hasPreviousPage
    startCursor
    endCursor
  }
`);

/** DEFAULT_PAGE_SIZE is how many rows a console list shows at once. */
export const DEFAULT_PAGE_SIZE = 25;
/** MAX_PAGE_SIZE is the API's own bound on first and last. */
export const MAX_PAGE_SIZE = 500;
/** PAGE_SIZES are the choices of PageSizeSelect. */
export const PAGE_SIZES = [10, 25, 50, 100] as const;

/** PageVars are a list's paging arguments, all four given (null when unused) so no server default sneaks in. */
export interface PageVars {
  first: number | null;
  after: string | null;
  last: number | null;
  before: string | null;
}

/** Paging is where a list is and how to move: to its first page, after a page's endCursor, before a page's startCursor. */
export interface Paging {
  vars: PageVars;
  atStart: boolean;
  first(): void;
  next(endCursor: string): void;
  previous(startCursor: string): void;
}

type Place = { way: 'start'; cursor: null } | { way: 'after' | 'before'; cursor: string };

const START: Place = { way: 'start', cursor: null };

function varsOf(place: Place, size: number): PageVars {
  return place.way === 'before'
    ? { first: null, after: null, last: size, before: place.cursor }
    : { first: size, after: place.way === 'after' ? place.cursor : null, last: null, before: null };
}

/**
 * usePaging keeps a list's place in the component. A new key (another tab, search or page size)
 * starts over from the first page.
 */
export function usePaging(key: string, size: number): Paging {
  const [state, setState] = useState<{ key: string; place: Place }>({ key, place: START });
  const place = state.key === key ? state.place : START;
  return {
    vars: varsOf(place, size),
    atStart: place.way === 'start',
    first: () => setState({ key, place: START }),
    next: (endCursor) => setState({ key, place: { way: 'after', cursor: endCursor } }),
    previous: (startCursor) => setState({ key, place: { way: 'before', cursor: startCursor } }),
  };
}

/**
 * urlPaging reads a list's place from the URL of path (?after= or ?before=, and ?size=: out of
 * bounds or not a number, defaultSize); moving pushes history, so Back returns to the page before.
 * A filter change drops the cursor (withParams with after and before null) and so starts at the first page.
 */
export function urlPaging(path: string, params: URLSearchParams, defaultSize = DEFAULT_PAGE_SIZE): Paging {
  const asked = Number(params.get('size'));
  const size = Number.isInteger(asked) && asked >= 1 && asked <= MAX_PAGE_SIZE ? asked : defaultSize;
  const before = params.get('before');
  const after = params.get('after');
  const place: Place = before ? { way: 'before', cursor: before } : after ? { way: 'after', cursor: after } : START;
  const go = (changes: Record<string, string | null>) => navigate(withParams(path, params, changes));
  return {
    vars: varsOf(place, size),
    atStart: place.way === 'start',
    first: () => go({ after: null, before: null }),
    next: (endCursor) => go({ after: endCursor, before: null }),
    previous: (startCursor) => go({ before: startCursor, after: null }),
  };
}

/** withParams is path with params changed: null deletes a parameter, a list repeats it (?status=A&status=B). */
export function withParams(path: string, params: URLSearchParams, changes: Record<string, string | readonly string[] | null>): string {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    next.delete(key);
    if (value === null) continue;
    for (const v of typeof value === 'string' ? [value] : value) if (v !== '') next.append(key, v);
  }
  const query = next.toString();
  return query ? `${path}?${query}` : path;
}

/** PagerInfo is the part of a PageInfo the Pager reads (PageInfoFields). */
export interface PagerInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor?: string | null;
  endCursor?: string | null;
}

/** PagerWords name the Pager's three buttons: a newest-first history says Newest, Newer and Older. */
export interface PagerWords {
  first: string;
  previous: string;
  next: string;
}

const PAGER_WORDS: PagerWords = { first: 'First', previous: 'Previous', next: 'Next' };

/** Pager is the First / Previous / Next buttons of a cursor-paged list. */
export function Pager({
  label,
  pageInfo,
  paging,
  busy,
  words = PAGER_WORDS,
}: {
  label: string;
  pageInfo: PagerInfo | undefined;
  paging: Paging;
  busy?: boolean;
  words?: PagerWords;
}) {
  const canPrev = !!pageInfo?.hasPreviousPage && !!pageInfo.startCursor;
  const canNext = !!pageInfo?.hasNextPage && !!pageInfo.endCursor;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="secondary" disabled={busy || !canPrev} onClick={() => paging.first()}>
        {words.first}
      </button>
      <button type="button" className="secondary" disabled={busy || !canPrev} onClick={() => paging.previous(pageInfo!.startCursor!)}>
        {words.previous}
      </button>
      <button type="button" className="secondary" disabled={busy || !canNext} onClick={() => paging.next(pageInfo!.endCursor!)}>
        {words.next}
      </button>
    </nav>
  );
}

/** PageSizeSelect chooses how many rows a page shows. */
export function PageSizeSelect({ id, value, onChange }: { id: string; value: number; onChange(size: number): void }) {
  return (
    <div className="field">
      <label htmlFor={id}>Rows per page</label>
      <select id={id} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {PAGE_SIZES.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </div>
  );
}
