import { formatDateTime } from '../format';

/**
 * LocalTime shows an API timestamp as formatDateTime does (the reader's time zone and style), with
 * the UTC value in its tooltip and datetime; none is a muted dash.
 */
export function LocalTime({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  if (Number.isNaN(Date.parse(iso))) return <span>{iso}</span>;
  return (
    <time dateTime={iso} title={`${iso} (UTC)`}>
      {formatDateTime(iso)}
    </time>
  );
}
