/** ClientAccessPage: to be built. */
export function ClientAccessPage() {
  return <h1>ClientAccessPage</h1>;
}
