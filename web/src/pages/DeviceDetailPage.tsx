import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { ErrorNote } from '../components/ErrorNote';
import { InventoryTree } from '../components/InventoryTree';
import { Fingerprint } from '../components/Fingerprint';
import { LocalTime } from '../components/LocalTime';
import { Pager, usePaging, type Paging } from '../components/paging';
import { RevokeButton, RevokeDialog } from '../components/RevokeDialog';
import { StatusBadge } from '../components/StatusBadge';
import {
  certificateStatusLabel,
  failureReasonLabel,
  formatDateTime,
  revocationReasonLabel,
  sourceLabel,
  statusLabel,
  unverifiedReasonLabel,
} from '../format';
import { graphql } from '../gql';
import type { DeviceDetailQuery } from '../gql/graphql';
import { Link } from '../router';
import { useViewer } from '../viewer';

const DeviceDetailQuery = graphql(`
  query DeviceDetail($id: ID!, $historyFirst: Int, $historyAfter: String, $historyLast: Int, $historyBefore: String) {
    device(id: $id) {
      ...DeviceRowFields
      imported
      unverifiedAttempts
      lastUnverifiedAttemptAt
      inventory {
        path
        value
      }
      connectionHistory(first: $historyFirst, after: $historyAfter, last: $historyLast, before: $historyBefore) {
        pageInfo {
          ...PageInfoFields
        }
        edges {
          cursor
          node {
            at
            source
            result
            failureReason
            agentVersion
            certificateSerialNumber
            verified
            unverifiedReason
            remoteAddress
          }
        }
      }
      certificates {
        ...CertificateFields
      }
    }
  }
`);

type DeviceDetail = NonNullable<DeviceDetailQuery['device']>;
type Certificate = DeviceDetail['certificates'][number];

const HISTORY_PAGE = 10;
// A newest-first history pages towards older attempts.
const HISTORY_WORDS = { first: 'Newest', previous: 'Newer', next: 'Older' };

/** DeviceDetailPage is one device: its status, inventory tree, connection history and certificates. */
export function DeviceDetailPage({ id }: { id: string }) {
  // Keyed by id: another device starts at its newest history, not at a cursor of the one before.
  return <DeviceDetail key={id} id={id} />;
}

function DeviceDetail({ id }: { id: string }) {
  // The history pages by itself, within the page; the device's address stays /devices/<id>.
  const paging = usePaging(id, HISTORY_PAGE);
  const { first, after, last, before } = paging.vars;
  const { data, previousData, loading, error, refetch } = useQuery(DeviceDetailQuery, {
    variables: { id, historyFirst: first, historyAfter: after, historyLast: last, historyBefore: before },
  });
  const device = (data ?? previousData)?.device;

  if (error && !device) {
    return (
      <>
        <h1>Device</h1>
        <ErrorNote error={error} />
        <p>
          <Link to="/devices">Back to the network view</Link>
        </p>
      </>
    );
  }
  if (!device) return <p aria-busy="true">Loading…</p>;

  return (
    <>
      <p className="breadcrumb">
        <Link to="/devices">Network view</Link> › {device.name}
      </p>
      <header className="device-header">
        <h1>{device.name}</h1>
        <StatusBadge status={device.authStatus} />
        {device.failureReason && <span className="muted">({failureReasonLabel(device.failureReason)})</span>}
      </header>
      {error && <ErrorNote error={error} />}
      <dl className="facts">
        <dt>Agent id</dt>
        <dd>{device.agentId ?? 'none'}</dd>
        <dt>Agent version</dt>
        <dd>{device.agentVersion ?? 'unknown'}</dd>
        <dt>Fully manageable</dt>
        <dd>{device.fullyManageable ? 'Yes' : 'No'}</dd>
        <dt>Last connection</dt>
        <dd>
          {device.lastConnection
            ? `${formatDateTime(device.lastConnection.at)} · ${sourceLabel(device.lastConnection.source)}`
            : 'never'}
        </dd>
        <dt>Known from</dt>
        <dd>{device.isCoreServer ? 'the core server itself' : device.imported ? 'the inventory import' : 'its enrollment'}</dd>
        {device.unverifiedAttempts > 0 && (
          <>
            <dt>Unverified attempts</dt>
            <dd>
              {device.unverifiedAttempts}, the latest {formatDateTime(device.lastUnverifiedAttemptAt)}
            </dd>
          </>
        )}
      </dl>

      <section aria-labelledby="inventory-heading">
        <h2 id="inventory-heading">Inventory</h2>
        <InventoryTree attributes={device.inventory} />
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">Connection history</h2>
        <History history={device.connectionHistory} busy={loading} paging={paging} />
      </section>

      <section aria-labelledby="certificates-heading">
        <h2 id="certificates-heading">Certificates</h2>
        <Certificates certificates={device.certificates} onRevoked={() => void refetch()} />
      </section>
    </>
  );
}

