/** MyQueriesPage: to be built. */
export function MyQueriesPage() {
  return <h1>MyQueriesPage</h1>;
}
