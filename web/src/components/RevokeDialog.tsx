import { useMutation } from '@apollo/client/react';
import { useId, useState, type FormEvent } from 'react';
import { REVOCATION_REASON_ORDER, revocationReasonLabel } from '../format';
import { graphql } from '../gql';
import type { RevocationReason, RevokeCertificateMutation } from '../gql/graphql';
import { useModal } from '../hooks';
import { ErrorNote } from './ErrorNote';

// What a revocation changes: the certificate, and its device's status (read back so the cache, and
// every list showing the device, follow).
const RevokeMutation = graphql(`
  mutation RevokeCertificate($id: ID!, $reason: RevocationReason) {
    revokeClientCertificate(id: $id, reason: $reason) {
      id
      status
      revokedAt
      revocationReason
      device {
        id
        authStatus
        failureReason
        fullyManageable
      }
    }
  }
`);

/** RevokedCertificate is what the API says of the certificate it revoked. */
export type RevokedCertificate = RevokeCertificateMutation['revokeClientCertificate'];

/**
 * RevokeButton opens a RevokeDialog from a table row: it reads 'Revoke', and to a screen reader
 * 'Revoke certificate ' and which (a serial number, or 'of ' a device).
 */
export function RevokeButton({ which, onClick }: { which: string; onClick(): void }) {
  return (
    <button type="button" className="danger small" onClick={onClick}>
      Revoke<span className="visually-hidden"> certificate {which}</span>
    </button>
  );
}

/**
 * RevokeDialog asks for the reason (written on the CRL) and revokes one APPROVED certificate: a modal
 * <dialog>, so the choice is made on purpose and Escape backs out. title names the certificate the
 * way its page knows it. onDone gets the revoked certificate, or null when the person cancelled
 * (also after a refusal, e.g. CONFLICT when someone revoked it meanwhile: the page may be behind).
 */
export function RevokeDialog({
  certificateId,
  title,
  onDone,
}: {
  certificateId: string;
  title: string;
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
    <dialog ref={ref} aria-labelledby={titleId} onClose={() => onDone(null)}>
      <form onSubmit={submit}>
        <h2 id={titleId}>{title}</h2>
        <p>
          The certificate goes on the CRL at once and the device can no longer authenticate with it: a device that did turns
          to Authentication failed. This cannot be undone; the device has to enroll again.
        </p>
        <div className="field">
          <label htmlFor={reasonId}>Reason</label>
          <select id={reasonId} value={reason} onChange={(e) => setReason(e.target.value as RevocationReason)} autoFocus>
            {REVOCATION_REASON_ORDER.map((r) => (
              <option key={r} value={r}>
                {revocationReasonLabel(r)}
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
