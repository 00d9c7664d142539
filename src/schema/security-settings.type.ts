import { Field, Int, ObjectType } from 'type-graphql';
import { DateTime } from './scalars.js';

@ObjectType()
export class CertificateAuthority {
  @Field(() => String)
  subject!: string;

  @Field(() => String)
  certificatePem!: string;

  @Field(() => String, { description: 'SHA-256 of the certificate DER, lower-case hex.' })
  fingerprint!: string;

  @Field(() => DateTime)
  notAfter!: Date;
}

@ObjectType()
export class SecuritySettings {
  @Field(() => Boolean)
  clientCertificateSecurityEnabled!: boolean;

  @Field(() => DateTime, { nullable: true })
  enabledAt!: Date | null;

  @Field(() => String, { nullable: true })
  enabledBy!: string | null;

  @Field(() => CertificateAuthority)
  certificateAuthority!: CertificateAuthority;

  @Field(() => Int, { description: 'Devices that would not be fully manageable (or are not, once enabled).' })
  devicesNotReady!: number;
}
