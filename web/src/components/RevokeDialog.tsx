import { useMutation } from '@apollo/client/react';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { REVOCATION_REASON_ORDER, revocationReasonLabel } from '../format';
import { graphql } from '../gql';
import type { RevocationReason } from '../gql/graphql';
import { ErrorNote } from './ErrorNote';

const RevokeMutation = graphql(`
  mutation RevokeDeviceCertificate($id: ID!, $reason: RevocationReason) {
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

/** RevokeTarget is the certificate the dialog is about. */
export interface RevokeTarget {
  id: string;
  serialNumber: string | null;
}

/**
 * RevokeDialog asks for the reason (written on the CRL) before revoking a certificate: a modal
 * <dialog>, so the choice is made on purpose and Escape backs out.
 */
export function RevokeDialog({
  target,
  onClose,
  onRevoked,
}: {
  target: RevokeTarget;
  onClose(): void;
  onRevoked(message: string): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const reasonId = useId();
  const [reason, setReason] = useState<RevocationReason>('UNSPECIFIED');
  const [revoke, { loading, error }] = useMutation(RevokeMutation);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const res = await revoke({ variables: { id: target.id, reason } });
      const cert = res.data?.revokeClientCertificate;
      if (cert) onRevoked(`Certificate ${target.serialNumber ?? target.id} revoked (${revocationReasonLabel(cert.revocationReason ?? reason)}).`);
    } catch {
      // The error is on the hook's state, shown in the dialog.
    }
  };

  const name = target.serialNumber ?? `of request ${target.id}`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <h2 id={titleId}>Revoke certificate {name}?</h2>
        <p>
          The certificate goes on the CRL at once and the device can no longer authenticate with it: it moves to
          Authentication failed. This cannot be undone; the device needs a new approved request.
        </p>
        <label htmlFor={reasonId}>Reason</label>
        <select id={reasonId} value={reason} onChange={(e) => setReason(e.target.value as RevocationReason)}>
          {REVOCATION_REASON_ORDER.map((r) => (
            <option key={r} value={r}>
              {revocationReasonLabel(r)}
            </option>
          ))}
        </select>
        {error && <ErrorNote error={error} />}
        <div className="actions">
          <button type="button" className="secondary" onClick={() => ref.current?.close()}>
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
