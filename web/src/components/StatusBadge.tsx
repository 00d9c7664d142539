import { statusLabel } from '../format';
import type { AuthenticationStatus } from '../gql/graphql';

/** StatusBadge shows a device's chart item: its label, with the item's colour (styles.css .status). */
export function StatusBadge({ status }: { status: AuthenticationStatus }) {
  return <span className={`status ${status}`}>{statusLabel(status)}</span>;
}
