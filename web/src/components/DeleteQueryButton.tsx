import type { Reference } from '@apollo/client';
import { useMutation } from '@apollo/client/react';
import { useId, useState } from 'react';
import { graphql } from '../gql';
import { useModal } from '../hooks';
import { useViewer } from '../viewer';
import { ErrorNote } from './ErrorNote';

const DeleteSavedQueryMutation = graphql(`
  mutation DeleteMySavedQuery($id: ID!) {
    deleteSavedQuery(id: $id)
  }
`);

/**
 * DeleteQueryButton deletes one of the caller's saved queries after a confirm step, then refetches
 * the list (MyQueries). Only a SECURITY_ADMIN sees it: the server refuses anyone else anyway.
 */
export function DeleteQueryButton({ id, name, inList = false, onDeleted }: { id: string; name: string; inList?: boolean; onDeleted?(): void }) {
  const viewer = useViewer();
  const [confirming, setConfirming] = useState(false);
  if (!viewer.isAdmin) return null;
  return (
    <>
      <button type="button" className="danger small" aria-label={`Delete ${name}`} onClick={() => setConfirming(true)}>
        Delete
      </button>
      {confirming && <ConfirmDelete id={id} name={name} inList={inList} onClose={() => setConfirming(false)} onDeleted={onDeleted} />}
    </>
  );
}

function ConfirmDelete({
  id,
  name,
  inList,
  onClose,
  onDeleted,
}: {
  id: string;
  name: string;
  inList: boolean;
  onClose(): void;
  onDeleted?(): void;
}) {
  const ref = useModal();
  const titleId = useId();
  const [remove, { loading, error }] = useMutation(DeleteSavedQueryMutation, {
    // Out of the cached list at once, wherever the list is shown next; the saved query's own page
    // (which may be open) keeps its data until it navigates away, rather than failing with NOT_FOUND.
    update(cache, { data }) {
      if (!data?.deleteSavedQuery) return;
      cache.modify<{ myQueries: Reference[] }>({
        fields: { myQueries: (existing, { readField }) => existing.filter((ref) => readField('id', ref) !== id) },
      });
    },
    // The list page, when it is the one showing, asks the server again.
    refetchQueries: inList ? ['MyQueries'] : [],
    awaitRefetchQueries: true,
  });
  const confirm = async () => {
    try {
      await remove({ variables: { id } });
      onClose();
      onDeleted?.();
    } catch {
      // Shown in the dialog from the hook's state.
    }
  };
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>Delete the query “{name}”?</h2>
      <p>The saved query goes; its devices stay as they are. A chart double-click saves it again.</p>
      {error && <ErrorNote error={error} />}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => ref.current?.close()}>
          Cancel
        </button>
        <button type="button" className="danger" disabled={loading} onClick={() => void confirm()}>
          {loading ? 'Deleting…' : 'Delete query'}
        </button>
      </div>
    </dialog>
  );
}