function History({ history, busy, paging }: { history: DeviceDetail['connectionHistory']; busy: boolean; paging: Paging }) {
  const { pageInfo, edges } = history;
  if (edges.length === 0 && !pageInfo.hasPreviousPage) return <p className="muted">No connection attempts yet.</p>;
  return (
    <>
      <div className="table-scroll">
        <table className="data" aria-busy={busy}>
          <caption className="visually-hidden">Connection attempts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Source</th>
              <th scope="col">Result</th>
              <th scope="col">Agent version</th>
              <th scope="col">Certificate serial</th>
              <th scope="col">From</th>
              <th scope="col">Verified</th>
            </tr>
          </thead>
          <tbody>
            {edges.map(({ cursor, node: a }) => (
              <tr key={cursor} className={a.verified ? undefined : 'unverified'}>
                <td>
                  <LocalTime iso={a.at} />
                </td>
                <td>{sourceLabel(a.source)}</td>
                <td>
                  <span className={`status ${a.result}`}>{statusLabel(a.result)}</span>
                  {a.failureReason && <span className="sub">{failureReasonLabel(a.failureReason)}</span>}
                </td>
                <td>{a.agentVersion ?? ''}</td>
                <td>{a.certificateSerialNumber ? <code>{a.certificateSerialNumber}</code> : <span className="muted">none</span>}</td>
                <td>{a.remoteAddress ?? ''}</td>
                <td>
                  {a.verified ? (
                    'Yes'
                  ) : (
                    <>
                      No
                      {a.unverifiedReason && <span className="sub">{unverifiedReasonLabel(a.unverifiedReason)}; it did not change the device</span>}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager label="Connection history pages" pageInfo={pageInfo} paging={paging} busy={busy} words={HISTORY_WORDS} />
    </>
  );
}

/** certificateName is how the page names a certificate: its serial number (an approved one has one). */
function certificateName(c: Certificate): string {
  return c.serialNumber ?? `of request ${c.id}`;
}

function Certificates({ certificates, onRevoked }: { certificates: Certificate[]; onRevoked(): void }) {
  const viewer = useViewer();
  const [revoking, setRevoking] = useState<Certificate | null>(null);
  const [done, setDone] = useState<string | null>(null);
  if (certificates.length === 0) return <p className="muted">No certificate requests from this device.</p>;
  return (
    <>
      {done && (
        <p role="status" className="success">
          {done}
        </p>
      )}
      <div className="table-scroll">
        <table className="data">
          <caption className="visually-hidden">Client certificates and requests, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Serial number</th>
              <th scope="col">Valid from</th>
              <th scope="col">Valid until</th>
              <th scope="col">Key</th>
              <th scope="col">Requested</th>
              <th scope="col">Decided</th>
              {viewer.isAdmin && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {certificates.map((c) => (
              <tr key={c.id}>
                <td>
                  <span className={`cert-status ${c.status}`}>{certificateStatusLabel(c.status)}</span>
                  {c.revocationReason && <span className="sub">{revocationReasonLabel(c.revocationReason)}</span>}
                  {c.revokedAt && (
                    <span className="sub">
                      revoked <LocalTime iso={c.revokedAt} />
                    </span>
                  )}
                </td>
                <td>{c.serialNumber ? <code>{c.serialNumber}</code> : <span className="muted">none</span>}</td>
                <td>
                  <LocalTime iso={c.notBefore} />
                </td>
                <td>
                  <LocalTime iso={c.notAfter} />
                </td>
                <td>
                  {c.keyAlgorithm}
                  <span className="sub">
                    SHA-256 <Fingerprint value={c.publicKeyFingerprint} of={`certificate ${certificateName(c)}`} />
                  </span>
                </td>
                <td>
                  <LocalTime iso={c.requestedAt} />
                </td>
                <td>
                  {c.decidedAt ? (
                    <>
                      <LocalTime iso={c.decidedAt} />
                      <span className="sub">by {c.decidedBy}</span>
                    </>
                  ) : (
                    ''
                  )}
                </td>
                {viewer.isAdmin && (
                  <td>
                    {c.status === 'APPROVED' && (
                      <RevokeButton
                        which={certificateName(c)}
                        onClick={() => {
                          setDone(null);
                          setRevoking(c);
                        }}
                      />
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {revoking && (
        <RevokeDialog
          certificateId={revoking.id}
          title={`Revoke certificate ${certificateName(revoking)}?`}
          onDone={(revoked) => {
            const name = revoking.serialNumber ?? revoking.id;
            setRevoking(null);
            if (revoked) {
              const why = revoked.revocationReason ? ` (${revocationReasonLabel(revoked.revocationReason)})` : '';
              setDone(`Certificate ${name} revoked${why}.`);
            }
            // Revoked, or cancelled after a refusal (e.g. CONFLICT: revoked meanwhile by someone else): read the device again.
            onRevoked();
          }}
        />
      )}
    </>
  );
}
