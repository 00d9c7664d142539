import { useEffect, useRef } from 'react';
import { ErrorNote } from './ErrorNote';
import { deviceCount } from '../format';

/**
 * EnableSecurityDialog asks an admin to confirm turning on client certificate-based security, which
 * cannot be undone. It is a native modal <dialog>: the rest of the page is inert while it is open,
 * Escape closes it (unless the change is under way), and focus starts on Cancel, the safe choice.
 */
export function EnableSecurityDialog({
  open,
  devicesNotReady,
  busy,
  error,
  onCancel,
  onConfirm,
}: {
  open: boolean;
  /** null while the number is being read. */
  devicesNotReady: number | null;
  busy: boolean;
  error: unknown;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      cancelRef.current?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby="enable-security-title"
      aria-describedby="enable-security-warning"
      onCancel={(e) => {
        // Escape while the change is being made would hide its outcome.
        if (busy) e.preventDefault();
      }}
      onClose={onCancel}
    >
      <h2 id="enable-security-title">Enable client certificate-based security?</h2>
      <div id="enable-security-warning">
        <p>
          <strong>This cannot be undone.</strong> Once enabled, client certificate-based security cannot be disabled: no
          one, not even a security admin, can turn it off again.
        </p>
        <p aria-busy={devicesNotReady === null || undefined} data-testid="dialog-devices-not-ready">
          {devicesNotReady === null ? (
            'Counting the devices that are not ready…'
          ) : devicesNotReady === 0 ? (
            'Every device already authenticates with a valid client certificate.'
          ) : (
            <>
              <strong>{deviceCount(devicesNotReady)}</strong>{' '}
              will not be fully manageable: only devices that authenticate with a valid client certificate can read secure
              core data.
            </>
          )}
        </p>
      </div>
      {error ? <ErrorNote error={error} /> : null}
      <div className="actions">
        <button ref={cancelRef} type="button" className="secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={busy} aria-busy={busy || undefined}>
          {busy ? 'Enabling…' : 'Enable permanently'}
        </button>
      </div>
    </dialog>
  );
}
