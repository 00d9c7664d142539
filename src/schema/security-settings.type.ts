import { Field, ID, Int, ObjectType } from 'type-graphql';
import { FLEET_ID, FLEET_ID_DESCRIPTION } from './fleet.js';
import { DateTime } from './scalars.js';

@ObjectType({ description: "This core's certificate authority: it signs the devices' client certificates and the CRL." })
export class CertificateAuthority {
  @Field(() => String, {
    description:
      "The CA certificate's subject distinguished name, as text (its common name is the core's host name followed by 'certfleet CA').",
  })
  subject!: string;

  @Field(() => String, { description: 'The CA certificate, PEM-encoded (public: agents pin it to trust the core).' })
  certificatePem!: string;

  @Field(() => String, { description: 'SHA-256 of the certificate DER, lower-case hex.' })
  fingerprint!: string;

  @Field(() => DateTime, { description: 'When the CA certificate expires (ISO 8601, UTC).' })
  notAfter!: Date;
}

@ObjectType({
  description:
    "The Security settings page: the switch of client certificate-based security and the CA behind it. One per fleet (id 'fleet').",
})
export class SecuritySettings {
  @Field(() => ID, { description: FLEET_ID_DESCRIPTION })
  get id(): string {
    return FLEET_ID;
  }

  @Field(() => Boolean, {
    description: 'Whether client certificate-based security is enabled; once true it stays true (enableClientCertificateSecurity).',
  })
  clientCertificateSecurityEnabled!: boolean;

  @Field(() => DateTime, { nullable: true, description: 'When it was enabled (ISO 8601, UTC); null while disabled.' })
  enabledAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Who enabled it (the admin's token subject); null while disabled." })
  enabledBy!: string | null;

  @Field(() => CertificateAuthority, { description: "This core's certificate authority." })
  certificateAuthority!: CertificateAuthority;

  @Field(() => Int, { description: 'Devices that would not be fully manageable (or are not, once enabled).' })
  devicesNotReady!: number;
}
