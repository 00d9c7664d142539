/** AuditLogPage: to be built. */
export function AuditLogPage() {
  return <h1>AuditLogPage</h1>;
}
