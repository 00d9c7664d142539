import { useEffect, useRef } from 'react';
import { revocationReasonLabel } from '../format';
import type { ClientAccessListQuery, ClientCertificateStatus } from '../gql/graphql';
import { Fingerprint } from './Fingerprint';
import { LocalTime } from './LocalTime';
import { RevokeButton } from './RevokeDialog';

/** AccessRow is one request (and its certificate) as the Manage client access list reads it. */
export type AccessRow = ClientAccessListQuery['clientAccessRequests']['edges'][number]['node'];

/** rowName is what a row is called for a person: the device's name, or the name its request asks for. */
export function rowName(row: Pick<AccessRow, 'device' | 'requestedDeviceName'>): string {
  return row.device.name || row.requestedDeviceName || row.device.agentId || '(unnamed)';
}

/**
 * ClientAccessTable lists one tab's requests. With onToggle it offers a checkbox per row and one for
 * the whole page; with onRevoke, a Revoke button per approved certificate. Neither is given to a VIEWER.
 */
export function ClientAccessTable({
  rows,
  status,
  caption,
  selected,
  onToggle,
  onToggleAll,
  onRevoke,
}: {
  rows: AccessRow[];
  status: ClientCertificateStatus;
  caption: string;
  selected?: ReadonlySet<string>;
  onToggle?(row: AccessRow, checked: boolean): void;
  onToggleAll?(checked: boolean): void;
  onRevoke?(row: AccessRow): void;
}) {
  const selectable = !!onToggle && !!selected;
  const checkedOnPage = selectable ? rows.filter((r) => selected.has(r.id)).length : 0;
  const all = rows.length > 0 && checkedOnPage === rows.length;
  const some = checkedOnPage > 0 && !all;
  const allRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // indeterminate has no attribute: it is set on the element, so "some selected" reads as mixed.
    if (allRef.current) allRef.current.indeterminate = some;
  }, [some]);
  const decided = status !== 'PENDING';
  return (
    <div className="table-scroll">
      <table className="data access-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {selectable && (
              <th scope="col" className="select">
                <input
                  ref={allRef}
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={all}
                  disabled={rows.length === 0}
                  onChange={(e) => onToggleAll?.(e.target.checked)}
                />
              </th>
            )}
            <th scope="col">Device name</th>
            <th scope="col">Agent id</th>
            <th scope="col">Requested name and version</th>
            <th scope="col">Key</th>
            <th scope="col">Key fingerprint (SHA-256)</th>
            <th scope="col">Requested</th>
            {decided && <th scope="col">{status === 'REJECTED' ? 'Rejected by, at' : 'Approved by, at'}</th>}
            {status === 'APPROVED' && <th scope="col">Valid until</th>}
            {status === 'REVOKED' && <th scope="col">Revoked at, reason</th>}
            {onRevoke && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const name = rowName(row);
            return (
              <tr key={row.id} data-request-id={row.id} className={selected?.has(row.id) ? 'selected' : undefined}>
                {selectable && (
                  <td className="select">
                    <input
                      type="checkbox"
                      aria-label={`Select ${name} (${row.device.agentId ?? row.subject})`}
                      checked={selected.has(row.id)}
                      onChange={(e) => onToggle(row, e.target.checked)}
                    />
                  </td>
                )}
                <td>{row.device.name}</td>
                <td>
                  <code>{row.device.agentId ?? row.subject}</code>
                </td>
                <td>
                  {row.requestedDeviceName ?? <span className="muted">—</span>}
                  {row.requestedAgentVersion && <span className="muted"> · agent {row.requestedAgentVersion}</span>}
                </td>
                <td className="key">{row.keyAlgorithm}</td>
                <td>
                  <Fingerprint value={row.publicKeyFingerprint} of={name} />
                </td>
                <td>
                  <LocalTime iso={row.requestedAt} />
                  {row.requestedFrom && <div className="muted small">from {row.requestedFrom}</div>}
                </td>
                {decided && (
                  <td>
                    {row.decidedBy ?? <span className="muted">—</span>}
                    <div className="small">
                      <LocalTime iso={row.decidedAt} />
                    </div>
                  </td>
                )}
                {status === 'APPROVED' && (
                  <td>
                    <LocalTime iso={row.notAfter} />
                  </td>
                )}
                {status === 'REVOKED' && (
                  <td>
                    <LocalTime iso={row.revokedAt} />
                    {row.revocationReason && <div className="small">{revocationReasonLabel(row.revocationReason)}</div>}
                  </td>
                )}
                {onRevoke && (
                  <td>
                    {row.status === 'APPROVED' && <RevokeButton which={`of ${name}`} onClick={() => onRevoke(row)} />}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
