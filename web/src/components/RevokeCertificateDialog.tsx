import { useMutation } from '@apollo/client/react';
import { useId, useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { RevocationReason } from '../gql/graphql';
import { useModal } from './AccessListParts';
import { ErrorNote } from './ErrorNote';

const RevokeMutation = graphql(`
  mutation RevokeCertificateDialogRevoke($id: ID!, $reason: RevocationReason) {
    revokeClientCertificate(id: $id, reason: $reason) {
      id
      status
      revokedAt
      revocationReason
      device {
        id
        authStatus
        failureReason
      }
    }
  }
`);

/** REASONS are the revocation reasons the API offers, in the words an admin picks them by. */
const REASONS: { value: RevocationReason; label: string }[] = [
  { value: 'UNSPECIFIED', label: 'Unspecified' },
  { value: 'KEY_COMPROMISE', label: 'Key compromise: the private key is, or may be, known to someone else' },
  { value: 'CESSATION_OF_OPERATION', label: 'Cessation of operation: the device is retired' },
  { value: 'SUPERSEDED', label: 'Superseded: a newer certificate replaces it' },
];

export interface RevokedCertificate {
  id: string;
  status: string;
  revocationReason?: RevocationReason | null;
}

/**
 * RevokeCertificateDialog asks for a reason and revokes one APPROVED certificate
 * (revokeClientCertificate). onDone gets the revoked certificate, or null when the person cancelled.
 * deviceName, when given, names the device in the dialog's title.
 */
export function RevokeCertificateDialog({
  certificateId,
  deviceName,
  onDone,
}: {
  certificateId: string;
  deviceName?: string;
  onDone(revoked: RevokedCertificate | null): void;
}) {
  const ref = useModal();
  const titleId = useId();
  const reasonId = useId();
  const [reason, setReason] = useState<RevocationReason>('UNSPECIFIED');
  const [revoke, { loading, error }] = useMutation(RevokeMutation);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const res = await revoke({ variables: { id: certificateId, reason } });
      if (res.data) onDone(res.data.revokeClientCertificate);
    } catch {
      // Shown by ErrorNote from the mutation's error state; the dialog stays open to try again or cancel.
    }
  };
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={() => onDone(null)} className="access-dialog">
      <form onSubmit={submit}>
        <h2 id={titleId}>Revoke the certificate{deviceName ? ` of ${deviceName}` : ''}</h2>
        <p>
          The certificate goes on the CRL at once and the device can no longer authenticate with it: a device that did turns
          to Authentication failed. This cannot be undone; the device has to enroll again.
        </p>
        <div className="field">
          <label htmlFor={reasonId}>Reason</label>
          <select id={reasonId} value={reason} onChange={(e) => setReason(e.target.value as RevocationReason)} autoFocus>
            {REASONS.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        {error && <ErrorNote error={error} />}
        <div className="actions">
          <button type="button" className="secondary" onClick={() => onDone(null)} disabled={loading}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={loading}>
            {loading ? 'Revoking…' : 'Revoke certificate'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
