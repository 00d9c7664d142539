import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { AuthenticationStatus } from './enums.js';
import { FLEET_ID, FLEET_ID_DESCRIPTION } from './fleet.js';
import { DateTime } from './scalars.js';
import type { AuthStatus } from '../domain/statuses.js';

@ObjectType({ description: 'One item of the Security settings chart: a status and how many devices have it.' })
export class AuthStatusCount {
  @Field(() => AuthenticationStatus, { description: 'The chart item.' })
  status!: AuthStatus;

  @Field(() => String, { description: "The chart item's label, e.g. 'Authentication succeeded'." })
  label!: string;

  @Field(() => Int, { description: 'Number of devices with this status.' })
  count!: number;
}

@ObjectType({
  description:
    "The Security settings chart: how many devices of the fleet have each authentication status. One per fleet (id 'fleet'); the query authStatusSummary reads it and the subscription authStatusSummaryChanged pushes it.",
})
export class AuthStatusSummary {
  @Field(() => ID, { description: FLEET_ID_DESCRIPTION })
  get id(): string {
    return FLEET_ID;
  }

  @Field(() => Int, { description: 'Number of devices in the fleet: the sum of the four counts.' })
  total!: number;

  @Field(() => Int, { description: 'Number of devices in AUTHENTICATION_SUCCEEDED.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Number of devices in NO_AUTHENTICATION_INFO.' })
  noAuthenticationInfo!: number;

  @Field(() => Int, { description: 'Number of devices in AUTHENTICATION_FAILED.' })
  failed!: number;

  @Field(() => Int, { description: 'Number of devices in CLIENT_AGENTS_MUST_UPGRADE.' })
  mustUpgrade!: number;

  @Field(() => Float, { description: 'succeeded / total, from 0 to 1; 0 when total is 0.' })
  successRate!: number;

  @Field(() => [AuthStatusCount], { description: 'All four chart items, always, in the order of AuthenticationStatus.' })
  items!: AuthStatusCount[];

  @Field(() => Boolean, {
    description: 'Whether client certificate-based security is enabled (SecuritySettings.clientCertificateSecurityEnabled).',
  })
  securityEnabled!: boolean;

  @Field(() => DateTime, { description: 'When these counts were read (ISO 8601, UTC).' })
  asOf!: Date;
}
