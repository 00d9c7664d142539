/** DeviceDetailPage: to be built. */
export function DeviceDetailPage({ id }: { id: string }) {
  return <h1>DeviceDetailPage {id}</h1>;
}
