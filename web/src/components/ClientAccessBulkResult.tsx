import { useId } from 'react';

/** BulkOutcome is what one approveClients or rejectClients call did, item by item. */
export interface BulkOutcome {
  verb: 'Approve' | 'Reject';
  /** The requests the call decided, with the names they had when selected. */
  done: { id: string; name: string }[];
  /** The ids it could not decide, with the server's code and message (BulkItemError). */
  failed: { id: string; name: string; code: string; message: string }[];
}

const pastOf = (outcome: BulkOutcome) => (outcome.verb === 'Approve' ? 'approved' : 'rejected');

/** outcomeSummary is an outcome in a few words, e.g. '3 approved, 1 not approved'. */
export function outcomeSummary(outcome: BulkOutcome): string {
  const past = pastOf(outcome);
  return `${outcome.done.length} ${past}` + (outcome.failed.length > 0 ? `, ${outcome.failed.length} not ${past}` : '');
}

/**
 * ClientAccessBulkResult says which of the selected requests were decided and which were not, and
 * why, in the server's words: a bulk call succeeds per item, so one failure does not hide the rest.
 */
export function ClientAccessBulkResult({ outcome, onDismiss }: { outcome: BulkOutcome; onDismiss(): void }) {
  const headingId = useId();
  const past = pastOf(outcome);
  const summary = outcomeSummary(outcome);
  return (
    <section className={`panel bulk-result ${outcome.failed.length > 0 ? 'has-failures' : ''}`} aria-labelledby={headingId}>
      <h2 id={headingId}>
        {outcome.verb}: {summary}
      </h2>
      {outcome.done.length > 0 && (
        <>
          <h3>{past[0]!.toUpperCase() + past.slice(1)}</h3>
          <ul className="bulk-done">
            {outcome.done.map((d) => (
              <li key={d.id}>
                <span className="success" aria-hidden="true">
                  ✓
                </span>{' '}
                {d.name} <span className="muted">(request {d.id})</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {outcome.failed.length > 0 && (
        <>
          <h3>Not {past}</h3>
          <ul className="bulk-failed">
            {outcome.failed.map((f) => (
              <li key={f.id}>
                <span className="error" aria-hidden="true">
                  ✗
                </span>{' '}
                {f.name} <span className="muted">(request {f.id})</span>: <code>{f.code}</code> {f.message}
              </li>
            ))}
          </ul>
        </>
      )}
      <button type="button" className="secondary" onClick={onDismiss}>
        Dismiss
      </button>
    </section>
  );
}
