// The console's words for the API's codes, and its one way of showing a time or a fingerprint: every
// page uses these, so a status reads the same on the chart, in the network view and on a device.

import type {
  AuthenticationFailureReason,
  AuthenticationStatus,
  ClientCertificateStatus,
  ConnectionSource,
  RevocationReason,
  UnverifiedReason,
} from './gql/graphql';

/** wordsFor makes a code's words from a table; a code this console does not know yet is shown as it is. */
function wordsFor<T extends string>(words: Record<T, string>): (code: T) => string {
  return (code) => words[code] ?? code;
}

/** STATUS_ORDER is the chart's order of the four statuses (as the API's AuthenticationStatus lists them). */
export const STATUS_ORDER: readonly AuthenticationStatus[] = [
  'AUTHENTICATION_SUCCEEDED',
  'NO_AUTHENTICATION_INFO',
  'AUTHENTICATION_FAILED',
  'CLIENT_AGENTS_MUST_UPGRADE',
];

// The chart item labels, word for word as the server's AuthStatusCount.label gives them.
const STATUS_LABELS: Record<AuthenticationStatus, string> = {
  AUTHENTICATION_SUCCEEDED: 'Authentication succeeded',
  NO_AUTHENTICATION_INFO: 'No authentication info',
  AUTHENTICATION_FAILED: 'Authentication failed',
  CLIENT_AGENTS_MUST_UPGRADE: 'Client agents must upgrade',
};

/** statusLabel is a chart item's label, e.g. 'Authentication failed'. */
export const statusLabel = wordsFor(STATUS_LABELS);

/** isAuthStatus tells a status code (e.g. from a URL) the API knows from anything else. */
export function isAuthStatus(value: string): value is AuthenticationStatus {
  return Object.hasOwn(STATUS_LABELS, value);
}

/** FAILURE_REASON_ORDER lists the failure reasons in the API's order. */
export const FAILURE_REASON_ORDER: readonly AuthenticationFailureReason[] = [
  'NO_CLIENT_CERTIFICATE',
  'CERTIFICATE_NOT_APPROVED',
  'CERTIFICATE_REJECTED',
  'CERTIFICATE_REVOKED',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_NOT_YET_VALID',
  'UNTRUSTED_ISSUER',
  'DEVICE_MISMATCH',
];

const FAILURE_REASON_LABELS: Record<AuthenticationFailureReason, string> = {
  NO_CLIENT_CERTIFICATE: 'No client certificate',
  CERTIFICATE_NOT_APPROVED: 'Certificate not approved',
  CERTIFICATE_REJECTED: 'Certificate request rejected',
  CERTIFICATE_REVOKED: 'Certificate revoked',
  CERTIFICATE_EXPIRED: 'Certificate expired',
  CERTIFICATE_NOT_YET_VALID: 'Certificate not yet valid',
  UNTRUSTED_ISSUER: 'Certificate from an untrusted issuer',
  DEVICE_MISMATCH: 'Certificate names another device',
};

/** failureReasonLabel says why an authentication failed, in words; a code this console does not know is shown as is. */
export function failureReasonLabel(reason: AuthenticationFailureReason | string): string {
  return FAILURE_REASON_LABELS[reason as AuthenticationFailureReason] ?? reason;
}

/** isFailureReason tells a failure reason code (e.g. from a URL) the API knows from anything else. */
export function isFailureReason(value: string): value is AuthenticationFailureReason {
  return Object.hasOwn(FAILURE_REASON_LABELS, value);
}

const SOURCE_LABELS: Record<ConnectionSource, string> = {
  SECURE_CONNECTION: 'Secure connection',
  SECURITY_SCANNER: 'Security scanner (vulscan)',
};

/** sourceLabel says where a connection result came from. */
export const sourceLabel = wordsFor(SOURCE_LABELS);

const UNVERIFIED_LABELS: Record<UnverifiedReason, string> = {
  NO_CLIENT_CERTIFICATE: 'No client certificate, though the device has a key on file',
  UNKNOWN_KEY: 'A key not on file for this device',
  UNAPPROVED_KEY: 'The key of an unapproved request',
};

/** unverifiedReasonLabel says why an attempt did not count. */
export const unverifiedReasonLabel = wordsFor(UNVERIFIED_LABELS);

/** REVOCATION_REASON_ORDER lists the reasons an admin may give for a revocation, the default first. */
export const REVOCATION_REASON_ORDER: readonly RevocationReason[] = ['UNSPECIFIED', 'KEY_COMPROMISE', 'SUPERSEDED', 'CESSATION_OF_OPERATION'];

const REVOCATION_LABELS: Record<RevocationReason, string> = {
  UNSPECIFIED: 'Unspecified',
  KEY_COMPROMISE: 'Key compromise',
  SUPERSEDED: 'Superseded by a newer certificate',
  CESSATION_OF_OPERATION: 'Device retired (cessation of operation)',
};

/** revocationReasonLabel says why a certificate was (or is to be) revoked. */
export const revocationReasonLabel = wordsFor(REVOCATION_LABELS);

const CERTIFICATE_STATUS_LABELS: Record<ClientCertificateStatus, string> = {
  PENDING: 'Pending',
  APPROVED: 'Approved',
  REJECTED: 'Rejected',
  REVOKED: 'Revoked',
};

/** certificateStatusLabel is a client certificate request's status in words. */
export const certificateStatusLabel = wordsFor(CERTIFICATE_STATUS_LABELS);

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** formatDateTime shows an ISO 8601 instant in the person's local time zone and style; '' for none, the text itself if it is no date. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTime.format(t);
}

/** shortFingerprint keeps the ends of a long hex fingerprint, enough to tell keys apart at a glance. */
export function shortFingerprint(hex: string): string {
  return hex.length > 20 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex;
}

const countFormat = new Intl.NumberFormat();
const percentFormat = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

/** formatPercent shows a 0–1 share as a percentage in the reader's locale. */
export function formatPercent(share: number): string {
  return percentFormat.format(share);
}

/** formatCount shows a count with the reader's digit grouping. */
export function formatCount(n: number): string {
  return countFormat.format(n);
}

/** deviceCount is a number of devices in words, e.g. '1,204 devices' (grouped the reader's way). */
export function deviceCount(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'device' : 'devices'}`;
}
