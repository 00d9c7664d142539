import { CombinedGraphQLErrors } from '@apollo/client/errors';

/** errorText says what went wrong in one line, with the server's stable code when it gave one. */
export function errorText(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors.map((e) => (e.extensions?.code ? `${e.message} (${String(e.extensions.code)})` : e.message)).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

/** ErrorNote shows a failed request to the person, in an alert region screen readers announce. */
export function ErrorNote({ error }: { error: unknown }) {
  return (
    <p role="alert" className="error">
      {errorText(error)}
    </p>
  );
}
