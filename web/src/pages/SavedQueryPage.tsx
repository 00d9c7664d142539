/** SavedQueryPage: to be built. */
export function SavedQueryPage({ id }: { id: string }) {
  return <h1>SavedQueryPage {id}</h1>;
}
