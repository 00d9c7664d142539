import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection.type.js';
import type { RevocationReason as Reason } from '../domain/revocation.js';
import type { ClientAccessDecision as Decision, ClientCertificateStatus as Status } from '../domain/statuses.js';
import { ClientAccessDecisionKind, ClientCertificateStatus, RevocationReason } from './enums.js';
import { DateTime } from './scalars.js';

@ObjectType({
  description:
    "A device's client certificate request and, once approved, the certificate issued for it (one object, one id, through its whole life: PENDING → APPROVED → REVOKED, or PENDING → REJECTED).",
})
export class ClientCertificate {
  @Field(() => ID, { description: 'The id of the request, and of the certificate issued for it.' })
  id!: string;

  @Field(() => ClientCertificateStatus, { description: 'Where the request or certificate stands.' })
  status!: Status;

  @Field(() => String, { description: "The subject of the request and its certificate: 'CN=' and the device's agentId." })
  subject!: string;

  @Field(() => String, { description: "Key algorithm and size, e.g. 'RSA-2048' or 'EC-P256'." })
  keyAlgorithm!: string;

  @Field(() => String, { description: 'SHA-256 of the public key (SubjectPublicKeyInfo DER), lower-case hex.' })
  publicKeyFingerprint!: string;

  @Field(() => DateTime, { description: 'When the agent sent the request (ISO 8601, UTC).' })
  requestedAt!: Date;

  @Field(() => DateTime, { nullable: true, description: 'When the request was approved or rejected (ISO 8601, UTC); null while PENDING.' })
  decidedAt!: Date | null;

  @Field(() => String, {
    nullable: true,
    description: "Who approved or rejected it: the admin's token subject, or system:renewal / system:auto-approval; null while PENDING.",
  })
  decidedBy!: string | null;

  @Field(() => String, { nullable: true, description: "The issued certificate's serial number, lower-case hex; set once approved." })
  serialNumber!: string | null;

  @Field(() => DateTime, { nullable: true, description: "Start of the issued certificate's validity (ISO 8601, UTC); set once approved." })
  notBefore!: Date | null;

  @Field(() => DateTime, { nullable: true, description: "End of the issued certificate's validity (ISO 8601, UTC); set once approved." })
  notAfter!: Date | null;

  @Field(() => String, {
    nullable: true,
    description: 'The issued certificate, PEM-encoded (no private key: that never leaves the device); set once approved.',
  })
  certificatePem!: string | null;

  @Field(() => DateTime, { nullable: true, description: 'When the certificate was revoked (ISO 8601, UTC); null unless REVOKED.' })
  revokedAt!: Date | null;

  @Field(() => RevocationReason, { nullable: true, description: 'Why the certificate was revoked; null unless REVOKED.' })
  revocationReason!: Reason | null;

  @Field(() => String, {
    nullable: true,
    description: "The device name the request asks for: the device's name changes to it only when the request is approved.",
  })
  requestedDeviceName!: string | null;

  @Field(() => String, { nullable: true, description: 'The agent version the request reported; applied to the device on approval.' })
  requestedAgentVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'The address the request came from.' })
  requestedFrom!: string | null;
}

@ObjectType({ description: 'A page of client certificate requests, in the order they arrived (by id).' })
export class ClientCertificateConnection extends Connection(ClientCertificate) {
  @Field(() => Int, { description: 'Number of requests the list matches in all, across every page.' })
  totalCount!: number;
}

@InputType({ description: 'Narrows clientAccessRequests (the tabs and the search box of Manage client access); every part given must hold.' })
export class ClientAccessRequestFilter {
  @Field(() => [ClientCertificateStatus], {
    nullable: true,
    description:
      "Only requests in one of these statuses (e.g. [PENDING] for the Pending tab). Null or an empty list: any status. Not together with clientAccessRequests' status argument.",
  })
  statuses?: Status[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Case-insensitive substring of the device's name or agent id, or of the name the request asks for (requestedDeviceName); LIKE wildcards match themselves. At most 255 characters, none of the characters names may not hold (controls, line separators, bidirectional formatting). Blank: no search.",
  })
  search?: string | null;
}

@ObjectType({ description: 'One id of a bulk call that could not be decided, and why; the others were.' })
export class BulkItemError {
  @Field(() => ID, { description: 'The id, as given.' })
  id!: string;

  @Field(() => String, {
    description:
      'The error code, as a single call would have returned it: BAD_USER_INPUT (not an id), NOT_FOUND, REQUEST_NOT_PENDING (approve, reject) or CONFLICT (revoke: not APPROVED).',
  })
  code!: string;

  @Field(() => String, { description: 'What went wrong, for a person to read.' })
  message!: string;
}

@ObjectType({ description: 'What approveClients did: the requests it approved and the ids it could not.' })
export class BulkApprovePayload {
  @Field(() => [ClientCertificate], {
    description: 'The requests approved by this call, now APPROVED with their certificates, in id order.',
  })
  approved!: ClientCertificate[];

  @Field(() => [BulkItemError], { description: 'The ids that were not approved, each with its reason.' })
  failed!: BulkItemError[];
}

@ObjectType({ description: 'What rejectClients did: the requests it rejected and the ids it could not.' })
export class BulkRejectPayload {
  @Field(() => [ClientCertificate], { description: 'The requests rejected by this call, now REJECTED, in id order.' })
  rejected!: ClientCertificate[];

  @Field(() => [BulkItemError], { description: 'The ids that were not rejected, each with its reason.' })
  failed!: BulkItemError[];
}

@ObjectType({ description: 'What revokeClientCertificates did: the certificates it revoked and the ids it could not.' })
export class BulkRevokePayload {
  @Field(() => [ClientCertificate], { description: 'The certificates revoked by this call, now REVOKED, in id order.' })
  revoked!: ClientCertificate[];

  @Field(() => [BulkItemError], { description: 'The ids that were not revoked, each with its reason.' })
  failed!: BulkItemError[];
}

@ObjectType({ description: 'One decision on a client certificate request or certificate, for the Manage client access view.' })
export class ClientAccessDecision {
  @Field(() => ID, { description: 'The id of the request (and of its certificate).' })
  requestId!: string;

  @Field(() => ClientCertificate, { description: 'The request or certificate as it stands when the decision is sent.' })
  request!: ClientCertificate;

  @Field(() => ClientAccessDecisionKind, { description: 'What was decided: the status the request or certificate moved to.' })
  decision!: Decision;

  @Field(() => String, { description: "Who decided: the admin's subject, or system:renewal / system:auto-approval." })
  decidedBy!: string;

  @Field(() => DateTime, { description: 'When it was decided (ISO 8601, UTC).' })
  decidedAt!: Date;

  @Field(() => String, {
    nullable: true,
    description: 'Why: the reject reason, or the revocation reason (SUPERSEDED when a newer certificate replaced it); null when none was given.',
  })
  reason!: string | null;
}

@ObjectType({ description: 'A secret the core hands to agents, e.g. a password a core component gives them.' })
export class SecureDataItem {
  @Field(() => String, { description: "The secret's name, unique: setSecureData with the same name replaces its value." })
  name!: string;

  @Field(() => DateTime, { description: 'When its value was last set (ISO 8601, UTC).' })
  updatedAt!: Date;
}
