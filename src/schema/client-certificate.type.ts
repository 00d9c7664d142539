import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from './connection.type.js';
import type { RevocationReason as Reason } from '../domain/revocation.js';
import type { ClientAccessDecision as Decision, ClientCertificateStatus as Status } from '../domain/statuses.js';
import { ClientAccessDecisionKind, ClientCertificateStatus, RevocationReason } from './enums.js';
import { DateTime } from './scalars.js';

@ObjectType()
export class ClientCertificate {
  @Field(() => ID)
  id!: string;

  @Field(() => ClientCertificateStatus)
  status!: Status;

  @Field(() => String)
  subject!: string;

  @Field(() => String, { description: "Key algorithm and size, e.g. 'RSA-2048' or 'EC-P256'." })
  keyAlgorithm!: string;

  @Field(() => String, { description: 'SHA-256 of the public key (SubjectPublicKeyInfo DER), lower-case hex.' })
  publicKeyFingerprint!: string;

  @Field(() => DateTime)
  requestedAt!: Date;

  @Field(() => DateTime, { nullable: true })
  decidedAt!: Date | null;

  @Field(() => String, { nullable: true })
  decidedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Set once approved: the issued certificate.' })
  serialNumber!: string | null;

  @Field(() => DateTime, { nullable: true })
  notBefore!: Date | null;

  @Field(() => DateTime, { nullable: true })
  notAfter!: Date | null;

  @Field(() => String, { nullable: true })
  certificatePem!: string | null;

  @Field(() => DateTime, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => RevocationReason, { nullable: true })
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

@ObjectType()
export class ClientCertificateConnection extends Connection(ClientCertificate) {
  @Field(() => Int)
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

@ObjectType()
export class BulkItemError {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  code!: string;

  @Field(() => String)
  message!: string;
}

@ObjectType()
export class BulkApprovePayload {
  @Field(() => [ClientCertificate])
  approved!: ClientCertificate[];

  @Field(() => [BulkItemError])
  failed!: BulkItemError[];
}

@ObjectType()
export class BulkRejectPayload {
  @Field(() => [ClientCertificate])
  rejected!: ClientCertificate[];

  @Field(() => [BulkItemError])
  failed!: BulkItemError[];
}

@ObjectType({ description: 'One decision on a client certificate request or certificate, for the Manage client access view.' })
export class ClientAccessDecision {
  @Field(() => ID, { description: 'The id of the request (and of its certificate).' })
  requestId!: string;

  @Field(() => ClientCertificate, { description: 'The request or certificate as it stands when the decision is sent.' })
  request!: ClientCertificate;

  @Field(() => ClientAccessDecisionKind)
  decision!: Decision;

  @Field(() => String, { description: "Who decided: the admin's subject, or system:renewal / system:auto-approval." })
  decidedBy!: string;

  @Field(() => DateTime)
  decidedAt!: Date;

  @Field(() => String, {
    nullable: true,
    description: 'Why: the reject reason, or the revocation reason (SUPERSEDED when a newer certificate replaced it); null when none was given.',
  })
  reason!: string | null;
}

@ObjectType({ description: 'A secret the core hands to agents, e.g. a password a core component gives them.' })
export class SecureDataItem {
  @Field(() => String)
  name!: string;

  @Field(() => DateTime)
  updatedAt!: Date;
}
