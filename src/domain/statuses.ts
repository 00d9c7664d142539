// The words of a device's authentication and of a client certificate's life, each list defined
// once: the database's check constraints, the GraphQL enums and the rules are all built from these.

/** AUTH_STATUSES are the four chart items, in the contract's order. */
export const AUTH_STATUSES = [
  'AUTHENTICATION_SUCCEEDED',
  'NO_AUTHENTICATION_INFO',
  'AUTHENTICATION_FAILED',
  'CLIENT_AGENTS_MUST_UPGRADE',
] as const;
export type AuthStatus = (typeof AUTH_STATUSES)[number];

/** STATUS_LABELS are the chart items' words, as the Security settings view shows them. */
export const STATUS_LABELS: Record<AuthStatus, string> = {
  AUTHENTICATION_SUCCEEDED: 'Authentication succeeded',
  NO_AUTHENTICATION_INFO: 'No authentication info',
  AUTHENTICATION_FAILED: 'Authentication failed',
  CLIENT_AGENTS_MUST_UPGRADE: 'Client agents must upgrade',
};

/** CONNECTION_SOURCES are where a connection result comes from: the agent itself, or the security scanner. */
export const CONNECTION_SOURCES = ['SECURE_CONNECTION', 'SECURITY_SCANNER'] as const;
export type ConnectionSource = (typeof CONNECTION_SOURCES)[number];

/** FAILURE_REASONS say why an AUTHENTICATION_FAILED result failed. */
export const FAILURE_REASONS = [
  'NO_CLIENT_CERTIFICATE',
  'CERTIFICATE_NOT_APPROVED',
  'CERTIFICATE_REJECTED',
  'CERTIFICATE_REVOKED',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_NOT_YET_VALID',
  'UNTRUSTED_ISSUER',
  'DEVICE_MISMATCH',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * UNVERIFIED_REASONS say why a connection result did not move its device: the TLS client did not
 * prove a key this core has on file for it (DESIGN.md, "Proof before status").
 */
export const UNVERIFIED_REASONS = [
  // No client certificate at all, for a device that has a key on file.
  'NO_CLIENT_CERTIFICATE',
  // A certificate of a key this core does not have on file for the device.
  'UNKNOWN_KEY',
  // The key of a request nobody approved, for a device that already holds an issued certificate.
  'UNAPPROVED_KEY',
] as const;
export type UnverifiedReason = (typeof UNVERIFIED_REASONS)[number];

/** CLIENT_CERTIFICATE_STATUSES are the states of a request and of the certificate issued for it. */
export const CLIENT_CERTIFICATE_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'REVOKED'] as const;
export type ClientCertificateStatus = (typeof CLIENT_CERTIFICATE_STATUSES)[number];

/** CLIENT_ACCESS_DECISIONS are the decisions Manage client access hears of: each a move of a request or certificate to that status. */
export const CLIENT_ACCESS_DECISIONS = ['APPROVED', 'REJECTED', 'REVOKED'] as const satisfies readonly ClientCertificateStatus[];
export type ClientAccessDecision = (typeof CLIENT_ACCESS_DECISIONS)[number];
