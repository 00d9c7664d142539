import { registerEnumType } from 'type-graphql';
import { REVOCATION_REASONS } from '../domain/revocation.js';
import { ROLES } from '../domain/roles.js';
import {
  AUTH_STATUSES,
  CLIENT_ACCESS_DECISIONS,
  CLIENT_CERTIFICATE_STATUSES,
  CONNECTION_SOURCES,
  FAILURE_REASONS,
  UNVERIFIED_REASONS,
  type AuthStatus,
} from '../domain/statuses.js';

function enumObject<T extends string>(values: readonly T[]): { [K in T]: K } {
  return Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };
}

export const AuthenticationStatus = enumObject(AUTH_STATUSES);
export const ConnectionSource = enumObject(CONNECTION_SOURCES);
export const AuthenticationFailureReason = enumObject(FAILURE_REASONS);
export const ClientCertificateStatus = enumObject(CLIENT_CERTIFICATE_STATUSES);
export const ClientAccessDecisionKind = enumObject(CLIENT_ACCESS_DECISIONS);
export const RevocationReason = enumObject(REVOCATION_REASONS);
export const UnverifiedReason = enumObject(UNVERIFIED_REASONS);
export const Role = enumObject(ROLES);

const statusDescriptions: Record<AuthStatus, string> = {
  AUTHENTICATION_SUCCEEDED: 'The device has 2016-or-later agents, is securely connected and ready for the security model.',
  NO_AUTHENTICATION_INFO: 'The device has not attempted a secure connection, or the security scanner has not reported yet.',
  AUTHENTICATION_FAILED: 'The device tried to authenticate and could not (most often: its client certificate is not approved).',
  CLIENT_AGENTS_MUST_UPGRADE: 'The device runs older (9.x) agents and cannot authenticate.',
};

registerEnumType(AuthenticationStatus, {
  name: 'AuthenticationStatus',
  description: 'The four items of the Security settings chart.',
  valuesConfig: Object.fromEntries(AUTH_STATUSES.map((s) => [s, { description: statusDescriptions[s] }])),
});
registerEnumType(ConnectionSource, {
  name: 'ConnectionSource',
  description: 'Where a connection result came from.',
  valuesConfig: {
    SECURE_CONNECTION: { description: "The agent's own secure connection to the core server." },
    SECURITY_SCANNER: { description: 'A run of the security scanner (vulscan) on the device.' },
  },
});
registerEnumType(AuthenticationFailureReason, {
  name: 'AuthenticationFailureReason',
  description: 'Why an authentication attempt failed (a device in AUTHENTICATION_FAILED).',
  valuesConfig: {
    NO_CLIENT_CERTIFICATE: { description: 'The device presented no client certificate.' },
    CERTIFICATE_NOT_APPROVED: { description: 'The request of the key the device presented is not approved (still PENDING).' },
    CERTIFICATE_REJECTED: { description: 'The request of the key the device presented was REJECTED.' },
    CERTIFICATE_REVOKED: { description: 'The certificate the device presented was revoked.' },
    CERTIFICATE_EXPIRED: { description: 'The certificate the device presented is past its notAfter.' },
    CERTIFICATE_NOT_YET_VALID: { description: 'The certificate the device presented is before its notBefore.' },
    UNTRUSTED_ISSUER: { description: "The certificate the device presented was not issued by this core's CA." },
    DEVICE_MISMATCH: { description: "The certificate the device presented names another agent id than the device's." },
  },
});
registerEnumType(ClientCertificateStatus, {
  name: 'ClientCertificateStatus',
  description: 'Where a client certificate request, and the certificate issued for it, stands.',
  valuesConfig: {
    PENDING: { description: 'Requested by the agent, waiting for an admin to approve or reject it.' },
    APPROVED: { description: 'Approved: the CA issued its certificate (certificatePem, serialNumber, validity).' },
    REJECTED: { description: 'Rejected: no certificate was issued. Final.' },
    REVOKED: { description: 'Its certificate was revoked (by an admin, or superseded by a newer one) and is on the CRL. Final.' },
  },
});
registerEnumType(RevocationReason, {
  name: 'RevocationReason',
  description: "Why a certificate was revoked: the subset of RFC 5280's CRLReason this core offers, as written on the CRL.",
  valuesConfig: {
    UNSPECIFIED: { description: 'No reason given (written on the CRL without a reason code).' },
    KEY_COMPROMISE: { description: "The device's private key is, or may be, known to someone else." },
    SUPERSEDED: { description: 'A newer certificate of the same device replaced it (renewal or re-enrollment).' },
    CESSATION_OF_OPERATION: { description: 'The device is retired: it no longer needs a certificate.' },
  },
});
registerEnumType(ClientAccessDecisionKind, {
  name: 'ClientAccessDecisionKind',
  description: 'A decision on a client certificate request or certificate: the status it moved to.',
  valuesConfig: {
    APPROVED: { description: 'A PENDING request was approved (by an admin, a renewal or auto-approval): the CA issued its certificate.' },
    REJECTED: { description: 'A PENDING request was rejected.' },
    REVOKED: { description: 'An APPROVED certificate was revoked, by an admin or superseded by a newer one of its device.' },
  },
});
registerEnumType(UnverifiedReason, {
  name: 'UnverifiedReason',
  description: 'Why a connection attempt did not move its device: the client proved no key this core has on file for it.',
  valuesConfig: {
    NO_CLIENT_CERTIFICATE: { description: 'No client certificate, for a device that has a key on file.' },
    UNKNOWN_KEY: { description: 'A certificate of a key this core does not have on file for the device.' },
    UNAPPROVED_KEY: {
      description: 'The key of a request nobody approved, for a device that already holds a certificate this core issued.',
    },
  },
});
registerEnumType(Role, {
  name: 'Role',
  description: 'What a token lets its holder do.',
  valuesConfig: {
    VIEWER: { description: 'Reads everything and subscribes to live updates; changes nothing.' },
    SECURITY_ADMIN: { description: 'Everything a VIEWER does, and every mutation: approve, reject, revoke, enable, import.' },
  },
});
