/** ROLES are the role names a token may carry; SECURITY_ADMIN may also call every mutation. */
export const ROLES = ['VIEWER', 'SECURITY_ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** isRole says whether a value (a token claim, a command-line word) names a role. */
export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}
