import type { ConsoleAuditLogQuery } from '../gql/graphql';
import { LocalTime } from './LocalTime';

/** AuditRow is one audit event as the Audit log page reads it. */
export type AuditRow = ConsoleAuditLogQuery['auditLog']['edges'][number]['node'];

/** detailsOf reads an event's details (a JSON object in a string) into pairs to show; anything else is shown as it is. */
function detailsOf(details: string | null | undefined): [string, string][] | string | null {
  if (!details) return null;
  try {
    const parsed: unknown = JSON.parse(details);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return details;
    return Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, valueText(v)]);
  } catch {
    return details;
  }
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map(valueText).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** AuditLogTable lists audit events as the API returns them (newest first). */
export function AuditLogTable({ rows }: { rows: AuditRow[] }) {
  return (
    <div className="table-scroll">
      <table className="data audit-table">
        <caption className="visually-hidden">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => {
            const details = detailsOf(e.details);
            return (
              <tr key={e.id} data-event-id={e.id}>
                <td className="nowrap">
                  <LocalTime iso={e.at} />
                </td>
                <td>{e.actor}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.targetId ? <code>{e.targetId}</code> : <span className="muted">—</span>}</td>
                <td>
                  {details === null ? (
                    <span className="muted">—</span>
                  ) : typeof details === 'string' ? (
                    <code>{details}</code>
                  ) : (
                    <dl className="details">
                      {details.map(([k, v]) => (
                        <div key={k}>
                          <dt>{k}</dt>
                          <dd>{v}</dd>
                        </div>
                      ))}
                    </dl>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
