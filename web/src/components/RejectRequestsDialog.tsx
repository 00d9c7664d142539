import { useId, useState, type FormEvent } from 'react';
import { useModal } from '../hooks';
import { ErrorNote } from './ErrorNote';

/** REASON_MAX is the API's limit on a rejection reason (rejectClients). */
const REASON_MAX = 500;

/**
 * RejectRequestsDialog confirms rejecting the selected requests, with an optional reason kept in
 * the audit log. The page makes the call (one rejectClients for all of them); error is its failure.
 */
export function RejectRequestsDialog({
  count,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  count: number;
  busy: boolean;
  error: unknown;
  onConfirm(reason: string | null): void;
  onCancel(): void;
}) {
  const ref = useModal();
  const titleId = useId();
  const reasonId = useId();
  const [reason, setReason] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onConfirm(reason.trim() ? reason.trim() : null);
  };
  const what = count === 1 ? '1 request' : `${count} requests`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onCancel}>
      <form onSubmit={submit}>
        <h2 id={titleId}>Reject {what}</h2>
        <p>No certificate is issued for a rejected request; its agent has to enroll again with a new key.</p>
        <div className="field">
          <label htmlFor={reasonId}>Reason (optional, kept in the audit log)</label>
          <textarea id={reasonId} rows={3} maxLength={REASON_MAX} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
        </div>
        {error ? <ErrorNote error={error} /> : null}
        <div className="actions">
          <button type="button" className="secondary" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={busy}>
            {busy ? 'Rejecting…' : `Reject ${what}`}
          </button>
        </div>
      </form>
    </dialog>
  );
}
