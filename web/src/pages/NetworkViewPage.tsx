/** NetworkViewPage: to be built. */
export function NetworkViewPage() {
  return <h1>NetworkViewPage</h1>;
}
