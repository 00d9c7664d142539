/** SecuritySettingsPage: to be built. */
export function SecuritySettingsPage() {
  return <h1>SecuritySettingsPage</h1>;
}
