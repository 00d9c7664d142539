import { navigate } from '../router';

// Lists page with cursors kept in the URL (?after=… or ?before=…, ?size=…): a reload, a bookmark or
// Back shows the same page, and a filter change (which drops the cursor) starts again at the first.

/** DEFAULT_PAGE_SIZE is how many rows a console list shows at once. */
export const DEFAULT_PAGE_SIZE = 25;
/** MAX_PAGE_SIZE is the API's own bound on first and last. */
export const MAX_PAGE_SIZE = 500;

/** PageArgs are the Relay paging arguments of one page: forward (first/after) or backward (last/before). */
export interface PageArgs {
  first?: number;
  after?: string;
  last?: number;
  before?: string;
}

/** PAGING_PARAMS are the URL parameters paging owns: a filter change clears them. */
export const PAGING_PARAMS = ['after', 'before'] as const;

/** pageArgsFrom reads the page the URL asks for; a size out of bounds or not a number falls back to the default. */
export function pageArgsFrom(params: URLSearchParams, defaultSize = DEFAULT_PAGE_SIZE): PageArgs & { size: number } {
  const asked = Number(params.get('size'));
  const size = Number.isInteger(asked) && asked >= 1 && asked <= MAX_PAGE_SIZE ? asked : defaultSize;
  const before = params.get('before');
  if (before) return { size, last: size, before };
  const after = params.get('after');
  return after ? { size, first: size, after } : { size, first: size };
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

interface PageInfoLike {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor?: string | null;
  endCursor?: string | null;
}

/** Pager moves a URL-addressed list a page back or forward (pushing history, so Back returns). */
export function Pager({
  path,
  params,
  pageInfo,
  busy,
  label,
}: {
  path: string;
  params: URLSearchParams;
  pageInfo: PageInfoLike | undefined;
  busy: boolean;
  label: string;
}) {
  const go = (changes: Record<string, string | null>) => navigate(withParams(path, params, changes));
  return (
    <nav className="pager" aria-label={label}>
      <button
        type="button"
        className="secondary"
        disabled={busy || !pageInfo?.hasPreviousPage || !pageInfo.startCursor}
        onClick={() => go({ before: pageInfo!.startCursor!, after: null })}
      >
        Previous
      </button>
      <button
        type="button"
        className="secondary"
        disabled={busy || !pageInfo?.hasNextPage || !pageInfo.endCursor}
        onClick={() => go({ after: pageInfo!.endCursor!, before: null })}
      >
        Next
      </button>
    </nav>
  );
}
