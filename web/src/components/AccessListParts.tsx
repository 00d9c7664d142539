import { useEffect, useRef, useState } from 'react';

// Pieces the Manage client access and Audit log pages share: local times, shortened fingerprints,
// cursor paging with its buttons, and the modal dialog behaviour their dialogs use.

/** LocalTime shows an API timestamp in the reader's time zone, with the UTC value in its tooltip and datetime. */
export function LocalTime({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return <span>{iso}</span>;
  return (
    <time dateTime={iso} title={`${iso} (UTC)`}>
      {d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
    </time>
  );
}

/** shortFingerprint keeps the ends of a long hex fingerprint, enough to tell keys apart at a glance. */
export function shortFingerprint(hex: string): string {
  return hex.length > 20 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex;
}

/**
 * Fingerprint shows a key fingerprint shortened, the full value in its tooltip, and a button to copy
 * it whole (what an admin compares against the device's own view of its key).
 */
export function Fingerprint({ value, of }: { value: string; of: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = () => {
    // The clipboard may be missing or refused (no permission, no focus): say so instead of failing silently.
    if (!navigator.clipboard) {
      setCopied('failed');
      return;
    }
    navigator.clipboard.writeText(value).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
  };
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(null), 2500);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <span className="access-fingerprint">
      <code title={value}>{shortFingerprint(value)}</code>{' '}
      <button type="button" className="link" onClick={copy}>
        Copy<span className="visually-hidden"> key fingerprint of {of}</span>
      </button>
      <span role="status" className="copy-note">
        {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'The browser refused the copy' : ''}
      </span>
    </span>
  );
}

/** PageVars are a list's paging arguments, all four given (null when unused) so no server default sneaks in. */
export interface PageVars {
  first: number | null;
  after: string | null;
  last: number | null;
  before: string | null;
}

interface PageState {
  key: string;
  way: 'start' | 'after' | 'before';
  cursor: string | null;
}

/**
 * usePaging keeps where a cursor-paged list is: its start, after a page's endCursor, or before a
 * page's startCursor. A new key (another tab, search or page size) starts over from the first page.
 */
export function usePaging(key: string, size: number) {
  const [state, setState] = useState<PageState>({ key, way: 'start', cursor: null });
  const current: PageState = state.key === key ? state : { key, way: 'start', cursor: null };
  const vars: PageVars =
    current.way === 'before'
      ? { first: null, after: null, last: size, before: current.cursor }
      : { first: size, after: current.way === 'after' ? current.cursor : null, last: null, before: null };
  return {
    vars,
    atStart: current.way === 'start',
    next: (endCursor: string) => setState({ key, way: 'after', cursor: endCursor }),
    previous: (startCursor: string) => setState({ key, way: 'before', cursor: startCursor }),
    first: () => setState({ key, way: 'start', cursor: null }),
  };
}

export interface PagerInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor?: string | null;
  endCursor?: string | null;
}

/** Pager is the Previous / Next buttons of a cursor-paged list (and First, once away from it). */
export function Pager({
  label,
  pageInfo,
  paging,
  busy,
}: {
  label: string;
  pageInfo: PagerInfo | undefined;
  paging: ReturnType<typeof usePaging>;
  busy?: boolean;
}) {
  const canPrev = !!pageInfo?.hasPreviousPage && !!pageInfo.startCursor;
  const canNext = !!pageInfo?.hasNextPage && !!pageInfo.endCursor;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="secondary" disabled={busy || !canPrev} onClick={() => paging.first()}>
        First
      </button>
      <button type="button" className="secondary" disabled={busy || !canPrev} onClick={() => paging.previous(pageInfo!.startCursor!)}>
        Previous
      </button>
      <button type="button" className="secondary" disabled={busy || !canNext} onClick={() => paging.next(pageInfo!.endCursor!)}>
        Next
      </button>
    </nav>
  );
}

export const PAGE_SIZES = [10, 25, 50, 100] as const;

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

/**
 * useModal opens a <dialog> as a modal when it mounts (focus moves into it, the page behind is
 * inert) and gives focus back to what had it when it unmounts.
 */
export function useModal() {
  const ref = useRef<HTMLDialogElement>(null);
  // Read at the first render, before the dialog takes focus: what opened it.
  const opener = useRef(document.activeElement instanceof HTMLElement ? document.activeElement : null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    const back = opener.current;
    return () => {
      if (back?.isConnected) back.focus();
    };
  }, []);
  return ref;
}

/** useDebounced is value once it has stopped changing for ms. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}
